package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// setFlags is the -f flag every command that reads mirror sets shares.
type setFlags struct {
	paths []string
	// cmd is the command the flag belongs to: its context and stdin are
	// what loading uses.
	cmd *cobra.Command
	// take, when set, is given the objects that are not mirror sets and
	// returns those the command does not read, which alone are noted as
	// skipped (verify -c takes the CatalogSources).
	take func([]manifest.Object) []manifest.Object
}

func (f *setFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().StringArrayVarP(&f.paths, "filename", "f", nil,
		"file or directory of mirror sets (YAML, JSON, kind: List; directories are read recursively for *.yaml, *.yml, *.json); repeatable, - for stdin")
	_ = cmd.MarkFlagFilename("filename", manifestExtensions...)
}

// manifestExtensions are the file names shell completion offers for -f (and
// directories, which -f reads recursively).
var manifestExtensions = []string{"yaml", "yml", "json"}

// context is the command's context, for the long loops of loading and
// compiling to watch.
func (f *setFlags) context() context.Context {
	if f.cmd != nil && f.cmd.Context() != nil {
		return f.cmd.Context()
	}
	return context.Background()
}

// read loads the -f paths, printing the walk's notes.
func (f *setFlags) read(stderr io.Writer) (mirrorset.Loaded, error) {
	var stdin io.Reader
	if f.cmd != nil {
		stdin = f.cmd.InOrStdin()
	}
	loaded, err := mirrorset.Load(f.context(), stdin, f.paths...)
	for _, n := range loaded.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	return loaded, err
}

// load reads the sets, printing a note on stderr for every object that is not
// a mirror set, so a directory of mixed manifests can be pointed at as is,
// and a warning when the inputs hold no mirror set at all.
func (f *setFlags) load(stderr io.Writer) ([]mirrorset.Set, error) {
	f.noteNone(stderr)
	loaded, err := f.read(stderr)
	others := loaded.Others
	if f.take != nil {
		others = f.take(others)
	}
	noteSkipped(stderr, others)
	if err == nil {
		f.noteEmpty(stderr, loaded.Sets)
	}
	return loaded.Sets, err
}

// loadWithHostedClusters is load for commands that also read HostedCluster
// objects (their imageContentSources and annotations); only other kinds are
// noted as skipped.
func (f *setFlags) loadWithHostedClusters(stderr io.Writer) ([]mirrorset.Set, []*hypershiftv1beta1.HostedCluster, []manifest.Origin, error) {
	loaded, err := f.read(stderr)
	var hcs []*hypershiftv1beta1.HostedCluster
	var origins []manifest.Origin
	var errs []error
	var others []manifest.Object
	for _, o := range loaded.Others {
		if o.Kind != "HostedCluster" || o.APIVersion != hypershiftv1beta1.GroupVersion.String() {
			others = append(others, o)
			continue
		}
		// Lenient: a real HostedCluster (oc get hc -o yaml) has far more
		// fields than the ones read here (annotations, imageContentSources).
		hc := &hypershiftv1beta1.HostedCluster{}
		if derr := json.Unmarshal(o.Raw, hc); derr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Describe(), derr))
			continue
		}
		hcs = append(hcs, hc)
		origins = append(origins, o.Origin)
	}
	noteSkipped(stderr, others)
	return loaded.Sets, hcs, origins, errors.Join(append([]error{err}, errs...)...)
}

// noteNone says so when no -f was given: answering as a node without any
// mirror sets is legitimate, but far more often a forgotten flag.
func (f *setFlags) noteNone(stderr io.Writer) {
	if len(f.paths) == 0 {
		fmt.Fprintln(stderr, "note: no mirror sets given (-f): answering as a node without any")
	}
}

// noteEmpty warns when -f was given but held no mirror set (an empty file, a
// misspelt kind, a directory of links): the answer would otherwise be "pull
// from the source", silently.
func (f *setFlags) noteEmpty(stderr io.Writer, sets []mirrorset.Set) {
	if len(f.paths) > 0 && len(sets) == 0 {
		fmt.Fprintf(stderr, "warning: no mirror sets found in the inputs (%s): answering as a node without any\n", strings.Join(f.paths, ", "))
	}
}

func noteSkipped(stderr io.Writer, skipped []manifest.Object) {
	for _, o := range skipped {
		name := o.Name
		if name == "" {
			name = "(unnamed)"
		}
		if k, ok := mirrorset.LikelyKind(o); ok {
			fmt.Fprintf(stderr, "warning: %s: skipping %s %s %q: not a kind hcpmirror reads; did you mean %s?\n", o.Origin, o.APIVersion, o.Kind, name, k)
			continue
		}
		fmt.Fprintf(stderr, "note: %s: skipping %s %s %q: not a mirror set\n", o.Origin, o.APIVersion, o.Kind, name)
	}
}

// compile loads the sets and compiles what a cluster would hold after
// applying them: of two objects of one kind and name, only the last (as oc
// apply keeps), with a note naming both.
func (f *setFlags) compile(stderr io.Writer) (*mirrorset.Config, []mirrorset.Set, error) {
	sets, err := f.load(stderr)
	if err != nil {
		return nil, nil, err
	}
	sets, replaced := mirrorset.Applied(sets)
	for _, r := range replaced {
		fmt.Fprintf(stderr, "note: %s is replaced by %s (same kind and name: oc apply keeps only the last), so only the latter is used\n", r.Replaced.Describe(), r.By.Describe())
	}
	cfg, err := mirrorset.CompileContext(f.context(), sets)
	if isInterrupt(err) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("invalid mirror sets:\n%w", err)
	}
	return cfg, sets, nil
}

// isInterrupt reports whether err says the command's context ended (Ctrl-C,
// SIGTERM): then it is returned as it is, not as a problem with the input.
func isInterrupt(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
