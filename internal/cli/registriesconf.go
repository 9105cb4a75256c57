package cli

import (
	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
)

func newRegistriesConfCommand() *cobra.Command {
	var sets setFlags
	var outFile string
	cmd := &cobra.Command{
		Use:   "registries-conf [-f PATH]... [-o FILE]",
		Short: "Print the registries.conf nodes get for these mirror sets",
		Long: `Registries-conf renders the mirror sets as the containers-registries.conf(5)
file the machine-config-operator writes to every node: one [[registry]] per
source, sorted, with the merged digest mirrors (pull-from-mirror =
"digest-only") and then the tag mirrors ("tag-only"), and blocked = true for
NeverContactSource. It is the complete meaning of the sets, where the
override strings HyperShift components read are only a lossy summary.

Invalid sets (anything the API server or the machine-config-operator would
refuse) are an error, and then nothing is printed or written. With -o the
file is replaced atomically.`,
		Example: `  hcpmirror registries-conf -f examples/mirrorsets
  hcpmirror registries-conf -f idms.yaml -o /tmp/registries.conf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := sets.compile(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			conf := cfg.RegistriesConf()
			if outFile == "" {
				_, err := cmd.OutOrStdout().Write(conf)
				return err
			}
			return atomicfile.WriteFile(outFile, conf, atomicfile.DefaultPerm)
		},
	}
	sets.register(cmd)
	cmd.Flags().StringVarP(&outFile, "output", "o", "", "write to this file (replaced atomically) instead of standard output")
	return cmd
}
