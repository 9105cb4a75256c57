package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mirrorSet is a stand-in for the API types, so that this package's tests
// do not depend on them.
type mirrorSet struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec struct {
		ImageDigestMirrors []mirrorEntry `json:"imageDigestMirrors,omitempty"`
	} `json:"spec"`
}

type mirrorEntry struct {
	Source             string   `json:"source"`
	Mirrors            []string `json:"mirrors,omitempty"`
	MirrorSourcePolicy string   `json:"mirrorSourcePolicy,omitempty"`
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		file    string
		wantErr []string
	}{
		{file: "valid.yaml"},
		{
			file: "unknown-fields.yaml",
			wantErr: []string{
				`unknown-fields.yaml: document 1: ImageDigestMirrorSet "ocp": unknown field "spec.imageDigestMirrors[1].mirorrs"`,
				`unknown-fields.yaml: document 1: ImageDigestMirrorSet "ocp": unknown field "spec.mirrorSourcePolicy"`,
			},
		},
		{
			file: "case-mismatch.yaml",
			wantErr: []string{
				`case-mismatch.yaml: document 1: ImageDigestMirrorSet "ocp": unknown field "spec.ImageDigestMirrors"`,
			},
		},
		{
			file: "duplicate-fields.json",
			wantErr: []string{
				`duplicate-fields.json: ImageDigestMirrorSet "ocp": duplicate field "spec.imageDigestMirrors[0].source"`,
			},
		},
		{
			file: "wrong-type.yaml",
			wantErr: []string{
				`wrong-type.yaml: document 1: ImageDigestMirrorSet "ocp": spec.imageDigestMirrors[1].mirrors: expected array, got string`,
			},
		},
		{
			file: "wrong-type-nested.yaml",
			wantErr: []string{
				`wrong-type-nested.yaml: document 1: ImageDigestMirrorSet "ocp": spec.imageDigestMirrors[0].mirrors[1]: expected string, got object`,
			},
		},
		{
			file: "wrong-type-number.yaml",
			wantErr: []string{
				`wrong-type-number.yaml: document 1: ImageDigestMirrorSet "ocp": spec.imageDigestMirrors[0].source: expected string, got number`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "decode", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			objs, err := Read(tt.file, data)
			if err != nil || len(objs) != 1 {
				t.Fatalf("Read(%s) = %d objects, %v; want 1 object", tt.file, len(objs), err)
			}
			var into mirrorSet
			err = objs[0].DecodeStrict(&into)
			if diff := cmp.Diff(tt.wantErr, errLines(err)); diff != "" {
				t.Errorf("DecodeStrict(%s) errors (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestDecodeStrictValue(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "decode", "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Read("valid.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var got mirrorSet
	if err := objs[0].DecodeStrict(&got); err != nil {
		t.Fatal(err)
	}
	var want mirrorSet
	want.APIVersion, want.Kind = "config.openshift.io/v1", "ImageDigestMirrorSet"
	want.Metadata.Name, want.Metadata.Labels = "ocp", map[string]string{"team": "infra"}
	want.Spec.ImageDigestMirrors = []mirrorEntry{{
		Source:             "quay.io/openshift-release-dev/ocp-release",
		Mirrors:            []string{"mirror.example.com/ocp/release"},
		MirrorSourcePolicy: "NeverContactSource",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodeStrict(valid.yaml) (-want +got):\n%s", diff)
	}
}

func TestDecodeStrictTypeError(t *testing.T) {
	o := Object{Kind: "ConfigMap", Name: "x", Raw: []byte(`{"data":{"a":[1]}}`)}
	var into struct {
		Data map[string]string `json:"data"`
	}
	err := o.DecodeStrict(&into)
	var te *TypeError
	if !errors.As(err, &te) {
		t.Fatalf("DecodeStrict = %v, want a *TypeError", err)
	}
	if te.Path != "data.a" || te.Want != "string" || te.Got != "array" {
		t.Errorf("TypeError = %+v, want path data.a, want string, got array", te)
	}
	if got, want := err.Error(), `ConfigMap "x": data.a: expected string, got array`; got != want {
		t.Errorf("DecodeStrict error = %q, want %q", got, want)
	}
}

func TestTypeErrorPath(t *testing.T) {
	type inner struct {
		N int      `json:"n"`
		S []string `json:"s"`
	}
	tests := []struct {
		name string
		json string
		into any
		want string
	}{
		{"document itself", `[1]`, &struct{}{}, "expected object, got array"},
		{"top-level field", `{"n":"x"}`, &inner{}, "n: expected integer, got string"},
		{"fraction into integer", `{"n":1.5}`, &inner{}, "n: expected integer, got number 1.5"},
		{"boolean", `{"s":["a",true]}`, &inner{}, "s[1]: expected string, got boolean"},
		{"nested arrays", `{"l":[[{"n":1}],[{"n":2},{"n":"3"}]]}`, &struct {
			L [][]inner `json:"l"`
		}{}, "l[1][1].n: expected integer, got string"},
		{"after skipped values", `{"x":{"y":[1,{"z":2}]},"s":{}}`, &struct {
			X any      `json:"x"`
			S []string `json:"s"`
		}{}, "s: expected array, got object"},
		{"whitespace", "{ \"s\" : [ \"a\" , 2 ] }", &inner{}, "s[1]: expected string, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Object{Raw: []byte(tt.json)}.DecodeStrict(tt.into)
			if err == nil {
				t.Fatalf("DecodeStrict(%s) = nil, want %q", tt.json, tt.want)
			}
			if got := strings.TrimPrefix(err.Error(), `object "": `); got != tt.want {
				t.Errorf("DecodeStrict(%s) = %q, want %q", tt.json, got, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		o    Object
		want string
	}{
		{Object{Kind: "ImageDigestMirrorSet", Name: "ocp", Origin: Origin{File: "sets/idms.yaml", Document: 2}}, `sets/idms.yaml: document 2: ImageDigestMirrorSet "ocp"`},
		{Object{Kind: "HostedCluster", Namespace: "clusters", Name: "example"}, `HostedCluster "clusters/example"`},
		{Object{Kind: "ConfigMap", Origin: Origin{File: "l.yaml", Document: 1, Item: 3}}, `l.yaml: document 1: item 3: ConfigMap ""`},
	}
	for _, tt := range tests {
		if got := tt.o.Describe(); got != tt.want {
			t.Errorf("Describe() = %q, want %q", got, tt.want)
		}
	}
}
