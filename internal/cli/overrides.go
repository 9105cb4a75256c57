package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

// overridesOutput is `overrides -o json`; its field names are a stable
// interface for scripts.
type overridesOutput struct {
	Format string `json:"format"`
	Value  string `json:"value"`
	// Overrides is the decoded value: source to replacement (flag), or
	// source to mirrors in try order (env).
	Overrides any `json:"overrides"`
}

func newOverridesCommand() *cobra.Command {
	var sets setFlags
	var format string
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "overrides [-f PATH]... [--format flag|env] [-o text|json|yaml]",
		Short: "Print the override string HyperShift components read for these mirror sets",
		Long: `Overrides prints what the mirror sets mean in one of the two strings hosted
control plane components read:

  --format flag  the value of --registry-overrides: one replacement per source
                 (its first mirror in try order), sorted by source
  --format env   the value of OPENSHIFT_IMG_OVERRIDES: every mirror of every
                 source, in try order (HyperShift's own writer sorts them and
                 so loses priority; this one does not)

Neither string can express NeverContactSource or digest-versus-tag mirrors:
compare with 'hcpmirror registries-conf' for the full picture.

-o json and -o yaml print the string with its decoded form: for flag, each
source's replacement; for env, each source's mirrors in try order.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "flag" && format != "env" {
				return usageErrorf("--format %q: want flag or env", format)
			}
			cfg, _, err := sets.compile(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			env, flag := overrides.FromConfig(cfg)
			res := overridesOutput{Format: format}
			if format == "flag" {
				res.Value, err = overrides.EncodeFlag(flag)
				res.Overrides = flag
			} else {
				res.Value, err = overrides.EncodeEnv(env)
				res.Overrides = env
			}
			if err != nil {
				return err
			}
			return out.print(cmd.OutOrStdout(), res, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, res.Value)
				return err
			})
		},
	}
	sets.register(cmd)
	cmd.Flags().StringVar(&format, "format", "flag", "flag (--registry-overrides) or env (OPENSHIFT_IMG_OVERRIDES)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{
		"flag\tthe value of --registry-overrides", "env\tthe value of OPENSHIFT_IMG_OVERRIDES"}, cobra.ShellCompDirectiveNoFileComp))
	out.register(cmd)
	return cmd
}
