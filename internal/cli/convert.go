package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/ocmirror"
)

func newConvertCommand() *cobra.Command {
	var sets setFlags
	var to, outDir string
	out := newOutputFlags(formatYAML, formatJSON).acceptLegacyPath("output-dir", &outDir)
	cmd := &cobra.Command{
		Use:   "convert [-f PATH]... --to idms [--output-dir DIR] [-o yaml|json]",
		Short: "Convert ImageContentSourcePolicies to ImageDigestMirrorSets",
		Long: `Convert replaces each ImageContentSourcePolicy by the ImageDigestMirrorSet
OpenShift deprecated it for, as 'oc adm migrate icsp' does: same name, labels
and annotations, one entry per entry, no mirrorSourcePolicy. Unlike oc it
drops the server's metadata (uid, resourceVersion, creationTimestamp, ...),
which would make the new object fail to apply, and removes duplicate mirrors,
which an ICSP admits but the IDMS schema rejects. The policies are validated
as the API server validates an IDMS; every problem is reported.

Without --output-dir the objects are printed, as YAML documents or (-o json)
one JSON kind: List; with --output-dir DIR each is written to
DIR/imagedigestmirrorset_<name>.yaml (all files or none). -o DIR, which
named the directory before -o meant the format, still works in this release,
with a warning. Objects
of other kinds are skipped with a note. Several policies of one name (as
oc-mirror v1 writes on every run) are an error: merge them with
'hcpmirror merge' instead.`,
		Example: `  oc get icsp -o yaml > icsp.yaml
  hcpmirror convert -f icsp.yaml --to idms --output-dir idms/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to != "idms" {
				return usageErrorf("--to %q: only idms (ImageDigestMirrorSet) is supported", to)
			}
			if len(sets.paths) == 0 {
				return usageErrorf("no inputs: give ImageContentSourcePolicy files with -f")
			}
			if outDir != "" && !out.is(formatYAML) {
				return usageErrorf("--output-dir writes YAML files; -o %s only prints", out.format)
			}
			stderr := cmd.ErrOrStderr()
			all, err := sets.load(stderr)
			if err != nil {
				return err
			}
			var icsps []mirrorset.Set
			for _, s := range all {
				if s.Kind != mirrorset.KindICSP {
					fmt.Fprintf(stderr, "note: %s: skipping: not an ImageContentSourcePolicy\n", s.Describe())
					continue
				}
				icsps = append(icsps, s)
			}
			if len(icsps) == 0 {
				return errors.New("no ImageContentSourcePolicy found in the inputs")
			}
			conv, err := ocmirror.Convert(icsps)
			if err != nil {
				return fmt.Errorf("invalid ImageContentSourcePolicies (nothing converted):\n%w", err)
			}
			for _, d := range conv.Dropped {
				fmt.Fprintf(stderr, "note: %s: %s: dropping repeated mirror %q: an ImageDigestMirrorSet may not list a mirror twice\n", d.Object, d.Field, d.Mirror)
			}
			if outDir == "" {
				return out.printManifests(cmd.OutOrStdout(), conv.YAML())
			}
			if err := atomicfile.WriteDir(outDir, conv.Files, nil, atomicfile.DefaultPerm); err != nil {
				return err
			}
			for _, f := range conv.Files {
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(outDir, f.Name))
			}
			return nil
		},
	}
	sets.register(cmd)
	cmd.Flags().StringVar(&to, "to", "idms", "kind to convert to: idms (ImageDigestMirrorSet)")
	_ = cmd.RegisterFlagCompletionFunc("to", cobra.FixedCompletions([]string{"idms"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVar(&outDir, "output-dir", "", "write one file per object to this directory (created when missing) instead of printing")
	_ = cmd.MarkFlagDirname("output-dir")
	out.register(cmd)
	return cmd
}
