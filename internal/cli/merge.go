package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/ocmirror"
)

func newMergeCommand() *cobra.Command {
	var paths []string
	var outDir string
	var quiet bool
	out := newOutputFlags(formatText, formatJSON, formatYAML).acceptLegacyPath("output-dir", &outDir)
	cmd := &cobra.Command{
		Use:   "merge -f PATH... --output-dir DIR [-q] [-o text|json|yaml]",
		Short: "Merge oc-mirror results into one complete, stable set of mirror sets",
		Long: `Merge reads oc-mirror output and mirror-set files and writes one complete
set of ImageDigestMirrorSets and ImageTagMirrorSets that can be applied as is.

oc-mirror v1 writes each run's ImageContentSourcePolicies under the same names
but lists only the images that run added, so applying a later run drops the
sources of the earlier ones. oc-mirror v2 writes complete files, but in a
different order every run. Merge fixes both:

  - every (kind, source, mirror) of every input is kept; ICSPs become IDMS;
  - one entry per source, mirrors in the order nodes would use them, so the
    output means exactly what all inputs together mean;
  - the same inputs in any order give the same bytes; merging the output
    again, alone or with its inputs, changes nothing;
  - a source given different mirrorSourcePolicy values is an error, and
    then nothing is written.

-f takes files or directories, repeatable: oc-mirror-workspace/ (its
results-<time>/ runs), working-dir/ (its cluster-resources/), single files, or
an earlier merge's directory. DIR receives idms-hcpmirror.yaml,
itms-hcpmirror.yaml (objects hcpmirror-<release|operator|generic>-<n>, each
below 250000 bytes) and one catalogsource-<name>.yaml per CatalogSource (the
latest run's wins). Files an earlier merge wrote to DIR that are no longer
needed are removed; other files in DIR are left alone. All files are written
or none. The summary of what was written goes to stdout, as text or (-o json,
-o yaml) for scripts. -o DIR, which named the directory before -o meant the
format, still works in this release, with a warning.`,
		Example: `  # Both oc-mirror v1 runs, as the HyperShift docs ask you to keep them:
  hcpmirror merge -f oc-mirror-workspace --output-dir mirror-sets
  oc apply -f mirror-sets

  # After the next run: add it to what was merged before.
  hcpmirror merge -f mirror-sets -f oc-mirror-workspace/results-1718000000 --output-dir mirror-sets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(paths) == 0 {
				return usageErrorf("no inputs: give oc-mirror results or mirror-set files with -f")
			}
			if outDir == "" {
				return usageErrorf("--output-dir is required")
			}
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			// What an earlier merge wrote to outDir survives this one, even
			// when only the newest oc-mirror run is given.
			inputs, notes, err := ocmirror.ReadInto(outDir, cmd.InOrStdin(), paths...)
			for _, n := range notes {
				if !quiet {
					fmt.Fprintf(stderr, "note: %s\n", n)
				}
			}
			if err != nil {
				return fmt.Errorf("reading inputs (nothing written):\n%w", err)
			}
			res, err := ocmirror.Merge(inputs)
			if err != nil {
				return fmt.Errorf("%w\nnothing written", err)
			}
			if len(res.Files) == 0 {
				// Writing would empty DIR of an earlier merge: far more
				// likely a wrong path than a wish.
				printMergeNotes(stderr, res, quiet)
				return fmt.Errorf("no mirror sets or CatalogSources found in %s; nothing written", strings.Join(paths, ", "))
			}
			before := existing(outDir, res)
			removed, err := res.WriteDir(outDir)
			if err != nil {
				return err
			}
			printMergeNotes(stderr, res, quiet)
			return out.print(stdout, newMergeReport(outDir, inputs, res, before, removed), func(w io.Writer) error {
				if !quiet {
					printMergeSummary(w, outDir, inputs, res, before, removed)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVarP(&paths, "filename", "f", nil,
		"oc-mirror workspace, results or cluster-resources directory, or mirror-set file (YAML or JSON); repeatable, - for stdin")
	_ = cmd.MarkFlagFilename("filename", manifestExtensions...)
	cmd.Flags().StringVar(&outDir, "output-dir", "", "directory to write the merged files to (created when missing)")
	_ = cmd.MarkFlagDirname("output-dir")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only warnings and errors (no summary, no notes); -o json and -o yaml still print the report")
	out.register(cmd)
	return cmd
}

// existing reads the files the result is about to replace, so that the
// summary can say which ones actually change.
func existing(dir string, res *ocmirror.Result) map[string][]byte {
	old := map[string][]byte{}
	for _, f := range res.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err == nil {
			old[f.Name] = data
		} else if !errors.Is(err, fs.ErrNotExist) {
			old[f.Name] = nil // unreadable: reported as updated
		}
	}
	return old
}

// printMergeNotes tells, on stderr, what the merge left out and why; quiet
// keeps only the warnings.
func printMergeNotes(w io.Writer, res *ocmirror.Result, quiet bool) {
	for _, o := range res.Skipped {
		name := o.Name
		if name == "" {
			name = "(unnamed)"
		}
		if k, ok := mirrorset.LikelyKind(o); ok {
			fmt.Fprintf(w, "warning: %s: skipping %s %s %q: not a kind hcpmirror reads; did you mean %s?\n", o.Origin, o.APIVersion, o.Kind, name, k)
			continue
		}
		if ocmirror.IsSignatures(o) {
			fmt.Fprintf(w, "warning: %s: not copying %s %s %q: it holds release signatures, which clusters need to verify the release; apply it from its file\n", o.Origin, o.APIVersion, o.Kind, name)
			continue
		}
		if !quiet {
			fmt.Fprintf(w, "note: %s: skipping %s %s %q: neither a mirror set nor a CatalogSource\n", o.Origin, o.APIVersion, o.Kind, name)
		}
	}
	for _, e := range res.Ignored {
		fmt.Fprintf(w, "warning: %s: %s: source %q has no mirror other than itself; nodes ignore such an entry (and its mirrorSourcePolicy), so it is left out\n", e.Object, e.Field, e.Source)
	}
	for _, cs := range res.Superseded {
		if !quiet {
			fmt.Fprintf(w, "note: %s: CatalogSource %q is replaced by a later input's\n", cs.Origin, cs.Name)
		}
	}
}

// printMergeSummary says what was written, per file and object, and confirms
// that nothing was lost.
func printMergeSummary(w io.Writer, dir string, inputs []ocmirror.Input, res *ocmirror.Result, before map[string][]byte, removed []string) {
	runs := v1Runs(inputs)
	fmt.Fprintf(w, "Read %s", mergeCount(len(inputs), "file"))
	if runs > 0 {
		fmt.Fprintf(w, " (%s)", mergeCount(runs, "oc-mirror v1 run"))
	}
	fmt.Fprintf(w, ".\nWrote %s:\n", dir)
	// Columns as wide as their longest value, so that long CatalogSource
	// names do not push the state out of line.
	fileWidth, objWidth := 0, 0
	for _, f := range res.Files {
		fileWidth = max(fileWidth, len(f.Name))
	}
	for _, name := range removed {
		fileWidth = max(fileWidth, len(name))
	}
	for _, o := range res.Objects {
		objWidth = max(objWidth, len(o.Name))
	}
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %-*s  %s\n", fileWidth, f.Name, fileState(before, f))
		for _, o := range res.Objects {
			if o.File == f.Name {
				fmt.Fprintf(w, "    %s %-*s  %s, %d bytes\n", kindShort(string(o.Kind)), objWidth, o.Name, mergeCount(o.Sources, "source"), o.Bytes)
			}
		}
	}
	for _, name := range removed {
		fmt.Fprintf(w, "  %-*s  removed (no longer produced)\n", fileWidth, name)
	}

	var digest, tag int
	byCategory := map[ocmirror.Category]int{}
	for _, o := range res.Objects {
		if o.Kind == "ImageTagMirrorSet" {
			tag += o.Sources
		} else {
			digest += o.Sources
		}
		byCategory[o.Category] += o.Sources
	}
	var cats []string
	for _, c := range []ocmirror.Category{ocmirror.CategoryRelease, ocmirror.CategoryOperator, ocmirror.CategoryGeneric} {
		if byCategory[c] > 0 {
			cats = append(cats, fmt.Sprintf("%s %d", c, byCategory[c]))
		}
	}
	fmt.Fprintf(w, "Sources: %d by digest (IDMS), %d by tag (ITMS)", digest, tag)
	if len(cats) > 0 {
		fmt.Fprintf(w, "; by category: %s", strings.Join(cats, ", "))
	}
	fmt.Fprintf(w, ".\nCatalogSources: %d.\n", len(res.CatalogSources))
	if len(res.Skipped) == 0 {
		fmt.Fprintln(w, "Nothing lost: every (kind, source, mirror) of the inputs is in the output.")
	} else {
		// Other objects (signature ConfigMaps, ClusterCatalogs, ...) are
		// not copied: saying "nothing lost" would hide them.
		fmt.Fprintf(w, "Every (kind, source, mirror) of the inputs is in the output; %s of other kinds not copied (see the notes on stderr).\n", mergeCount(len(res.Skipped), "object"))
	}
	if len(res.Ignored) > 0 {
		fmt.Fprintf(w, "Left out %s without a mirror other than the source (see the warnings).\n", mergeCount(len(res.Ignored), "entry"))
	}
}

func kindShort(kind string) string {
	switch kind {
	case "ImageDigestMirrorSet":
		return "IDMS"
	case "ImageTagMirrorSet":
		return "ITMS"
	}
	return kind
}

// mergeCount is "1 file", "2 files", "3 entries".
func mergeCount(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// v1Runs counts the oc-mirror v1 runs among the inputs.
func v1Runs(inputs []ocmirror.Input) int {
	runs := map[int64]bool{}
	for _, in := range inputs {
		if in.Run > 0 {
			runs[in.Run] = true
		}
	}
	return len(runs)
}

// fileState says what writing f did to the file before held: new, updated or
// unchanged.
func fileState(before map[string][]byte, f atomicfile.File) string {
	old, ok := before[f.Name]
	switch {
	case !ok:
		return "new"
	case bytes.Equal(old, f.Data):
		return "unchanged"
	}
	return "updated"
}

// mergeReport is `merge -o json`: the summary's content for scripts; its
// field names are a stable interface.
type mergeReport struct {
	OutputDir      string       `json:"outputDir"`
	Inputs         int          `json:"inputs"`
	OCMirrorV1Runs int          `json:"ocMirrorV1Runs"`
	Files          []mergeFile  `json:"files"`
	Removed        []string     `json:"removed"`
	CatalogSources int          `json:"catalogSources"`
	LeftOut        []mergeEntry `json:"leftOut"`
}

type mergeFile struct {
	Name    string        `json:"name"`
	State   string        `json:"state"`
	Objects []mergeObject `json:"objects"`
}

type mergeObject struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Sources  int    `json:"sources"`
	Bytes    int    `json:"bytes"`
}

// mergeEntry is an input entry left out because its only mirror is its
// source.
type mergeEntry struct {
	Object string `json:"object"`
	Field  string `json:"field"`
	Source string `json:"source"`
}

func newMergeReport(dir string, inputs []ocmirror.Input, res *ocmirror.Result, before map[string][]byte, removed []string) mergeReport {
	rep := mergeReport{OutputDir: dir, Inputs: len(inputs), OCMirrorV1Runs: v1Runs(inputs), Files: []mergeFile{},
		Removed: append([]string{}, removed...), CatalogSources: len(res.CatalogSources), LeftOut: []mergeEntry{}}
	for _, f := range res.Files {
		mf := mergeFile{Name: f.Name, State: fileState(before, f), Objects: []mergeObject{}}
		for _, o := range res.Objects {
			if o.File == f.Name {
				mf.Objects = append(mf.Objects, mergeObject{Kind: string(o.Kind), Name: o.Name, Category: o.Category.String(), Sources: o.Sources, Bytes: o.Bytes})
			}
		}
		rep.Files = append(rep.Files, mf)
	}
	for _, e := range res.Ignored {
		rep.LeftOut = append(rep.LeftOut, mergeEntry{Object: e.Object, Field: e.Field, Source: e.Source})
	}
	return rep
}
