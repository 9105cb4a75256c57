package cli

import (
	"fmt"
	"io"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
)

func newRegistriesConfCommand() *cobra.Command {
	var sets setFlags
	var outFile string
	out := newOutputFlags(formatText, formatJSON, formatYAML).acceptLegacyPath("output-file", &outFile)
	cmd := &cobra.Command{
		Use:   "registries-conf [-f PATH]... [--output-file FILE] [-o text|json|yaml]",
		Short: "Print the registries.conf nodes get for these mirror sets",
		Long: `Registries-conf renders the mirror sets as the containers-registries.conf(5)
file the machine-config-operator writes to every node: one [[registry]] per
source, sorted, with the merged digest mirrors (pull-from-mirror =
"digest-only") and then the tag mirrors ("tag-only"), and blocked = true for
NeverContactSource. It is the complete meaning of the sets, where the
override strings HyperShift components read are only a lossy summary.

Invalid sets (anything the API server or the machine-config-operator would
refuse) are an error, and then nothing is printed or written. With
--output-file the file is replaced atomically. -o json and -o yaml print the
same file's structure (its TOML tables as objects), for scripts.

-o FILE, which named the file before -o meant the format, still works in this
release, with a warning.`,
		Example: `  hcpmirror registries-conf -f examples/mirrorsets
  hcpmirror registries-conf -f idms.yaml --output-file /tmp/registries.conf
  hcpmirror registries-conf -f idms.yaml -o json | jq '.registry[].location'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if outFile != "" && !out.is(formatText) {
				return usageErrorf("--output-file writes registries.conf itself; -o %s only prints", out.format)
			}
			cfg, _, err := sets.compile(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			conf := cfg.RegistriesConf()
			if outFile != "" {
				return atomicfile.WriteFile(outFile, conf, atomicfile.DefaultPerm)
			}
			var tables map[string]any
			if !out.is(formatText) {
				if _, err := toml.Decode(string(conf), &tables); err != nil {
					return fmt.Errorf("re-reading the rendered registries.conf: %w", err)
				}
			}
			return out.print(cmd.OutOrStdout(), tables, func(w io.Writer) error {
				_, err := w.Write(conf)
				return err
			})
		},
	}
	sets.register(cmd)
	cmd.Flags().StringVar(&outFile, "output-file", "", "write to this file (replaced atomically) instead of standard output")
	out.register(cmd)
	return cmd
}
