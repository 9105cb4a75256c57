// Package layer builds image layers from files held in memory: the catalog
// rebuilt for a mirror, and the lab's synthetic images. Layers are
// reproducible: members are written in the order given, owned by root, with
// one fixed modification time, so the same files always give the same
// digest, which is what lets a second mirroring run find the layer already
// in the destination.
package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one member of a layer: a regular file, or a directory when Dir is
// set. Mode 0 means 0644 for files and 0755 for directories. Names are
// relative paths without a leading slash; a directory's name may omit the
// trailing slash.
type File struct {
	Name string
	Dir  bool
	Mode int64
	Data []byte
}

// Option changes how New writes a layer.
type Option func(*options)

type options struct {
	modTime   time.Time
	format    tar.Format
	mediaType types.MediaType
}

// WithModTime dates every member at t (default: the Unix epoch).
func WithModTime(t time.Time) Option { return func(o *options) { o.modTime = t } }

// WithPAX writes PAX headers, as container build tools do for long names.
// The default is the tar package's choice per header, which keeps the bytes
// (and digests) of layers written before this option existed.
func WithPAX() Option { return func(o *options) { o.format = tar.FormatPAX } }

// WithMediaType sets the layer's media type (default: Docker's gzipped layer).
func WithMediaType(mt types.MediaType) Option { return func(o *options) { o.mediaType = mt } }

// New writes files, in order, into a gzipped tar layer.
func New(files []File, opts ...Option) (v1.Layer, error) {
	o := options{modTime: time.Unix(0, 0).UTC()}
	for _, opt := range opts {
		opt(&o)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.Name, Mode: 0o644, Size: int64(len(f.Data)), ModTime: o.modTime, Format: o.format}
		if f.Dir {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
			if !strings.HasSuffix(h.Name, "/") {
				h.Name += "/"
			}
		}
		if f.Mode != 0 {
			h.Mode = f.Mode
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	gz := buf.Bytes()
	var topts []tarball.LayerOption
	if o.mediaType != "" {
		topts = append(topts, tarball.WithMediaType(o.mediaType))
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, topts...)
}

// WithParents lists files in path order, each preceded by the directories
// above it that no earlier file introduced, as a runtime unpacking the layer
// expects.
func WithParents(files map[string][]byte) []File {
	var out []File
	dirs := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		for i := range len(p) {
			if p[i] != '/' || dirs[p[:i+1]] {
				continue
			}
			dirs[p[:i+1]] = true
			out = append(out, File{Name: p[:i+1], Dir: true})
		}
		out = append(out, File{Name: p, Data: files[p]})
	}
	return out
}
