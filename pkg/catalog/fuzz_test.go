package catalog_test

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// FuzzLoad feeds one catalog file to the reader. Whatever it accepts must
// survive the rest of the pipeline: filtering does not panic, writing
// succeeds for any package name usable as a directory, and what Write
// produces reads back to the same bytes (Write ∘ LoadFS ∘ Write = Write).
func FuzzLoad(f *testing.F) {
	c, err := catalogtest.Build("registry.example.com")
	if err != nil {
		f.Fatal(err)
	}
	for p, b := range c.Files {
		f.Add(p, b)
	}
	f.Add("a.json", []byte(`{"schema":"olm.package","name":"p","defaultChannel":"s"}{"schema":"olm.channel","name":"s","package":"p","entries":[{"name":"p.v1","skips":["p.v0"]}]}{"schema":"olm.bundle","name":"p.v1","package":"p","properties":[{"type":"olm.package","value":{"packageName":"p","version":"1.0.0"}}]}`))
	f.Add("a.yaml", []byte("schema: olm.deprecations\npackage: p\nentries:\n- reference: {schema: olm.bundle, name: x}\n  message: m\n---\nschema: x.y\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if !fsValidName(name) {
			return
		}
		cfg, err := catalog.LoadFS(fstest.MapFS{name: &fstest.MapFile{Data: data}})
		if err != nil {
			return
		}
		_, _ = catalog.Filter(cfg, false, nil)
		_ = catalog.RelatedImages(cfg)
		files, err := catalog.Write(cfg)
		if err != nil {
			return // a package name that cannot be a directory
		}
		fsys := fstest.MapFS{}
		for _, f := range files {
			fsys[f.Path] = &fstest.MapFile{Data: f.Data}
		}
		again, err := catalog.LoadFS(fsys)
		if err != nil {
			t.Fatalf("reading back what Write wrote: %v\n%s", err, files[0].Data)
		}
		files2, err := catalog.Write(again)
		if err != nil {
			t.Fatalf("second Write: %v", err)
		}
		if len(files) != len(files2) {
			t.Fatalf("second Write: %d files, first %d", len(files2), len(files))
		}
		for i := range files {
			if files[i].Path != files2[i].Path || !bytes.Equal(files[i].Data, files2[i].Data) {
				t.Fatalf("Write is not stable for %s:\n%s\n---\n%s", files[i].Path, files[i].Data, files2[i].Data)
			}
		}
	})
}

// fsValidName keeps fuzzed file names to those an fs.FS may hold, other
// than .indexignore (which would make the file not a catalog file).
func fsValidName(name string) bool {
	if name == "" || name == ".indexignore" {
		return false
	}
	for _, part := range bytes.Split([]byte(name), []byte("/")) {
		if len(part) == 0 || string(part) == "." || string(part) == ".." || string(part) == ".indexignore" {
			return false
		}
	}
	return true
}
