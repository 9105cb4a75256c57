package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/lint"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// lintOutput is `lint -o json`: a documented, stable interface for scripts.
type lintOutput struct {
	Findings []lint.Finding `json:"findings"`
	Summary  lintSummary    `json:"summary"`
}

type lintSummary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Notes    int `json:"notes"`
}

func newLintCommand() *cobra.Command {
	var sets setFlags
	var flagValue, envValue, releaseImage string
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	var reg registryFlags
	cmd := &cobra.Command{
		Use:   "lint [-f PATH]... [--release IMAGE] [--overrides-flag VALUE] [--overrides-env VALUE] [-o text|json|yaml]",
		Short: "Check mirror sets and override strings for mistakes that break disconnected clusters",
		Long: `Lint checks mirror sets (ImageContentSourcePolicy, ImageDigestMirrorSet,
ImageTagMirrorSet), and HostedClusters given with -f (their OLM catalog
annotations and imageContentSources), for the mistakes in hcpmirror's lint catalogue (HCM001...):
values the API server or the machine-config-operator rejects, entries that are
accepted but make pulls fail, and configuration HyperShift-built consumers do
not follow. Sets that do not validate are still linted, so one run shows
everything to fix.

--overrides-flag and --overrides-env check a --registry-overrides value and an
OPENSHIFT_IMG_OVERRIDES value as HyperShift's readers decode them, each source
and replacement against the mirror-set patterns, and, with -f, against what
the mirror sets mean (HCM036).

Each finding names the object and field, says what is wrong and why it hurts,
and how to fix it. Exit status 1 if any finding is an error.`,
		Example: `  hcpmirror lint -f oc-mirror-workspace/
  hcpmirror lint -f idms.yaml -f itms.yaml -o json
  hcpmirror lint --overrides-flag 'quay.io=mirror.example.com,'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			flagGiven, envGiven := cmd.Flags().Changed("overrides-flag"), cmd.Flags().Changed("overrides-env")
			if len(sets.paths) == 0 && !flagGiven && !envGiven {
				return usageErrorf("nothing to lint: give -f, --overrides-flag or --overrides-env")
			}
			var findings []lint.Finding
			var cfg *mirrorset.Config
			if len(sets.paths) > 0 {
				loaded, hcs, origins, err := sets.loadWithHostedClusters(cmd.ErrOrStderr())
				if isInterrupt(err) {
					return err
				}
				// Lint what could be read; what could not is in the report
				// itself, so its summary never says "0 errors" for input
				// that was not read.
				findings = lint.InputFindings(sets.paths, len(loaded)+len(hcs), err)
				opts := lint.Options{HostedClusters: hostedClusterViews(hcs, origins)}
				if releaseImage != "" {
					rel, err := lintRelease(cmd, loaded, releaseImage, &reg)
					if err != nil {
						return err
					}
					opts.Release = rel
				}
				more, err := lint.LintContext(cmd.Context(), loaded, opts)
				if err != nil {
					return err
				}
				findings = append(findings, more...)
				// The override strings are compared with what a cluster
				// holding these sets would have.
				applied, _ := mirrorset.Applied(loaded)
				cfg, _ = mirrorset.CompileContext(cmd.Context(), applied)
			}
			if flagGiven {
				findings = append(findings, lint.LintFlag(flagValue)...)
				if cfg != nil {
					findings = append(findings, lint.CompareFlag(cfg, flagValue)...)
				}
			}
			if envGiven {
				findings = append(findings, lint.LintEnv(envValue)...)
				if cfg != nil {
					findings = append(findings, lint.CompareEnv(cfg, envValue)...)
				}
			}
			if err := printLint(cmd.OutOrStdout(), out, findings); err != nil {
				return err
			}
			if lint.HasErrors(findings) {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	sets.register(cmd)
	reg.register(cmd)
	cmd.Flags().StringVar(&releaseImage, "release", "", "also check the payload of this release image, read through the mirror sets (HCM009, HCM017, HCM030)")
	cmd.Flags().StringVar(&flagValue, "overrides-flag", "", "a --registry-overrides value to check")
	cmd.Flags().StringVar(&envValue, "overrides-env", "", "an OPENSHIFT_IMG_OVERRIDES value to check")
	out.register(cmd)
	return cmd
}

// lintRelease reads the release payload through the sets, for the findings
// that depend on which images a cluster will pull.
func lintRelease(cmd *cobra.Command, sets []mirrorset.Set, image string, reg *registryFlags) (*lint.ReleaseImages, error) {
	sets, _ = mirrorset.Applied(sets)
	cfg, err := mirrorset.CompileContext(cmd.Context(), sets)
	if err != nil {
		return nil, fmt.Errorf("--release needs mirror sets that compile:\n%w", err)
	}
	p, err := releaseinfo.New(releaseinfo.WithRegistryOptions(reg.options()...))
	if err != nil {
		return nil, err
	}
	defer p.Close()
	bar := terminalBar(cmd.ErrOrStderr())
	bar.reading(cfg, image)
	rel, err := p.Lookup(cmd.Context(), cfg, image, nil)
	bar.clear()
	if err != nil {
		return nil, fmt.Errorf("--release: %w", err)
	}
	return &lint.ReleaseImages{ReleaseImage: image, Components: rel.Components, KubeVirt: rel.KubeVirt}, nil
}

// hostedClusterViews gives lint what it checks of HostedClusters read with -f:
// OLM catalog annotations and imageContentSources (HCM026-HCM028).
func hostedClusterViews(hcs []*hypershiftv1beta1.HostedCluster, origins []manifest.Origin) []lint.HostedClusterView {
	var out []lint.HostedClusterView
	for i, hc := range hcs {
		set := mirrorset.FromHostedCluster(hc)
		out = append(out, lint.HostedClusterView{Name: hc.Name, Namespace: hc.Namespace, Origin: origins[i], Annotations: hc.Annotations, ImageContentSources: set.Entries})
	}
	return out
}

func printLint(w io.Writer, out *outputFlags, findings []lint.Finding) error {
	errs, warns, notes := lint.Count(findings)
	if !out.is(formatText) {
		if findings == nil {
			findings = []lint.Finding{}
		}
		return out.print(w, lintOutput{Findings: findings, Summary: lintSummary{errs, warns, notes}}, nil)
	}
	for _, f := range findings {
		where := f.Object
		if f.Field != "" {
			where += " " + f.Field
		}
		fmt.Fprintf(w, "%s %s %s: %s\n", severityLabel(f.Severity), f.Code, where, f.Message)
		fmt.Fprintf(w, "  fix: %s\n", f.Fix)
	}
	fmt.Fprintf(w, "%s, %s, %s\n", lintCountWord(errs, "error"), lintCountWord(warns, "warning"), lintCountWord(notes, "note"))
	return nil
}

// severityLabel is the word a text line starts with; infos read as notes.
func severityLabel(s lint.Severity) string {
	switch s {
	case lint.Error:
		return "ERROR"
	case lint.Warning:
		return "WARNING"
	}
	return "NOTE"
}

func lintCountWord(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
