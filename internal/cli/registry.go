package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// registryFlags are the registry access flags of every command that talks to
// registries, declared once so that --authfile, --ca-file and
// --insecure-registry mean the same everywhere.
type registryFlags struct {
	authFile string
	caFiles  []string
	certDirs []string
	insecure []string
}

func (f *registryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.authFile, "authfile", "",
		"credentials file (docker config.json or a pull secret); default: $REGISTRY_AUTH_FILE, else ~/.docker/config.json if present")
	f.registerTrust(cmd)
}

// registerTrust declares only the TLS flags, for the operator: it
// authenticates with each HostedCluster's pull secret, never a local file.
func (f *registryFlags) registerTrust(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.caFiles, "ca-file", nil,
		"PEM file of CA certificates to trust for every registry, on top of the system roots; repeatable")
	cmd.Flags().StringArrayVar(&f.certDirs, "cert-dir", nil,
		"directory laid out like /etc/containers/certs.d (<host[:port]>/*.crt): CAs trusted for that registry only; repeatable")
	cmd.Flags().StringArrayVar(&f.insecure, "insecure-registry", nil,
		"HOST[:PORT] to reach without TLS verification, plain HTTP allowed; exactly as written (m.local does not cover m.local:5000); repeatable")
}

func (f *registryFlags) options() []registry.Option {
	var opts []registry.Option
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

// isTerminal reports whether w is a terminal, the only place a progress bar
// belongs: in a pipe or a log it is noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
