package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// setFlags is the -f flag every command that reads mirror sets shares.
type setFlags struct {
	paths []string
}

func (f *setFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.paths, "filename", "f", nil,
		"file or directory of mirror sets (YAML, JSON, kind: List; directories are read recursively for *.yaml, *.yml, *.json); repeatable, - for stdin")
}

// load reads the sets, printing a note on stderr for every object that is not
// a mirror set, so a directory of mixed manifests can be pointed at as is.
func (f *setFlags) load(stderr io.Writer) ([]mirrorset.Set, error) {
	sets, skipped, err := mirrorset.Load(f.paths...)
	for _, o := range skipped {
		name := o.Name
		if name == "" {
			name = "(unnamed)"
		}
		fmt.Fprintf(stderr, "note: %s: skipping %s %s %q: not a mirror set\n", o.Origin, o.APIVersion, o.Kind, name)
	}
	return sets, err
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
