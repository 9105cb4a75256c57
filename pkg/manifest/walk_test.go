package manifest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
}

// TestFilesSymlinks: links to files are read, every other link is left out
// with a note naming it, so a directory holding only a link to a directory
// does not silently read as empty.
func TestFilesSymlinks(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	writeFile(t, filepath.Join(real, "idms.yaml"), "x")
	dir := filepath.Join(root, "sets")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, real, filepath.Join(dir, "a-dir-link"))
	symlink(t, filepath.Join(real, "idms.yaml"), filepath.Join(dir, "b-file-link.yaml"))
	symlink(t, filepath.Join(root, "gone.yaml"), filepath.Join(dir, "c-dangling.yaml"))
	symlink(t, filepath.Join(dir, "d-loop.yaml"), filepath.Join(dir, "d-loop.yaml"))
	symlink(t, filepath.Join(root, "gone"), filepath.Join(dir, "e-dangling-other-name"))

	files, notes, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(dir, "b-file-link.yaml")}, files); diff != "" {
		t.Errorf("Files(%s) files (-want +got):\n%s", dir, diff)
	}
	want := []string{
		filepath.Join(dir, "a-dir-link") + ": skipping symbolic link to a directory: links to directories are not followed (give the target with -f)",
		filepath.Join(dir, "c-dangling.yaml") + ": skipping dangling symbolic link",
		filepath.Join(dir, "d-loop.yaml") + ": skipping symbolic link: it loops",
	}
	if diff := cmp.Diff(want, notes); diff != "" {
		t.Errorf("Files(%s) notes (-want +got):\n%s", dir, diff)
	}

	// A link given with -f is followed, whatever it points at.
	files, _, err = Files(filepath.Join(dir, "a-dir-link"))
	if err != nil || len(files) != 1 {
		t.Errorf("Files(link to a directory) = %q, %v; want its one file", files, err)
	}
}

// TestFilesOCMirrorLayout: inside oc-mirror's directories only the cluster
// resources are read, and a file reached twice is listed once.
func TestFilesOCMirrorLayout(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "oc-mirror-workspace")
	for _, f := range []string{
		"results-1/imageContentSourcePolicy.yaml",
		"results-1/release-signatures/signature.json",
		"src/catalogs/index.json",
		"publish/.metadata.json",
		"loose.json",
	} {
		writeFile(t, filepath.Join(ws, f), "x")
	}
	wd := filepath.Join(root, "working-dir")
	for _, f := range []string{"cluster-resources/idms-oc-mirror.yaml", "cluster-resources/signatures/x.yaml", "release-images/x.json"} {
		writeFile(t, filepath.Join(wd, f), "x")
	}
	files, notes, err := Files(root, filepath.Join(ws, "results-1", "imageContentSourcePolicy.yaml"), "-", "-")
	if err != nil || notes != nil {
		t.Fatalf("Files: notes %q, error %v", notes, err)
	}
	want := []string{
		filepath.Join(ws, "results-1", "imageContentSourcePolicy.yaml"),
		filepath.Join(wd, "cluster-resources", "idms-oc-mirror.yaml"),
		"-",
	}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
}

func TestReadPathsStdinAndCancel(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
	objs, _, err := ReadPaths(context.Background(), strings.NewReader(cm), "-")
	if err != nil || len(objs) != 1 || objs[0].Origin.File != "<stdin>" {
		t.Errorf("ReadPaths(stdin) = %v, %v; want one object from <stdin>", objs, err)
	}
	if _, _, err := ReadPaths(context.Background(), nil, "-"); err == nil || !strings.Contains(err.Error(), "standard input is not available") {
		t.Errorf("ReadPaths(nil stdin) error = %v, want standard input is not available", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := ReadPaths(ctx, strings.NewReader(strings.Repeat("---\n"+cm, 1000)), "-"); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadPaths(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestReadTabIndentation(t *testing.T) {
	for _, in := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n  \ta: b\n",
	} {
		_, err := Read("tab.yaml", []byte(in))
		line := strings.Count(in, "\n")
		want := "tab.yaml: document 1: line " + string(rune('0'+line)) + ": tabs are not allowed in YAML indentation (indent with spaces)"
		if err == nil || err.Error() != want {
			t.Errorf("Read(%q) error = %v, want %s", in, err, want)
		}
	}
}

// TestReadPathsCancelLargeDocument: one document of many megabytes takes
// long to convert; a cancelled read does not wait for it.
func TestReadPathsCancelLargeDocument(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n")
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "  key-%d: value-%d-%s\n", i, i, strings.Repeat("x", 40))
	}
	doc := b.String()
	start := time.Now()
	if _, _, err := ReadPaths(context.Background(), strings.NewReader(doc), "-"); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), full/10)
	defer cancel()
	start = time.Now()
	_, _, err := ReadPaths(ctx, strings.NewReader(doc), "-")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadPaths(cancelled) error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > full/2 {
		t.Errorf("cancelled ReadPaths took %v, a full read %v: want it to stop at its deadline (%v)", d, full, full/10)
	}
}
