package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/internal/cli"

	labregistry "github.com/hcpmirror/hcpmirror/internal/lab/registry"
)

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
		addr         string
		useTLS       bool
		htpasswd     string
		htpasswdFile string
		certDir      string
		dataDir      string
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--tls] [--htpasswd USER:PASSWORD | --htpasswd-file FILE] [--data-dir DIR]",
		Short: "Serve an OCI registry until interrupted",
		Long: `Serve runs an OCI distribution registry inside this process until it is
interrupted. It is a stand-in for a disconnected environment's mirror
registry: publish a synthetic release to it with "hcpmirror-lab release
publish", then resolve, inspect and verify that release with hcpmirror
through the mirror sets publish prints.

Images are kept in memory and lost when it stops, unless --data-dir names a
directory to keep them in: a registry started again on the same directory
serves everything pushed before.

With --tls the registry presents a certificate from a CA made for it alone;
the CA's path is printed, to pass as --ca-file. With --data-dir the CA is
kept there (tls/ca.crt and its key) and reused on every start, so clients
keep trusting the same file; otherwise each start makes a new one.
With --htpasswd USER:PASSWORD, or --htpasswd-file FILE holding
USER:PASSWORD on its first line (which keeps the password off the command
line), it requires basic auth and writes an auth file (auth.json, the format
podman, skopeo and hcpmirror's --authfile read) for its address, in the data
directory or else in a temporary one removed when it stops.`,
		Example: `  hcpmirror-lab registry serve --addr 127.0.0.1:5000
  hcpmirror-lab registry serve --tls --htpasswd-file ./lab-credentials --cert-dir ./certs --data-dir ./registry-data`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{cli.AnnotationStopsOnSignal: "true"}, // runs until interrupted
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts []labregistry.Option
			if useTLS {
				opts = append(opts, labregistry.WithTLS())
			}
			if certDir != "" {
				opts = append(opts, labregistry.WithCertDir(certDir))
			}
			if dataDir != "" {
				opts = append(opts, labregistry.WithDataDir(dataDir))
			}
			cred, flag := htpasswd, "--htpasswd"
			if htpasswdFile != "" {
				var err error
				if cred, err = readCredentials(htpasswdFile); err != nil {
					return fmt.Errorf("--htpasswd-file: %w", err)
				}
				flag = "--htpasswd-file " + htpasswdFile
			}
			if cred != "" {
				user, pass, ok := strings.Cut(cred, ":")
				if !ok {
					return fmt.Errorf("%s: want USER:PASSWORD", flag)
				}
				opts = append(opts, labregistry.WithBasicAuth(user, pass))
			}
			out := cmd.OutOrStdout()
			opts = append(opts, labregistry.WithReady(func(r *labregistry.Registry) {
				fmt.Fprintf(out, "registry serving on %s (%s)\n", r.Addr, r.Scheme())
				access := "--insecure-registry " + r.Addr
				publishAccess := "--insecure"
				if r.CAFile != "" {
					fmt.Fprintf(out, "CA certificate: %s\n", r.CAFile)
					access = "--ca-file " + r.CAFile
					publishAccess = access
				}
				if r.AuthFile != "" {
					fmt.Fprintf(out, "basic auth user: %s\n", r.Username)
					fmt.Fprintf(out, "auth file: %s\n", r.AuthFile)
					access += " --authfile " + r.AuthFile
					publishAccess += " --authfile " + r.AuthFile
				}
				kept := "images are kept in memory only"
				if r.DataDir != "" {
					fmt.Fprintf(out, "data directory: %s\n", r.DataDir)
					kept = "images are kept in " + r.DataDir
				}
				fmt.Fprintf(out, "try:\n  hcpmirror-lab release publish --to %s %s --components 20 --mirrorsets-out mirrorsets.yaml\n", r.Addr, publishAccess)
				fmt.Fprintf(out, "  hcpmirror verify -f mirrorsets.yaml %s --release <the release printed by publish>\n", access)
				fmt.Fprintf(out, "press Ctrl-C to stop; %s\n", kept)
			}))
			return labregistry.Serve(cmd.Context(), addr, opts...)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:5000", "address to listen on (port 0 picks a free one)")
	cmd.Flags().BoolVar(&useTLS, "tls", false, "serve HTTPS with a certificate from a fresh CA")
	cmd.Flags().StringVar(&htpasswd, "htpasswd", "", "require basic auth with USER:PASSWORD")
	cmd.Flags().StringVar(&htpasswdFile, "htpasswd-file", "", "require basic auth with the USER:PASSWORD on the first line of FILE")
	cmd.Flags().StringVar(&certDir, "cert-dir", "", "write the CA certificate to DIR/ca.crt and keep it after stopping (implies --tls)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "keep images in DIR across restarts (default: in memory)")
	cmd.MarkFlagsMutuallyExclusive("htpasswd", "htpasswd-file")
	return cmd
}

// readCredentials reads USER:PASSWORD from the first line of a file.
func readCredentials(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if line = strings.TrimRight(line, "\r\n"); line == "" {
		return "", fmt.Errorf("%s: first line empty, want USER:PASSWORD", path)
	}
	return line, nil
}
