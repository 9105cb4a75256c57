package registry

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"golang.org/x/crypto/bcrypt"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"

	// Registered by name in distribution's factories; the configuration
	// below refers to them as "htpasswd", "inmemory" and "filesystem".
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Option configures a registry started by Listen or Serve.
type Option func(*options) error

type options struct {
	tls         bool
	tlsNames    []string
	certDir     string
	dataDir     string
	user        string
	password    string
	middlewares []Middleware
	log         io.Writer
	ready       func(*Registry)
}

// WithTLS serves HTTPS with a certificate from a CA made for this registry
// alone. Clients must trust Registry.CAFile or Registry.CertPool, or list the
// registry as insecure; that is what TLS tests exercise.
func WithTLS() Option {
	return func(o *options) error {
		o.tls = true
		return nil
	}
}

// WithTLSNames adds host names or IP addresses to the server certificate,
// beyond 127.0.0.1, ::1 and localhost, for a registry that clients reach by
// another name. It implies WithTLS.
func WithTLSNames(names ...string) Option {
	return func(o *options) error {
		o.tls = true
		o.tlsNames = append(o.tlsNames, names...)
		return nil
	}
}

// WithCertDir writes the CA certificate to dir/ca.crt and keeps it after the
// registry stops, so a person or another process can be pointed at it. By
// default the CA goes to a temporary directory that is removed on Close. It
// implies WithTLS.
func WithCertDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("certificate directory is empty")
		}
		o.tls = true
		o.certDir = dir
		return nil
	}
}

// WithDataDir keeps the registry's content in dir, on disk, so that it
// survives a restart: a registry started again on the same directory serves
// everything pushed before. Without it content lives in memory and is gone
// when the registry stops. The directory is created if missing. It is also
// the faster store for large layers: the in-memory driver copies a blob's
// whole buffer on every write.
func WithDataDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("data directory is empty")
		}
		o.dataDir = dir
		return nil
	}
}

// WithBasicAuth requires HTTP basic auth with this user and password, checked
// by distribution's htpasswd access controller (no token server). Without
// it the registry is anonymous and accepts pushes from anyone.
func WithBasicAuth(user, password string) Option {
	return func(o *options) error {
		if o.user != "" {
			return errors.New("basic auth given twice")
		}
		if user == "" || strings.Contains(user, ":") {
			return fmt.Errorf("basic auth user %q is empty or contains ':'", user)
		}
		if password == "" {
			return errors.New("basic auth password is empty")
		}
		o.user, o.password = user, password
		return nil
	}
}

// Middleware wraps the registry's handler. Tests use it to put faults in
// front of a real registry, the way a flaky proxy or an overloaded mirror
// would, instead of replacing the registry with a mock.
type Middleware func(http.Handler) http.Handler

// WithHandler wraps the registry's handler, for fault injection. Wrappers
// apply in the order given: the first sees each request first. Request
// counters sit outside all of them, so injected failures are counted.
func WithHandler(mw ...Middleware) Option {
	return func(o *options) error {
		for _, m := range mw {
			if m == nil {
				return errors.New("nil handler wrapper")
			}
		}
		o.middlewares = append(o.middlewares, mw...)
		return nil
	}
}

// WithLog sends this registry's distribution log lines to w. Without it they
// are dropped: tests and the CLI decide what gets printed, not the library.
func WithLog(w io.Writer) Option {
	return func(o *options) error {
		o.log = w
		return nil
	}
}

// WithReady is called by Serve once the registry accepts connections, with
// its address and CA, so a command can tell the user where it is.
func WithReady(f func(*Registry)) Option {
	return func(o *options) error {
		o.ready = f
		return nil
	}
}

// Registry is a running in-process registry.
type Registry struct {
	// Addr is the host:port clients dial and image references start
	// with, such as "127.0.0.1:41234".
	Addr string
	// CAFile is the PEM file of the CA that signed the server
	// certificate; empty without TLS.
	CAFile string
	// CertPool trusts exactly that CA; nil without TLS.
	CertPool *x509.CertPool
	// Username and Password are the basic auth credentials; empty for an
	// anonymous registry.
	Username, Password string
	// AuthFile is a containers-auth.json file (the format podman, skopeo
	// and hcpmirror's --authfile read) holding the basic auth credentials
	// for Addr; empty for an anonymous registry. It is written to the data
	// directory when there is one (and kept), else next to the registry's
	// temporary files (and removed on Close).
	AuthFile string
	// DataDir is where content is stored; empty for in-memory storage.
	DataDir string

	counters *counters
	srv      *http.Server
	app      *handlers.App
	logID    string
	tmpDir   string
	done     chan struct{} // closed when the server goroutine returns
	serveErr error         // why it returned, unless it was Close

	closeOnce sync.Once
	closeErr  error
}

// Serve runs a registry on addr until ctx is cancelled, for the
// `hcpmirror-lab registry serve` command. It prints nothing; use WithReady to
// learn the address and CA, and WithLog to see distribution's log. A
// cancelled ctx is a normal stop and returns nil.
func Serve(ctx context.Context, addr string, opts ...Option) error {
	r, err := Listen(addr, opts...)
	if err != nil {
		return err
	}
	var o options
	for _, opt := range opts {
		_ = opt(&o) // already validated by Listen
	}
	if o.ready != nil {
		o.ready(r)
	}
	select {
	case <-ctx.Done():
		return r.Close()
	case <-r.done:
		return r.Close()
	}
}

// Listen starts a registry on addr ("127.0.0.1:0" picks a free port) and
// returns once it accepts connections. The caller must Close it.
func Listen(addr string, opts ...Option) (*Registry, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	r := &Registry{
		Addr:     ln.Addr().String(),
		counters: newCounters(),
		done:     make(chan struct{}),
	}
	ok := false
	defer func() {
		if !ok {
			_ = ln.Close()
			if r.tmpDir != "" {
				_ = os.RemoveAll(r.tmpDir)
			}
		}
	}()

	storage := configuration.Storage{"inmemory": configuration.Parameters{}}
	if o.dataDir != "" {
		dir, err := filepath.Abs(o.dataDir)
		if err != nil {
			return nil, fmt.Errorf("data directory %s: %w", o.dataDir, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		storage = configuration.Storage{"filesystem": configuration.Parameters{"rootdirectory": dir}}
		r.DataDir = dir
	}

	var tlsConf *tls.Config
	if o.tls || o.user != "" {
		r.tmpDir, err = os.MkdirTemp("", "hcpmirror-registry-")
		if err != nil {
			return nil, fmt.Errorf("creating registry directory: %w", err)
		}
	}
	if o.tls {
		now := time.Now()
		// With a data directory the CA is kept there too, so a restarted
		// registry is trusted through the same CA file; otherwise each
		// registry gets a fresh one.
		var ca *authority
		if r.DataDir != "" {
			caDir := filepath.Join(r.DataDir, tlsDirName)
			ca, err = persistentAuthority(caDir, now)
			r.CAFile = filepath.Join(caDir, caFileName)
		} else {
			ca, err = newAuthority(now)
		}
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		cert, err := ca.serverCert(append([]string{host}, o.tlsNames...), now)
		if err != nil {
			return nil, err
		}
		if o.certDir != "" || r.CAFile == "" {
			dir := o.certDir
			if dir == "" {
				dir = r.tmpDir
			}
			if r.CAFile, err = ca.writeCert(dir); err != nil {
				return nil, err
			}
		}
		r.CertPool = ca.pool()
		tlsConf = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			// HTTP/1.1 only: DropConnections hijacks connections,
			// which HTTP/2 does not allow.
			NextProtos: []string{"http/1.1"},
		}
	}

	config := &configuration.Configuration{}
	config.Storage = storage
	config.Storage["delete"] = configuration.Parameters{"enabled": true}
	// The purger is a goroutine that outlives nothing useful here.
	config.Storage["maintenance"] = configuration.Parameters{
		"uploadpurging": map[any]any{"enabled": false},
	}
	config.HTTP.Secret = randomHex(16)
	if o.user != "" {
		htpasswdPath := filepath.Join(r.tmpDir, "htpasswd")
		if err := writeHtpasswd(htpasswdPath, o.user, o.password); err != nil {
			return nil, err
		}
		config.Auth = configuration.Auth{
			"htpasswd": configuration.Parameters{
				"realm": "hcpmirror-test-registry",
				"path":  htpasswdPath,
			},
		}
		r.Username, r.Password = o.user, o.password
		authDir := r.DataDir
		if authDir == "" {
			authDir = r.tmpDir
		}
		r.AuthFile = filepath.Join(authDir, authFileName)
		if err := writeAuthFile(r.AuthFile, r.Addr, o.user, o.password); err != nil {
			return nil, err
		}
	}

	lr := installRouter()
	r.logID = lr.register(o.log)
	baseCtx := context.WithValue(context.Background(), instanceKey, r.logID) //nolint:staticcheck // distribution reads this exact string key
	r.app = handlers.NewApp(baseCtx, config)

	var h http.Handler = r.app
	for i := len(o.middlewares) - 1; i >= 0; i-- {
		h = o.middlewares[i](h)
	}
	h = r.counters.wrap(h)

	r.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          log.New(errorLogWriter(o.log), "", log.LstdFlags),
		// Non-nil and empty: never negotiate HTTP/2 (see NextProtos).
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	var l net.Listener = countingListener{Listener: ln, c: r.counters}
	if tlsConf != nil {
		l = tls.NewListener(l, tlsConf)
	}
	go func() {
		defer close(r.done)
		if err := r.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			r.serveErr = fmt.Errorf("serving registry on %s: %w", r.Addr, err)
		}
	}()
	ok = true
	return r, nil
}

// Close stops the registry, dropping open connections, and removes its
// temporary files. Images pushed to it are gone, unless it keeps them in a
// data directory (WithDataDir). It is safe to call twice.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		err := r.srv.Close()
		<-r.done
		if r.serveErr != nil {
			err = r.serveErr
		}
		if shutdownErr := r.app.Shutdown(); shutdownErr != nil && err == nil {
			err = shutdownErr
		}
		installRouter().unregister(r.logID)
		if r.tmpDir != "" {
			if rmErr := os.RemoveAll(r.tmpDir); rmErr != nil && err == nil {
				err = rmErr
			}
		}
		r.closeErr = err
	})
	return r.closeErr
}

// Scheme is "https" with TLS and "http" without.
func (r *Registry) Scheme() string {
	if r.CertPool != nil {
		return "https"
	}
	return "http"
}

// URL is the registry's base URL, such as "https://127.0.0.1:41234".
func (r *Registry) URL() string { return r.Scheme() + "://" + r.Addr }

// Ref prefixes repository path p (with tag or digest) with the registry's
// address, giving a reference such as "127.0.0.1:41234/ocp/release:4.18".
func (r *Registry) Ref(p string) string {
	return r.Addr + "/" + strings.TrimPrefix(p, "/")
}

// Connections is the number of TCP connections accepted so far, including
// those whose TLS handshake failed.
func (r *Registry) Connections() int {
	c, _, _, _ := r.counters.snapshot()
	return c
}

// Requests is the number of HTTP requests received so far, faulted or not.
func (r *Registry) Requests() int {
	_, t, _, _ := r.counters.snapshot()
	return t
}

// RequestsByPath counts requests per URL path (no query), such as
// "/v2/ocp/release/manifests/4.18".
func (r *Registry) RequestsByPath() map[string]int {
	_, _, p, _ := r.counters.snapshot()
	return p
}

// RequestsByHost counts requests per Host header, to see which name a
// client used to reach this registry.
func (r *Registry) RequestsByHost() map[string]int {
	_, _, _, h := r.counters.snapshot()
	return h
}

// writeHtpasswd writes a one-user htpasswd file. The minimum bcrypt cost
// keeps every authenticated request cheap; the secret is a test fixture.
func writeHtpasswd(path, user, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("hashing password: %w", err)
	}
	line := user + ":" + string(hash) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		return fmt.Errorf("writing htpasswd file: %w", err)
	}
	return nil
}

// tlsDirName is where a data directory keeps its CA.
const tlsDirName = "tls"

// authFileName is the name of the auth file a registry with basic auth
// writes, the name podman gives it.
const authFileName = "auth.json"

// writeAuthFile writes a containers-auth.json file with one entry, for addr,
// readable by its owner only: it holds the password.
func writeAuthFile(path, addr, user, password string) error {
	b, err := json.MarshalIndent(map[string]any{
		"auths": map[string]any{
			addr: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))},
		},
	}, "", "\t")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing auth file: %w", err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errorLogWriter is where net/http's own messages (such as failed TLS
// handshakes, which TLS tests cause on purpose) go: the WithLog writer, or
// nowhere.
func errorLogWriter(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
