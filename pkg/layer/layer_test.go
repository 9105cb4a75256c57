package layer

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// members reads back the names, types and modes of a layer's members.
func members(t *testing.T, files []File, opts ...Option) []string {
	t.Helper()
	l, err := New(files, opts...)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(h.Typeflag)+" "+h.Name+" "+h.FileInfo().Mode().Perm().String()+" "+h.ModTime.UTC().Format(time.RFC3339))
	}
}

func TestNew(t *testing.T) {
	created := time.Date(2024, time.July, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		files []File
		opts  []Option
		want  []string
	}{
		{
			name:  "parents-first-fixed-time",
			files: WithParents(map[string][]byte{"b/c/d.txt": []byte("d"), "a.txt": []byte("a"), "b/e.txt": nil}),
			opts:  []Option{WithModTime(created)},
			want: []string{
				"0 a.txt -rw-r--r-- 2024-07-01T00:00:00Z",
				"5 b/ -rwxr-xr-x 2024-07-01T00:00:00Z",
				"5 b/c/ -rwxr-xr-x 2024-07-01T00:00:00Z",
				"0 b/c/d.txt -rw-r--r-- 2024-07-01T00:00:00Z",
				"0 b/e.txt -rw-r--r-- 2024-07-01T00:00:00Z",
			},
		},
		{
			name:  "directory-slash-and-mode",
			files: []File{{Name: "tmp", Dir: true, Mode: 0o1777}, {Name: "tmp/x", Mode: 0o600}},
			want: []string{
				"5 tmp/ -rwxrwxrwx 1970-01-01T00:00:00Z",
				"0 tmp/x -rw------- 1970-01-01T00:00:00Z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, members(t, tt.files, tt.opts...)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReproducible: the same files give the same digest, whatever the map
// order, so a second mirroring run finds the layer already pushed.
func TestReproducible(t *testing.T) {
	files := map[string][]byte{"x/1": []byte("1"), "x/2": []byte("2"), "y": []byte("y")}
	first, err := New(WithParents(files), WithPAX(), WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := first.Digest()
	for range 5 {
		l, err := New(WithParents(files), WithPAX(), WithMediaType(types.OCILayer))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := l.Digest(); got != want {
			t.Fatalf("digest = %s, want %s", got, want)
		}
		if mt, _ := l.MediaType(); mt != types.OCILayer {
			t.Errorf("media type = %s, want %s", mt, types.OCILayer)
		}
	}
}
