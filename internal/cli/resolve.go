package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// resolveResult is one element of `resolve -o json`; its field names are a
// documented, stable interface for scripts.
type resolveResult struct {
	Reference string `json:"reference"`
	// PullSources is a pointer so that an unpullable image prints
	// "pullSources": [] while an error entry has no such field.
	PullSources   *[]string `json:"pullSources,omitempty"`
	SourceBlocked *bool     `json:"sourceBlocked,omitempty"`
	Error         string    `json:"error,omitempty"`

	pulls []mirrorset.PullSource // for the text form's "(source)" marks
}

func newResolveCommand() *cobra.Command {
	var sets setFlags
	var confFile string
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "resolve [-f PATH]... | --registries-conf FILE [-o text|json|yaml] REF...",
		Short: "Show where a node would pull each image from",
		Long: `Resolve prints, for each image reference, the ordered list of physical
references a node's container runtime would try under the given mirror sets:
matching mirrors first (digest mirrors only for digest references, tag mirrors
only for tag references), then the source itself unless NeverContactSource
blocks it. An empty list means the image cannot be pulled at all.

With --registries-conf the answer comes from a node's registries.conf (v2)
instead, read with the rules container runtimes apply, so a node's real file
can be checked the same way.

Exit status 1 if any reference fails to parse, cannot be rewritten, or cannot
be pulled.`,
		Example: `  hcpmirror resolve -f examples/mirrorsets quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64
  hcpmirror resolve -f idms.yaml -o json quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:...`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg *mirrorset.Config
			var err error
			if confFile != "" {
				if len(sets.paths) > 0 {
					return usageErrorf("give either -f (mirror sets) or --registries-conf (a node's file), not both")
				}
				cfg, err = readRegistriesConf(cmd.ErrOrStderr(), confFile)
			} else {
				cfg, _, err = sets.compile(cmd.ErrOrStderr())
			}
			if err != nil {
				return err
			}
			results, failed := resolveAll(cfg, args)
			if err := out.print(cmd.OutOrStdout(), results, func(w io.Writer) error {
				printResolveText(w, results)
				return nil
			}); err != nil {
				return err
			}
			if failed {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	sets.register(cmd)
	out.register(cmd)
	cmd.Flags().StringVar(&confFile, "registries-conf", "", "resolve with a node's registries.conf (e.g. copied from /etc/containers/registries.conf) instead of mirror sets")
	_ = cmd.MarkFlagFilename("registries-conf", "conf")
	return cmd
}

// readRegistriesConf reads a registries.conf file, printing what runtimes
// would silently ignore in it.
func readRegistriesConf(stderr io.Writer, path string) (*mirrorset.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, manifest.PathError(path, err)
	}
	cfg, notes, err := mirrorset.ParseRegistriesConf(data)
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s: %s\n", path, n)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func resolveAll(cfg *mirrorset.Config, refs []string) ([]resolveResult, bool) {
	results := make([]resolveResult, 0, len(refs))
	failed := false
	for _, ref := range refs {
		res, err := cfg.Resolve(ref)
		if err != nil {
			results = append(results, resolveResult{Reference: ref, Error: err.Error()})
			failed = true
			continue
		}
		blocked := res.SourceBlocked
		sources := nonNil(res.References())
		if len(sources) == 0 {
			failed = true
		}
		results = append(results, resolveResult{Reference: ref, PullSources: &sources, SourceBlocked: &blocked, pulls: res.PullSources})
	}
	return results, failed
}

// nonNil keeps `pullSources: []` in JSON for an unpullable image: an absent
// field would read as "not computed".
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printResolveText(w io.Writer, results []resolveResult) {
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, r.Reference)
		if r.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", r.Error)
			continue
		}
		if len(r.pulls) == 0 {
			fmt.Fprintln(w, "  pullSources: []  (cannot be pulled: the source is blocked and no mirror serves this pull)")
		}
		for n, p := range r.pulls {
			note := "  (mirror " + p.Endpoint + ")"
			if p.IsSource {
				note = "  (source)"
			}
			fmt.Fprintf(w, "  %d. %s%s\n", n+1, p.Reference, note)
		}
		if *r.SourceBlocked {
			fmt.Fprintln(w, "  source blocked: NeverContactSource")
		}
	}
}
