package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// Output formats of -o. YAML is offered wherever JSON is, with the same field
// names (it is the JSON document, written as YAML), as kubectl does.
const (
	formatText = "text"
	formatJSON = "json"
	formatYAML = "yaml"
)

// outputFlags is the -o/--output flag group of every command: the format of
// what the command prints on stdout, and nothing else. Files a command writes
// are named with --output-dir or --output-file.
type outputFlags struct {
	format string
	// formats are the formats the command offers, its default first.
	formats []string
	// legacy is set on commands where -o used to take a path (merge,
	// convert, registries-conf); for one release a value of -o that is not
	// a format is still taken as that path, with a deprecation note.
	legacy *legacyPath
}

// legacyPath is where a path given to -o goes on a command that took one
// before -o meant the format.
type legacyPath struct {
	flag   string  // the flag that takes the path now, e.g. "output-dir"
	target *string // that flag's variable
}

// newOutputFlags returns the group offering formats, the first the default.
func newOutputFlags(formats ...string) *outputFlags {
	return &outputFlags{formats: formats}
}

// acceptLegacyPath makes a path given to -o (no format) mean the value of the
// flag now named pathFlag, whose variable is target.
func (o *outputFlags) acceptLegacyPath(pathFlag string, target *string) *outputFlags {
	o.legacy = &legacyPath{flag: pathFlag, target: target}
	return o
}

// register declares -o on cmd, with shell completion of the formats, and
// checks its value before the command runs: a typo must not cost a long run
// (verify, lint --release) before it is noticed.
func (o *outputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", o.formats[0], "output format: "+strings.Join(o.formats, ", "))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(o.formats, cobra.ShellCompDirectiveNoFileComp))
	pre := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if err := o.check(cmd.ErrOrStderr()); err != nil {
			return err
		}
		if pre != nil {
			return pre(cmd, args)
		}
		return nil
	}
}

// check validates the format, turning a legacy path into its new flag.
func (o *outputFlags) check(stderr io.Writer) error {
	if slices.Contains(o.formats, o.format) {
		return nil
	}
	if o.legacy == nil || o.format == "" {
		return usageErrorf("-o %q: want %s", o.format, strings.Join(o.formats, ", "))
	}
	if *o.legacy.target != "" {
		return usageErrorf("-o %q is not a format (%s), and --%s is given too", o.format, strings.Join(o.formats, ", "), o.legacy.flag)
	}
	fmt.Fprintf(stderr, "warning: -o with a path is deprecated and will mean only the output format (%s) in the next release: use --%s %s\n",
		strings.Join(o.formats, ", "), o.legacy.flag, o.format)
	*o.legacy.target = o.format
	o.format = o.formats[0]
	return nil
}

// is reports whether the chosen format is f.
func (o *outputFlags) is(f string) bool { return o.format == f }

// print writes v as JSON or YAML, or calls text for the text form. v's JSON
// field names are the command's documented interface for scripts.
func (o *outputFlags) print(w io.Writer, v any, text func(io.Writer) error) error {
	switch o.format {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case formatYAML:
		out, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	return text(w)
}

// printManifests prints a YAML stream of Kubernetes objects as it is (-o
// yaml) or as one JSON kind: List (-o json), which kubectl apply -f reads
// as well.
func (o *outputFlags) printManifests(w io.Writer, stream []byte) error {
	if !o.is(formatJSON) {
		_, err := w.Write(stream)
		return err
	}
	objs, err := manifest.Read("-", stream)
	if err != nil {
		return err
	}
	list := struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
	}{APIVersion: "v1", Kind: "List", Items: []json.RawMessage{}}
	for _, obj := range objs {
		list.Items = append(list.Items, obj.Raw)
	}
	return o.print(w, list, nil)
}
