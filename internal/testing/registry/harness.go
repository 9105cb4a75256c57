package registry

import (
	"testing"

	labregistry "github.com/hcpmirror/hcpmirror/internal/lab/registry"
)

// The registry itself is the lab's; these names let tests use it through
// this package alone.
type (
	// Registry is a running in-process registry.
	Registry = labregistry.Registry
	// Option configures a registry.
	Option = labregistry.Option
	// Middleware wraps the registry's handler, for fault injection.
	Middleware = labregistry.Middleware
)

// Options and constructors of the lab registry; see there for what each
// does.
var (
	Listen        = labregistry.Listen
	Serve         = labregistry.Serve
	WithTLS       = labregistry.WithTLS
	WithTLSNames  = labregistry.WithTLSNames
	WithCertDir   = labregistry.WithCertDir
	WithDataDir   = labregistry.WithDataDir
	WithBasicAuth = labregistry.WithBasicAuth
	WithHandler   = labregistry.WithHandler
	WithLog       = labregistry.WithLog
	WithReady     = labregistry.WithReady
)

// Start runs a registry for the duration of a test, stopping it in
// t.Cleanup. It fails the test if the registry cannot start.
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	r, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("starting test registry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("stopping test registry %s: %v", r.Addr, err)
		}
	})
	return r
}
