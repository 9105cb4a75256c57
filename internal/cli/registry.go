package cli

import (
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// registryFlags are the registry access flags of every command that talks to
// registries, declared once so that --authfile, --ca-file and
// --insecure-registry mean the same everywhere.
type registryFlags struct {
	authFile       string
	caFiles        []string
	certDirs       []string
	insecure       []string
	requestTimeout time.Duration

	cmd *cobra.Command // for -v, which kubeFlags may declare too
}

// defaultRequestTimeout bounds one registry request, retries included, so
// a hung mirror costs 30 s per request at most (before, four attempts and
// their backoffs: 42 s to 122 s) before the next pull source is tried.
const defaultRequestTimeout = 30 * time.Second

func (f *registryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.authFile, "authfile", "",
		"credentials file: a docker config.json, a containers auth.json, or a Kubernetes Secret of type kubernetes.io/dockerconfigjson (YAML or JSON); "+
			"default: $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json and ~/.docker/config.json, as podman reads them")
	f.registerTrust(cmd)
}

// registerTrust declares the flags without --authfile, for the operator: it
// authenticates with each HostedCluster's pull secret, never a local file.
func (f *registryFlags) registerTrust(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().DurationVar(&f.requestTimeout, "request-timeout", defaultRequestTimeout,
		"give up on one registry request (retries included) when no answer came within this long, and try the next pull source; 0: no bound beyond 30s per attempt")
	registerVerbose(cmd)
	cmd.Flags().StringArrayVar(&f.caFiles, "ca-file", nil,
		"PEM file of CA certificates to trust for every registry, on top of the system roots; repeatable")
	cmd.Flags().StringArrayVar(&f.certDirs, "cert-dir", nil,
		"directory laid out like /etc/containers/certs.d (<host[:port]>/*.crt): CAs trusted for that registry only; repeatable")
	cmd.Flags().StringArrayVar(&f.insecure, "insecure-registry", nil,
		"HOST[:PORT] to reach without TLS verification, plain HTTP allowed; exactly as written (m.local does not cover m.local:5000); repeatable")
}

func (f *registryFlags) options() []registry.Option {
	opts := []registry.Option{registry.WithRequestTimeout(f.requestTimeout)}
	if w := traceWriter(f.cmd); w != nil {
		opts = append(opts, registry.WithTrace(w))
	}
	if f.authFile != "" {
		opts = append(opts, registry.WithAuthFile(f.authFile))
	}
	for _, c := range f.caFiles {
		opts = append(opts, registry.WithCAFile(c))
	}
	for _, d := range f.certDirs {
		opts = append(opts, registry.WithCertDir(d))
	}
	for _, h := range f.insecure {
		opts = append(opts, registry.WithInsecureRegistry(h))
	}
	return opts
}

// registerVerbose declares -v once per command, whichever flag group (of
// registries or of the cluster) asks first.
func registerVerbose(cmd *cobra.Command) {
	if cmd.Flags().Lookup("verbose") == nil {
		cmd.Flags().BoolP("verbose", "v", false,
			"trace every request to registries and clusters on stderr: method, URL (credentials and signed parameters redacted), status, duration")
	}
}

// traceWriter is where -v traces go: stderr when -v is given, else nil.
func traceWriter(cmd *cobra.Command) io.Writer {
	if cmd == nil {
		return nil
	}
	if v, _ := cmd.Flags().GetBool("verbose"); v {
		return cmd.ErrOrStderr()
	}
	return nil
}

// isTerminal reports whether w is a terminal, the only place a progress bar
// belongs: in a pipe or a log it is noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
