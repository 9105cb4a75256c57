package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/ocmirror"
)

// setFlags is the -f flag every command that reads mirror sets shares.
type setFlags struct {
	paths []string
}

func (f *setFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.paths, "filename", "f", nil,
		"file or directory of mirror sets (YAML, JSON, kind: List; directories are read recursively for *.yaml, *.yml, *.json); repeatable, - for stdin")
	_ = cmd.MarkFlagFilename("filename", manifestExtensions...)
}

// manifestExtensions are the file names shell completion offers for -f (and
// directories, which -f reads recursively).
var manifestExtensions = []string{"yaml", "yml", "json"}

// load reads the sets, printing a note on stderr for every object that is not
// a mirror set, so a directory of mixed manifests can be pointed at as is.
func (f *setFlags) load(stderr io.Writer) ([]mirrorset.Set, error) {
	f.noteNone(stderr)
	files, err := ocmirror.Files(f.paths...)
	sets, skipped, lerr := mirrorset.Load(files...)
	noteSkipped(stderr, skipped)
	return sets, errors.Join(err, lerr)
}

// loadWithHostedClusters is load for commands that also read HostedCluster
// objects (their imageContentSources and annotations); only other kinds are
// noted as skipped.
func (f *setFlags) loadWithHostedClusters(stderr io.Writer) ([]mirrorset.Set, []*hypershiftv1beta1.HostedCluster, error) {
	files, ferr := ocmirror.Files(f.paths...)
	sets, skipped, err := mirrorset.Load(files...)
	err = errors.Join(ferr, err)
	var hcs []*hypershiftv1beta1.HostedCluster
	var errs []error
	var others []manifest.Object
	for _, o := range skipped {
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
	}
	noteSkipped(stderr, others)
	return sets, hcs, errors.Join(append([]error{err}, errs...)...)
}

// noteNone says so when no -f was given: answering as a node without any
// mirror sets is legitimate, but far more often a forgotten flag.
func (f *setFlags) noteNone(stderr io.Writer) {
	if len(f.paths) == 0 {
		fmt.Fprintln(stderr, "note: no mirror sets given (-f): answering as a node without any")
	}
}

func noteSkipped(stderr io.Writer, skipped []manifest.Object) {
	for _, o := range skipped {
		name := o.Name
		if name == "" {
			name = "(unnamed)"
		}
		fmt.Fprintf(stderr, "note: %s: skipping %s %s %q: not a mirror set\n", o.Origin, o.APIVersion, o.Kind, name)
	}
}

// compile loads and compiles the sets.
func (f *setFlags) compile(stderr io.Writer) (*mirrorset.Config, []mirrorset.Set, error) {
	sets, err := f.load(stderr)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := mirrorset.Compile(sets)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid mirror sets:\n%w", err)
	}
	return cfg, sets, nil
}
