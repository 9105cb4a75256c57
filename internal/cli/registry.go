package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
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

func newRegistryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run a local registry to try hcpmirror with",
	}
	cmd.AddCommand(newRegistryServeCommand())
	return cmd
}

func newRegistryServeCommand() *cobra.Command {
	var (
		addr     string
		useTLS   bool
		htpasswd string
		certDir  string
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--tls] [--htpasswd USER:PASSWORD]",
		Short: "Serve an in-memory OCI registry until interrupted",
		Long: `Serve runs an OCI distribution registry inside this process, with in-memory
storage, until it is interrupted. It is a stand-in for a disconnected
environment's mirror registry: publish a synthetic release to it with
"hcpmirror release publish", then resolve, inspect and verify that release
through the mirror sets publish prints.

With --tls the registry presents a certificate from a CA made for it alone;
the CA's path is printed, to pass as --ca-file. With --htpasswd it requires
basic auth. Everything pushed is lost when it stops.`,
		Example: `  hcpmirror registry serve --addr 127.0.0.1:5000
  hcpmirror registry serve --tls --htpasswd demo:demo --cert-dir ./certs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts []testreg.Option
			if useTLS {
				opts = append(opts, testreg.WithTLS())
			}
			if certDir != "" {
				opts = append(opts, testreg.WithCertDir(certDir))
			}
			if htpasswd != "" {
				user, pass, ok := strings.Cut(htpasswd, ":")
				if !ok {
					return errors.New("--htpasswd: want USER:PASSWORD")
				}
				opts = append(opts, testreg.WithBasicAuth(user, pass))
			}
			out := cmd.OutOrStdout()
			opts = append(opts, testreg.WithReady(func(r *testreg.Registry) {
				fmt.Fprintf(out, "registry serving on %s (%s)\n", r.Addr, r.Scheme())
				access := "--insecure-registry " + r.Addr
				if r.CAFile != "" {
					fmt.Fprintf(out, "CA certificate: %s\n", r.CAFile)
					access = "--ca-file " + r.CAFile
				}
				if r.Username != "" {
					fmt.Fprintf(out, "basic auth user: %s\n", r.Username)
				}
				publishAccess := access
				if r.CAFile == "" {
					publishAccess = "--insecure"
				}
				fmt.Fprintf(out, "try:\n  hcpmirror release publish --to %s %s --components 20 --mirrorsets-out mirrorsets.yaml\n", r.Addr, publishAccess)
				fmt.Fprintf(out, "  hcpmirror verify -f mirrorsets.yaml %s --release <the release printed by publish>\n", access)
				fmt.Fprintln(out, "press Ctrl-C to stop; images are kept in memory only")
			}))
			return testreg.Serve(cmd.Context(), addr, opts...)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:5000", "address to listen on (port 0 picks a free one)")
	cmd.Flags().BoolVar(&useTLS, "tls", false, "serve HTTPS with a certificate from a fresh CA")
	cmd.Flags().StringVar(&htpasswd, "htpasswd", "", "require basic auth with USER:PASSWORD")
	cmd.Flags().StringVar(&certDir, "cert-dir", "", "write the CA certificate to DIR/ca.crt and keep it after stopping (implies --tls)")
	return cmd
}
