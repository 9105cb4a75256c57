package ocmirror

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

func TestConvert(t *testing.T) {
	inputs := read(t, filepath.Join("testdata", "convert", "in"))
	conv, err := Convert(allSets(inputs))
	if err != nil {
		t.Fatalf("Convert = %v", err)
	}
	golden(t, filepath.Join("testdata", "convert", "want"), conv.Files)

	o := conv.Objects[0]
	if o.Name != "operator-0" || o.UID != "" || o.ResourceVersion != "" || !o.CreationTimestamp.IsZero() || o.Generation != 0 {
		t.Errorf("metadata = %+v, want only name, labels and annotations", o.ObjectMeta)
	}
	if _, ok := o.Annotations[lastApplied]; ok {
		t.Errorf("annotations = %v, want %s dropped", o.Annotations, lastApplied)
	}
	if diff := cmp.Diff([]string{"registry.example.com:5000/mirror/openshift4", "backup.example.com/openshift4"}, o.Spec.ImageDigestMirrors[0].Mirrors); diff != "" {
		t.Errorf("duplicate mirrors not removed (-want +got):\n%s", diff)
	}
	if len(conv.Dropped) != 1 || conv.Dropped[0].Mirror != "registry.example.com:5000/mirror/openshift4" || !strings.HasPrefix(conv.Dropped[0].Field, "spec.repositoryDigestMirrors[0].mirrors[") {
		t.Errorf("Dropped = %+v, want the one repeated mirror of entry 0", conv.Dropped)
	}
	for _, e := range o.Spec.ImageDigestMirrors {
		if e.MirrorSourcePolicy != "" {
			t.Errorf("entry %q has policy %q, want none", e.Source, e.MirrorSourcePolicy)
		}
	}
	if got, want := string(conv.YAML()), string(conv.Files[0].Data)+"---\n"+string(conv.Files[1].Data); got != want {
		t.Errorf("YAML() =\n%s\nwant the files joined by ---", got)
	}
	// The result is valid as IDMS.
	var sets []mirrorset.Set
	for i := range conv.Objects {
		sets = append(sets, mirrorset.FromImageDigestMirrorSet(&conv.Objects[i]))
	}
	if err := mirrorset.Validate(sets); err != nil {
		t.Errorf("converted objects do not validate: %v", err)
	}
}

func TestConvertErrors(t *testing.T) {
	icsp := func(name string, origin string, entries ...mirrorset.Entry) mirrorset.Set {
		s := mirrorset.Set{Kind: mirrorset.KindICSP, Name: name, Entries: entries}
		s.Origin.File = origin
		return s
	}
	ok := mirrorset.Entry{Source: "quay.io/a", Mirrors: []string{"m.example.com/a"}}
	tests := []struct {
		name string
		in   []mirrorset.Set
		want []string
	}{
		{"same name", []mirrorset.Set{icsp("release-0", "run1.yaml", ok), icsp("release-0", "run2.yaml", ok)},
			[]string{`run2.yaml: ImageContentSourcePolicy "release-0": same name as run1.yaml`, "hcpmirror merge"}},
		{"not an ICSP", []mirrorset.Set{{Kind: mirrorset.KindIDMS, Name: "x", Entries: []mirrorset.Entry{ok}}},
			[]string{`ImageDigestMirrorSet "x": not an ImageContentSourcePolicy`}},
		{"bad mirror", []mirrorset.Set{icsp("bad", "bad.yaml", mirrorset.Entry{Source: "quay.io/a", Mirrors: []string{"m.example.com/A"}})},
			[]string{`bad.yaml: ImageContentSourcePolicy "bad": spec.repositoryDigestMirrors[0].mirrors[0]`}},
		{"bad name", []mirrorset.Set{icsp("../escape", "x.yaml", ok)},
			[]string{`metadata.name: "../escape" is not a valid object name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv, err := Convert(tt.in)
			if err == nil {
				t.Fatalf("Convert = %d objects, want an error", len(conv.Objects))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Convert error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}
