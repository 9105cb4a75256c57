package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

func newOverridesCommand() *cobra.Command {
	var sets setFlags
	var format string
	cmd := &cobra.Command{
		Use:   "overrides [-f PATH]... [--format flag|env]",
		Short: "Print the override string HyperShift components read for these mirror sets",
		Long: `Overrides prints what the mirror sets mean in one of the two strings hosted
control plane components read:

  --format flag  the value of --registry-overrides: one replacement per source
                 (its first mirror in try order), sorted by source
  --format env   the value of OPENSHIFT_IMG_OVERRIDES: every mirror of every
                 source, in try order (HyperShift's own writer sorts them and
                 so loses priority; this one does not)

Neither string can express NeverContactSource or digest-versus-tag mirrors:
compare with 'hcpmirror registries-conf' for the full picture.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := sets.compile(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			env, flag := overrides.FromConfig(cfg)
			var out string
			switch format {
			case "flag":
				out, err = overrides.EncodeFlag(flag)
			case "env":
				out, err = overrides.EncodeEnv(env)
			default:
				return fmt.Errorf("--format %q: want flag or env", format)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out)
			return nil
		},
	}
	sets.register(cmd)
	cmd.Flags().StringVar(&format, "format", "flag", "flag (--registry-overrides) or env (OPENSHIFT_IMG_OVERRIDES)")
	return cmd
}
