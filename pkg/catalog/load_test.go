package catalog_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for p, s := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

func TestLoadFS(t *testing.T) {
	fsys := mapFS(map[string]string{
		// Two JSON objects in one file, another without a newline between.
		"a/catalog.json": `{"schema":"olm.package","name":"a","defaultChannel":"stable","icon":{"base64data":"eA==","mediatype":"image/png"},"x-vendor":{"k":[1,2]}}
{"schema":"olm.channel","name":"stable","package":"a","entries":[{"name":"a.v1.0.0","skipRange":"<1.0.0","x-entry":true}],"properties":[{"type":"t","value":1}]}{"schema":"olm.bundle","name":"a.v1.0.0","package":"a","image":"r/a@sha256:1","properties":[{"type":"olm.package","value":{"packageName":"a","version":"1.0.0"}}],"relatedImages":[{"name":"op","image":"r/op@sha256:2"}]}`,
		// YAML documents, a comment-only one among them.
		"b/catalog.yaml": "# header\n---\nschema: olm.package\nname: b\ndefaultChannel: s\n---\n# nothing\n---\nschema: olm.channel\nname: s\npackage: b\nentries:\n- name: b.v2\n  replaces: b.v1\n  skips: [b.v0]\n---\nschema: olm.deprecations\npackage: b\nentries:\n- reference: {schema: olm.package}\n  message: gone\n",
		// Another schema, kept whole; no package.
		"misc.json": `{"schema": "vendor.example.thing", "name": "t", "spec": {"n": 1}}`,
		// Ignored files.
		".indexignore":    "# comment\n*.md\nnotes/\n!keep.md\n",
		"README.md":       "not json",
		"sub/README.md":   "not json",
		"notes/todo.json": "not json",
		"keep.md":         `{"schema":"vendor.example.kept","name":"k"}`,
		"b/.indexignore":  "drafts/*.yaml\n",
		"b/drafts/x.yaml": "not: [valid",
		"b/other/x.yaml":  "schema: vendor.example.other\nname: o\npackage: b\n",
	})
	cfg, err := catalog.LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := &catalog.Config{
		Packages: []catalog.Package{
			{Name: "a", DefaultChannel: "stable", Extra: catalog.Fields{
				"icon":     json.RawMessage(`{"base64data":"eA==","mediatype":"image/png"}`),
				"x-vendor": json.RawMessage(`{"k":[1,2]}`),
			}},
			{Name: "b", DefaultChannel: "s"},
		},
		Channels: []catalog.Channel{
			{Package: "a", Name: "stable",
				Entries: []catalog.ChannelEntry{{Name: "a.v1.0.0", SkipRange: "<1.0.0", Extra: catalog.Fields{"x-entry": json.RawMessage(`true`)}}},
				Extra:   catalog.Fields{"properties": json.RawMessage(`[{"type":"t","value":1}]`)}},
			{Package: "b", Name: "s", Entries: []catalog.ChannelEntry{{Name: "b.v2", Replaces: "b.v1", Skips: []string{"b.v0"}}}},
		},
		Bundles: []catalog.Bundle{{
			Package: "a", Name: "a.v1.0.0", Image: "r/a@sha256:1",
			Properties:    []catalog.Property{{Type: "olm.package", Value: json.RawMessage(`{"packageName":"a","version":"1.0.0"}`)}},
			RelatedImages: []catalog.RelatedImage{{Name: "op", Image: "r/op@sha256:2"}},
		}},
		Deprecations: []catalog.Deprecation{{Package: "b", Entries: []catalog.DeprecationEntry{
			{Reference: catalog.Reference{Schema: "olm.package"}, Message: "gone"},
		}}},
		Others: []catalog.Meta{
			{Schema: "vendor.example.other", Name: "o", Package: "b", Blob: json.RawMessage(`{"name":"o","package":"b","schema":"vendor.example.other"}`)},
			{Schema: "vendor.example.kept", Name: "k", Blob: json.RawMessage(`{"schema":"vendor.example.kept","name":"k"}`)},
			{Schema: "vendor.example.thing", Name: "t", Blob: json.RawMessage(`{"schema":"vendor.example.thing","name":"t","spec":{"n":1}}`)},
		},
	}
	if diff := cmp.Diff(want, cfg, rawEqual); diff != "" {
		t.Errorf("LoadFS (-want +got):\n%s", diff)
	}
	if v := cfg.Bundles[0].Version(); v != "1.0.0" {
		t.Errorf("Version() = %q", v)
	}
}

// rawEqual compares raw JSON by meaning (YAML conversion reorders keys).
var rawEqual = cmp.Comparer(func(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return cmp.Equal(x, y)
})

func TestLoadFSErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"no schema", map[string]string{"a.json": `{"schema":"olm.package","name":"a"}{"name":"x"}`}, []string{"a.json: document 2: object has no schema"}},
		{"bad JSON", map[string]string{"a.json": `{"schema":`}, []string{"a.json: document 1:"}},
		{"bad YAML", map[string]string{"a.yaml": "schema: olm.package\nname: [a\n"}, []string{"a.yaml: document 1:"}},
		{"wrong type", map[string]string{"a.json": `{"schema":"olm.channel","name":"s","package":"p","entries":[{"name":"e","skips":"x"}]}`},
			[]string{`a.json: document 1: olm.channel "s": entries[0].skips: not an array of strings`}},
		{"missing names", map[string]string{"a.json": `{"schema":"olm.bundle","image":"x"}`},
			[]string{"olm.bundle: package: missing", "name: missing"}},
		{"case twins", map[string]string{"a.json": `{"schema":"olm.package","name":"a","Name":"b"}`},
			[]string{`members "Name" and "name" differ only by case`}},
		{"defined twice, every file reported", map[string]string{
			"a.json": `{"schema":"olm.package","name":"a"}`, "b.json": `{"schema":"olm.package","name":"a"}`,
			"c.json": `{"schema":"olm.channel","name":"s","package":"a","entries":[{"name":"x"},{"name":"x"}]}`,
		}, []string{`olm.package "a": defined more than once`, `olm.channel "s": entry "x" listed more than once`}},
		{"all files reported", map[string]string{"a.json": "{", "b.json": "["}, []string{"a.json:", "b.json:"}},
		{"ref outside", map[string]string{"a.json": `{"schema":"olm.bundle","name":"b","package":"p","properties":[{"type":"olm.bundle.object","value":{"ref":"../x"}}]}`},
			[]string{`olm.bundle "b": properties[0]: ref "../x" leaves the catalog`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := catalog.LoadFS(mapFS(tc.files))
			if err == nil {
				t.Fatal("LoadFS: no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadFSInlinesBundleObjects(t *testing.T) {
	csv := "kind: ClusterServiceVersion\n"
	cfg, err := catalog.LoadFS(mapFS(map[string]string{
		".indexignore":       "objects/\n",
		"p/objects/csv.yaml": csv,
		"p/catalog.json":     `{"schema":"olm.bundle","name":"b","package":"p","properties":[{"type":"olm.bundle.object","value":{"ref":"objects/csv.yaml"}}]}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Data string }
	if err := json.Unmarshal(cfg.Bundles[0].Properties[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	if got, _ := base64.StdEncoding.DecodeString(v.Data); string(got) != csv {
		t.Errorf("inlined object = %q, want %q", got, csv)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	_, cfg := testCatalog(t)
	cfg.Others = append(cfg.Others, catalog.Meta{Schema: "vendor.example.global", Name: "g", Blob: json.RawMessage(`{"schema":"vendor.example.global","name":"g"}`)})
	files, err := catalog.Write(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if diff := cmp.Diff([]string{"__global/catalog.json", "alpha-operator/catalog.json", "beta-operator/catalog.json", "gamma-operator/catalog.json"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	again, err := catalog.LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	// Same content; Write sorts channels and bundles by name within a package.
	sorted := func(c *catalog.Config) *catalog.Config {
		files, err := catalog.Write(c)
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, f := range files {
			all = append(all, f.Data...)
		}
		return &catalog.Config{Others: []catalog.Meta{{Blob: all}}}
	}
	if diff := cmp.Diff(sorted(cfg), sorted(again)); diff != "" {
		t.Errorf("Write(LoadFS(Write(cfg))) differs from Write(cfg):\n%s", diff)
	}
	if diff := cmp.Diff(len(cfg.Bundles), len(again.Bundles)); diff != "" {
		t.Error(diff)
	}
	// Unknown members and HTML characters survive as written.
	alpha := string(files[1].Data)
	for _, w := range []string{`"description": "Alpha <operator> & friends"`, `"mediatype": "image/svg+xml"`, `"skipRange": ">=1.0.0 <1.2.0"`} {
		if !strings.Contains(alpha, w) {
			t.Errorf("alpha-operator/catalog.json lacks %s:\n%s", w, alpha)
		}
	}
}

func TestWriteGolden(t *testing.T) {
	cfg := catalogOf("p", "stable", channel("stable", e("p.v1.0.0", ""), e("p.v1.1.0", "p.v1.0.0", "p.v0.9.0")))
	cfg.Deprecations = []catalog.Deprecation{{Package: "p", Entries: []catalog.DeprecationEntry{{Reference: catalog.Reference{Schema: "olm.bundle", Name: "p.v1.0.0"}, Message: "old"}}}}
	files, err := catalog.Write(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
    "schema": "olm.package",
    "name": "p",
    "defaultChannel": "stable"
}
{
    "schema": "olm.channel",
    "name": "stable",
    "package": "p",
    "entries": [
        {
            "name": "p.v1.0.0"
        },
        {
            "name": "p.v1.1.0",
            "replaces": "p.v1.0.0",
            "skips": [
                "p.v0.9.0"
            ]
        }
    ]
}
{
    "schema": "olm.bundle",
    "name": "p.v1.0.0",
    "package": "p",
    "image": "registry.example.com/p/bundle:1.0.0",
    "properties": [
        {
            "type": "olm.package",
            "value": {
                "packageName": "p",
                "version": "1.0.0"
            }
        }
    ],
    "relatedImages": [
        {
            "name": "operator",
            "image": "registry.example.com/p/operator:1.0.0"
        }
    ]
}
`
	got := string(files[0].Data)
	if !strings.HasPrefix(got, want) {
		t.Errorf("Write =\n%s\nwant it to start with\n%s", got, want)
	}
	if !strings.HasSuffix(got, `{
    "schema": "olm.deprecations",
    "package": "p",
    "entries": [
        {
            "reference": {
                "schema": "olm.bundle",
                "name": "p.v1.0.0"
            },
            "message": "old"
        }
    ]
}
`) {
		t.Errorf("Write does not end with the deprecations:\n%s", got)
	}
	// Deterministic: the same catalog gives the same bytes.
	again, _ := catalog.Write(cfg)
	if !bytes.Equal(files[0].Data, again[0].Data) {
		t.Error("Write is not deterministic")
	}
}

func TestWriteRefusesPathPackages(t *testing.T) {
	for _, name := range []string{"../x", "a/b", "__global"} {
		if _, err := catalog.Write(&catalog.Config{Packages: []catalog.Package{{Name: name}}}); err == nil {
			t.Errorf("Write of package %q: no error", name)
		}
	}
}
