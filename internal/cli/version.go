package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/internal/version"
)

func newVersionCommand() *cobra.Command {
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "version [-o text|json|yaml]",
		Short: "Print the version, commit, Go version and build date of this binary",
		Long: `Version identifies this binary: the release it was built from (git describe),
the commit, the Go toolchain and the build date, all recorded when it was built
(make build sets them). The same text is printed by 'hcpmirror --version'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			return out.print(cmd.OutOrStdout(), info, func(w io.Writer) error {
				_, err := io.WriteString(w, versionText(info))
				return err
			})
		},
	}
	out.register(cmd)
	return cmd
}

// versionText is the text form of `version` and `--version`.
func versionText(i version.Info) string {
	return fmt.Sprintf("hcpmirror %s\n  commit:     %s\n  built:      %s\n  go version: %s\n  platform:   %s\n",
		i.Version, i.Commit, i.BuildDate, i.GoVersion, i.Platform)
}

// registerVersionFlag gives the root command --version. It is declared here,
// not by cobra, whose flag would take -v (the request tracing of the commands
// that talk to registries and clusters), and whose version output goes
// through text/template: executing a template keeps every exported method of
// every linked type alive, which made the shipped binary 15 MB larger.
func registerVersionFlag(root *cobra.Command) {
	show := root.Flags().Bool("version", false, "print the version of this binary and exit")
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if !*show {
			return cmd.Help()
		}
		_, err := io.WriteString(cmd.OutOrStdout(), versionText(version.Get()))
		return err
	}
}
