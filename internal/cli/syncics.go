package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
)

func newSyncICSCommand() *cobra.Command {
	var sets setFlags
	out := newOutputFlags(formatYAML, formatJSON)
	cmd := &cobra.Command{
		Use:   "sync-ics [-f PATH]... [-o yaml|json]",
		Short: "Derive a HostedCluster's imageContentSources from the management mirror sets",
		Long: `Sync-ics prints the spec.imageContentSources a HostedCluster needs so that its
nodes pull release and other images from the same mirrors, in the same order,
as the management cluster's control plane does. imageContentSources is the
only source of truth for the data plane; the management sets never reach the
nodes by themselves.

The field has no mirrorSourcePolicy and no tag mirrors: what cannot be carried
is listed on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := sets.compile(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			res := cfg.ImageContentSources()
			spec := struct {
				ImageContentSources []hypershiftv1beta1.ImageContentSource `json:"imageContentSources"`
			}{ImageContentSources: []hypershiftv1beta1.ImageContentSource{}}
			for _, e := range res.Entries {
				spec.ImageContentSources = append(spec.ImageContentSources, hypershiftv1beta1.ImageContentSource{Source: e.Source, Mirrors: e.Mirrors})
			}
			for _, l := range res.Lost {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", l)
			}
			return out.print(cmd.OutOrStdout(), spec, nil)
		},
	}
	sets.register(cmd)
	out.register(cmd)
	return cmd
}
