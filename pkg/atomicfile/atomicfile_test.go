package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// contents maps every entry of dir (hidden ones included) to its content, so
// that a test sees leftovers as well as changes.
func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			out[e.Name()+"/"] = ""
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func writeAll(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "registries.conf")
	for _, data := range []string{"one\n", "two\n"} {
		if err := WriteFile(name, []byte(data), DefaultPerm); err != nil {
			t.Fatalf("WriteFile(%q) = %v", data, err)
		}
		if diff := cmp.Diff(map[string]string{"registries.conf": data}, contents(t, dir)); diff != "" {
			t.Errorf("after writing %q (-want +got):\n%s", data, diff)
		}
	}
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != DefaultPerm {
		t.Errorf("mode = %v, want %v", st.Mode().Perm(), DefaultPerm)
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	dir := t.TempDir()
	err := WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), DefaultPerm)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing", "f")) {
		t.Errorf("WriteFile into a missing directory = %v, want an error naming the file", err)
	}
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out", "merged")
	files := []File{{Name: "a.yaml", Data: []byte("a1")}, {Name: "b.yaml", Data: []byte("b1")}}
	if err := WriteDir(dir, files, nil, DefaultPerm); err != nil {
		t.Fatalf("WriteDir into a new directory = %v", err)
	}
	if diff := cmp.Diff(map[string]string{"a.yaml": "a1", "b.yaml": "b1"}, contents(t, dir)); diff != "" {
		t.Errorf("first write (-want +got):\n%s", diff)
	}

	writeAll(t, dir, map[string]string{"keep.txt": "mine", "c.yaml": "stale"})
	files = []File{{Name: "a.yaml", Data: []byte("a2")}, {Name: "d.yaml", Data: []byte("d2")}}
	if err := WriteDir(dir, files, []string{"a.yaml", "b.yaml", "c.yaml", "never.yaml"}, DefaultPerm); err != nil {
		t.Fatalf("WriteDir replacing = %v", err)
	}
	want := map[string]string{"a.yaml": "a2", "d.yaml": "d2", "keep.txt": "mine"}
	if diff := cmp.Diff(want, contents(t, dir)); diff != "" {
		t.Errorf("second write (-want +got):\n%s", diff)
	}
}

func TestWriteDirRollsBack(t *testing.T) {
	dir := t.TempDir()
	before := map[string]string{"a.yaml": "a-old", "b.yaml": "b-old", "stale.yaml": "s-old"}
	writeAll(t, dir, before)

	calls := 0
	rename = func(from, to string) error {
		calls++
		if calls == 3 { // after a.yaml and b.yaml are replaced, before c.yaml
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: errors.New("injected failure")}
		}
		return os.Rename(from, to)
	}
	t.Cleanup(func() { rename = os.Rename })

	files := []File{{Name: "a.yaml", Data: []byte("a-new")}, {Name: "b.yaml", Data: []byte("b-new")}, {Name: "c.yaml", Data: []byte("c-new")}}
	err := WriteDir(dir, files, []string{"stale.yaml"}, DefaultPerm)
	if err == nil || !strings.Contains(err.Error(), "c.yaml") || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("WriteDir = %v, want the injected failure naming c.yaml", err)
	}
	if diff := cmp.Diff(before, contents(t, dir)); diff != "" {
		t.Errorf("directory changed although WriteDir failed (-want +got):\n%s", diff)
	}
}

func TestWriteDirFailsBeforeTouching(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, map[string]string{"a.yaml": "a-old"})
	if err := os.Mkdir(filepath.Join(dir, "b.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := []File{{Name: "a.yaml", Data: []byte("a-new")}, {Name: "b.yaml", Data: []byte("b-new")}}
	err := WriteDir(dir, files, nil, DefaultPerm)
	if err == nil || !strings.Contains(err.Error(), "b.yaml") {
		t.Fatalf("WriteDir over a directory = %v, want an error naming b.yaml", err)
	}
	want := map[string]string{"a.yaml": "a-old", "b.yaml/": ""}
	if diff := cmp.Diff(want, contents(t, dir)); diff != "" {
		t.Errorf("directory changed although WriteDir failed (-want +got):\n%s", diff)
	}
}

func TestWriteDirRemovesCreatedDirOnFailure(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "new")
	rename = func(from, to string) error { return errors.New("injected failure") }
	t.Cleanup(func() { rename = os.Rename })
	if err := WriteDir(dir, []File{{Name: "a", Data: []byte("x")}}, nil, DefaultPerm); err == nil {
		t.Fatal("WriteDir = nil, want the injected failure")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(%s) = %v, want the created directory removed again", dir, err)
	}
}

func TestWriteDirRejectsNames(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../x", "a/b", ".hidden"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteDir(dir, []File{{Name: name}}, nil, DefaultPerm); err == nil {
				t.Errorf("WriteDir(name %q) = nil, want an error", name)
			}
			if got := contents(t, dir); len(got) != 0 {
				t.Errorf("directory holds %v after a rejected name", got)
			}
		})
	}
	dir := t.TempDir()
	if err := WriteDir(dir, []File{{Name: "a"}, {Name: "a"}}, nil, DefaultPerm); err == nil {
		t.Error("WriteDir with a name given twice = nil, want an error")
	}
}

func TestNames(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, map[string]string{"idms-x.yaml": "", "catalogsource-a.yaml": "", "other.yaml": "", ".catalogsource-b.yaml": ""})
	if err := os.Mkdir(filepath.Join(dir, "catalogsource-dir.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Names(dir, "idms-x.yaml", "catalogsource-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"catalogsource-a.yaml", "idms-x.yaml"}, got); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if got, err := Names(filepath.Join(dir, "missing"), "*"); err != nil || got != nil {
		t.Errorf("Names(missing) = %v, %v; want nil, nil", got, err)
	}
}
