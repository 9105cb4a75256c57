package manifest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is what a test says about an object: everything but Raw.
type summary struct {
	Origin     Origin
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

func summarise(objs []Object) []summary {
	var out []summary
	for _, o := range objs {
		out = append(out, summary{o.Origin, o.APIVersion, o.Kind, o.Namespace, o.Name})
	}
	return out
}

// errLines splits a joined error into its messages.
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func cm(file string, doc, line int, name string) summary {
	return summary{Origin{File: file, Document: doc, Line: line}, "v1", "ConfigMap", "", name}
}

func TestRead(t *testing.T) {
	tests := []struct {
		file    string
		want    []summary
		wantRaw []string // when set, Raw of each object
		wantErr []string
	}{
		{
			file: "multi-document.yaml",
			want: []summary{
				{Origin{File: "multi-document.yaml", Document: 1, Line: 2}, "config.openshift.io/v1", "ImageDigestMirrorSet", "", "ocp-release"},
				{Origin{File: "multi-document.yaml", Document: 3, Line: 14}, "config.openshift.io/v1", "ImageTagMirrorSet", "", "ocp-tags"},
			},
		},
		{
			file: "single-object.json",
			want: []summary{
				{Origin{File: "single-object.json", Line: 1}, "operator.openshift.io/v1alpha1", "ImageContentSourcePolicy", "", "legacy"},
			},
			wantRaw: []string{`{"apiVersion":"operator.openshift.io/v1alpha1","kind":"ImageContentSourcePolicy","metadata":{"name":"legacy"},"spec":{"repositoryDigestMirrors":[{"source":"quay.io/ns","mirrors":["m.example.com/ns"]}]}}`},
		},
		{
			file: "json-stream.json",
			want: []summary{
				{Origin{File: "json-stream.json", Document: 1, Line: 1}, "v1", "ConfigMap", "ns1", "a"},
				{Origin{File: "json-stream.json", Document: 2, Line: 3}, "v1", "ConfigMap", "ns1", "b"},
			},
		},
		{
			file: "list.yaml",
			want: []summary{
				{Origin{File: "list.yaml", Document: 1, Item: 1, Line: 1}, "config.openshift.io/v1", "ImageDigestMirrorSet", "", "first"},
				{Origin{File: "list.yaml", Document: 1, Item: 2, Line: 1}, "hypershift.openshift.io/v1beta1", "HostedCluster", "clusters", "example"},
			},
		},
		{
			file: "typed-list.json",
			want: []summary{
				{Origin{File: "typed-list.json", Item: 1, Line: 1}, "config.openshift.io/v1", "ImageDigestMirrorSet", "", "implicit"},
				{Origin{File: "typed-list.json", Item: 2, Line: 1}, "config.openshift.io/v1", "ImageDigestMirrorSet", "", "explicit"},
			},
			wantRaw: []string{
				`{"apiVersion":"config.openshift.io/v1","kind":"ImageDigestMirrorSet","metadata":{"name":"implicit"},"spec":{}}`,
				`{"apiVersion":"config.openshift.io/v1","kind":"ImageDigestMirrorSet","metadata":{"name":"explicit"},"spec":{}}`,
			},
		},
		{file: "comments-only.yaml"},
		{file: "empty.yaml"},
		{
			file: "marker-forms.yaml",
			want: []summary{
				cm("marker-forms.yaml", 1, 1, "a"),
				cm("marker-forms.yaml", 2, 6, "b"),
				cm("marker-forms.yaml", 3, 7, "---not-a-marker"),
			},
		},
		{
			file: "crlf.yaml",
			want: []summary{cm("crlf.yaml", 1, 1, "crlf"), cm("crlf.yaml", 2, 5, "crlf2")},
		},
		{
			file: "json-in-yaml.yaml",
			want: []summary{cm("json-in-yaml.yaml", 1, 1, "flow")},
		},
		{
			file: "no-extension",
			want: []summary{{Origin{File: "no-extension", Line: 1}, "v1", "ConfigMap", "", "sniffed"}},
		},
		{
			file: "duplicate-key.yaml",
			wantErr: []string{
				`duplicate-key.yaml: document 1: ImageDigestMirrorSet "ocp": duplicate field "spec.imageDigestMirrors[0].source" (line 9)`,
			},
		},
		{
			file: "syntax-error.yaml",
			want: []summary{cm("syntax-error.yaml", 1, 1, "before"), cm("syntax-error.yaml", 3, 10, "after")},
			wantErr: []string{
				`syntax-error.yaml: document 2: yaml: line 9: did not find expected ',' or ']'`,
			},
		},
		{
			file: "bad-json.json",
			want: []summary{{Origin{File: "bad-json.json", Document: 1, Line: 1}, "v1", "ConfigMap", "", "ok"}},
			wantErr: []string{
				`bad-json.json: document 2: invalid JSON: line 3: invalid character ',' looking for beginning of object key string`,
			},
		},
		{
			file: "truncated.json",
			wantErr: []string{
				`truncated.json: document 1: metadata.name: expected string, got number`,
				`truncated.json: document 2: invalid JSON: line 2: unexpected EOF`,
			},
		},
		{
			file: "missing-type.yaml",
			wantErr: []string{
				`missing-type.yaml: document 1: kind is not set`,
				`missing-type.yaml: document 2: ConfigMap "no-api-version": apiVersion is not set`,
			},
		},
		{
			file: "not-an-object.yaml",
			wantErr: []string{
				`not-an-object.yaml: document 1: expected an object, got an array`,
				`not-an-object.yaml: document 2: expected an object, got a string`,
			},
		},
		{
			file: "wrong-header-type.yaml",
			wantErr: []string{
				`wrong-header-type.yaml: document 1: metadata.name: expected string, got number`,
				`wrong-header-type.yaml: document 2: kind: expected string, got array`,
			},
		},
		{
			file: "list-bad-items.yaml",
			want: []summary{{Origin{File: "list-bad-items.yaml", Document: 1, Item: 1, Line: 1}, "v1", "ConfigMap", "", "good"}},
			wantErr: []string{
				`list-bad-items.yaml: document 1: item 2: expected an object, got a number`,
				`list-bad-items.yaml: document 1: item 3: Secret "no-version": apiVersion is not set`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "read", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			objs, err := Read(tt.file, data)
			if diff := cmp.Diff(tt.wantErr, errLines(err)); diff != "" {
				t.Errorf("Read(%s) errors (-want +got):\n%s", tt.file, diff)
			}
			if diff := cmp.Diff(tt.want, summarise(objs)); diff != "" {
				t.Errorf("Read(%s) objects (-want +got):\n%s", tt.file, diff)
			}
			if tt.wantRaw != nil {
				var raws []string
				for _, o := range objs {
					raws = append(raws, string(o.Raw))
				}
				if diff := cmp.Diff(tt.wantRaw, raws); diff != "" {
					t.Errorf("Read(%s) Raw (-want +got):\n%s", tt.file, diff)
				}
			}
		})
	}
}

func TestReadPaths(t *testing.T) {
	tree := filepath.Join("testdata", "tree")
	a := cm(filepath.Join(tree, "a.yaml"), 1, 1, "a")
	b := summary{Origin{File: filepath.Join(tree, "b.json"), Line: 1}, "v1", "ConfigMap", "", "b"}
	c := cm(filepath.Join(tree, "sub", "c.yml"), 1, 1, "c")
	z := cm(filepath.Join(tree, "z.yaml"), 1, 1, "z")
	stdin := cm("<stdin>", 1, 1, "from-stdin")
	tests := []struct {
		name    string
		paths   []string
		want    []summary
		wantErr []string
	}{
		{
			name:  "directory, recursive, lexical, manifests only, no hidden entries",
			paths: []string{tree},
			want:  []summary{a, b, c, z},
		},
		{
			name:  "files and directories in the order given",
			paths: []string{filepath.Join(tree, "z.yaml"), filepath.Join(tree, "sub")},
			want:  []summary{z, c},
		},
		{
			name:  "a file named explicitly is read whatever its name",
			paths: []string{filepath.Join(tree, ".dot.yaml")},
			want:  []summary{cm(filepath.Join(tree, ".dot.yaml"), 1, 1, "dot")},
		},
		{
			name:  "stdin, once",
			paths: []string{"-", filepath.Join(tree, "a.yaml"), "-"},
			want:  []summary{stdin, a},
		},
		{
			name:  "errors from every path, objects from the rest",
			paths: []string{filepath.Join("testdata", "missing.yaml"), filepath.Join(tree, "a.yaml"), filepath.Join("testdata", "read", "missing-type.yaml")},
			want:  []summary{a},
			wantErr: []string{
				filepath.Join("testdata", "missing.yaml") + `: no such file or directory`,
				filepath.Join("testdata", "read", "missing-type.yaml") + `: document 1: kind is not set`,
				filepath.Join("testdata", "read", "missing-type.yaml") + `: document 2: ConfigMap "no-api-version": apiVersion is not set`,
			},
		},
		{name: "nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\n")
			objs, _, err := ReadPaths(context.Background(), in, tt.paths...)
			if diff := cmp.Diff(tt.wantErr, errLines(err)); diff != "" {
				t.Errorf("ReadPaths(%q) errors (-want +got):\n%s", tt.paths, diff)
			}
			if diff := cmp.Diff(tt.want, summarise(objs)); diff != "" {
				t.Errorf("ReadPaths(%q) objects (-want +got):\n%s", tt.paths, diff)
			}
		})
	}
}

func TestReadPathsNotExist(t *testing.T) {
	_, _, err := ReadPaths(context.Background(), nil, filepath.Join(t.TempDir(), "gone"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadPaths(missing) = %v, want an error matching fs.ErrNotExist", err)
	}
}

// FuzzRead checks that no input makes Read or DecodeStrict panic, and that
// every object Read returns has a type and JSON content.
func FuzzRead(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "read", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(s), data)
	}
	f.Fuzz(func(t *testing.T, file string, data []byte) {
		objs, _ := Read(file, data)
		for _, o := range objs {
			if o.Kind == "" || o.APIVersion == "" || len(o.Raw) == 0 || o.Raw[0] != '{' {
				t.Fatalf("Read returned %+v", o)
			}
			var into struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Spec map[string][]struct {
					Source string `json:"source"`
				} `json:"spec"`
			}
			_ = o.DecodeStrict(&into)
		}
	})
}
