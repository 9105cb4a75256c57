package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
)

// Disk-mode files. The directory is an OCI image layout (blobs/sha256/<hex>,
// index.json, oci-layout) that any OCI tool can read, plus hcpmirror's own
// index of what it holds, with sizes, so that a damaged copy is caught
// before anything is pushed from it.
const (
	LayoutIndexFile = "hcpmirror-index.json"
	// LayoutRoot stands for the directory in mapping lines.
	LayoutRoot        = "file:/"
	refNameAnnotation = "org.opencontainers.image.ref.name"
	sourceAnnotation  = "io.hcpmirror.source"
)

// layoutIndex is hcpmirror-index.json.
type layoutIndex struct {
	// Images are the images held, with the digest of their manifest.
	Images []Record `json:"images"`
	// Blobs maps every blob and manifest digest to its size.
	Blobs map[string]int64 `json:"blobs"`
	// Releases are the releases held, and Graphs the update graphs the
	// runs resolved channels with (by channel/arch), so that disk to
	// mirror selects from them as a mirror run would, offline.
	Releases []Release                    `json:"releases,omitempty"`
	Graphs   map[string]*cincinnati.Graph `json:"graphs,omitempty"`
}

// Remember adds a run's releases and graphs to what Commit writes.
func (l *Layout) Remember(releases []Release, graphs map[string]*cincinnati.Graph) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range releases {
		i := slices.IndexFunc(l.index.Releases, func(h Release) bool { return h.Version == r.Version && h.Arch == r.Arch })
		if i >= 0 {
			l.index.Releases[i] = r
		} else {
			l.index.Releases = append(l.index.Releases, r)
		}
	}
	sort.Slice(l.index.Releases, func(i, j int) bool {
		a, b := l.index.Releases[i], l.index.Releases[j]
		return a.Version+"/"+a.Arch < b.Version+"/"+b.Arch
	})
	if len(graphs) > 0 && l.index.Graphs == nil {
		l.index.Graphs = map[string]*cincinnati.Graph{}
	}
	maps.Copy(l.index.Graphs, graphs)
}

// Layout is a disk-mode directory, as a Target (mirror to disk) and as a
// Source (disk to mirror). Blobs are content addressed and written once
// across all images; writes go to a temporary file that is renamed into
// place only after its digest checked out, so an interrupted run leaves no
// partial blob behind.
type Layout struct {
	dir string

	mu    sync.Mutex
	index layoutIndex
	tags  map[string]Record // repo:tag -> held image
}

// OpenLayout opens (or creates) a layout directory.
func OpenLayout(dir string) (*Layout, error) {
	l := &Layout{dir: dir, tags: map[string]Record{}, index: layoutIndex{Blobs: map[string]int64{}}}
	b, err := os.ReadFile(filepath.Join(dir, LayoutIndexFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &l.index); err != nil {
			return nil, fmt.Errorf("%s: damaged: %w", filepath.Join(dir, LayoutIndexFile), err)
		}
		if l.index.Blobs == nil {
			l.index.Blobs = map[string]int64{}
		}
	}
	for _, r := range l.index.Images {
		l.tags[r.Repo+":"+r.Tag] = r
	}
	return l, nil
}

func (l *Layout) blobPath(d v1.Hash) string {
	return filepath.Join(l.dir, "blobs", d.Algorithm, d.Hex)
}

// Images are the images the layout holds.
func (l *Layout) Images() []Image {
	out := make([]Image, 0, len(l.index.Images))
	for _, r := range l.index.Images {
		out = append(out, r.Image)
	}
	return out
}

// Check verifies every blob the index lists: present, of the recorded size,
// and hashing to its name. The first damaged or truncated file is named.
func (l *Layout) Check() error {
	var errs []error
	digests := make([]string, 0, len(l.index.Blobs))
	for d := range l.index.Blobs {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	for _, d := range digests {
		h, err := v1.NewHash(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: bad digest %q", LayoutIndexFile, d))
			continue
		}
		p := l.blobPath(h)
		if err := checkFile(p, h, l.index.Blobs[d]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s is damaged; nothing was pushed:\n%w", l.dir, errors.Join(errs...))
	}
	return nil
}

func checkFile(p string, h v1.Hash, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	hh := sha256.New()
	n, err := io.Copy(hh, f)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if n != size {
		return fmt.Errorf("%s: truncated or grown: %d bytes, want %d", p, n, size)
	}
	if got := hex.EncodeToString(hh.Sum(nil)); got != h.Hex {
		return fmt.Errorf("%s: damaged: content hashes to sha256:%s", p, got)
	}
	return nil
}

// Tagged implements Target.
func (l *Layout) Tagged(_ context.Context, repo, tag string) (v1.Hash, bool, error) {
	l.mu.Lock()
	r, ok := l.tags[repo+":"+tag]
	l.mu.Unlock()
	if !ok {
		return v1.Hash{}, false, nil
	}
	h, err := v1.NewHash(r.Digest)
	if err != nil {
		return v1.Hash{}, false, nil
	}
	if _, err := os.Stat(l.blobPath(h)); err != nil {
		return v1.Hash{}, false, nil
	}
	return h, true, nil
}

// PutBlob implements Target: a blob already held is not read again.
func (l *Layout) PutBlob(_ context.Context, _ string, d v1.Descriptor, open func() (io.ReadCloser, error)) (int64, error) {
	p := l.blobPath(d.Digest)
	if fi, err := os.Stat(p); err == nil && fi.Size() == d.Size {
		l.addBlob(d.Digest, d.Size)
		return 0, nil
	}
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := l.writeBlob(d.Digest, rc)
	if err != nil {
		return n, err
	}
	if n != d.Size {
		return n, fmt.Errorf("blob %s: %d bytes, manifest says %d", d.Digest, n, d.Size)
	}
	return n, nil
}

// writeBlob stores r as the blob d, checking the digest before the rename.
func (l *Layout) writeBlob(d v1.Hash, r io.Reader) (int64, error) {
	p := l.blobPath(d)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+d.Hex[:12]+"-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("writing %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.Hex {
		return n, fmt.Errorf("blob %s: content hashes to sha256:%s", d, got)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return n, err
	}
	l.addBlob(d, n)
	return n, nil
}

func (l *Layout) addBlob(d v1.Hash, n int64) {
	l.mu.Lock()
	l.index.Blobs[d.String()] = n
	l.mu.Unlock()
}

// PutManifest implements Target: the manifest is a blob; a tag is held in
// memory until Commit.
func (l *Layout) PutManifest(_ context.Context, _ string, ref string, raw []byte, _ types.MediaType) error {
	sum := sha256.Sum256(raw)
	d := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	if fi, err := os.Stat(l.blobPath(d)); err == nil && fi.Size() == int64(len(raw)) {
		l.addBlob(d, int64(len(raw)))
		return nil
	}
	_, err := l.writeBlob(d, strings.NewReader(string(raw)))
	return err
}

// Commit writes the indexes for what is held, the images of results that
// arrived included: hcpmirror-index.json and the OCI index.json, atomically.
// Until Commit, new blobs are present but no image names them, so a reader
// of an interrupted directory sees only complete images.
func (l *Layout) Commit(results []Result) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range results {
		if r.Status != StatusCopied && r.Status != StatusPresent {
			continue
		}
		l.tags[r.Image.Repo+":"+r.Image.Tag] = Record{Image: r.Image, Root: LayoutRoot, Digest: r.Digest}
	}
	keys := make([]string, 0, len(l.tags))
	for k := range l.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	l.index.Images = l.index.Images[:0]
	oci := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, k := range keys {
		r := l.tags[k]
		l.index.Images = append(l.index.Images, r)
		h, err := v1.NewHash(r.Digest)
		if err != nil {
			continue
		}
		size := l.index.Blobs[r.Digest]
		mt, err := manifestMediaType(l.blobPath(h))
		if err != nil {
			return err
		}
		oci.Manifests = append(oci.Manifests, v1.Descriptor{MediaType: mt, Size: size, Digest: h, Annotations: map[string]string{refNameAnnotation: k, sourceAnnotation: r.Source}})
	}
	ib, err := json.MarshalIndent(l.index, "", "  ")
	if err != nil {
		return err
	}
	ob, err := json.MarshalIndent(oci, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteDir(l.dir, []atomicfile.File{
		{Name: "oci-layout", Data: []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")},
		{Name: "index.json", Data: append(ob, '\n')},
		{Name: LayoutIndexFile, Data: append(ib, '\n')},
	}, nil, atomicfile.DefaultPerm)
}

func manifestMediaType(p string) (types.MediaType, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if m.MediaType == "" {
		return types.OCIManifestSchema1, nil
	}
	return m.MediaType, nil
}

// Manifest implements Source: by digest from the blobs, by source
// reference from the index.
func (l *Layout) Manifest(_ context.Context, ref string) ([]byte, types.MediaType, v1.Hash, error) {
	d, ok := digestOf(ref)
	if !ok {
		var err error
		if d, err = l.Digest(context.Background(), ref); err != nil {
			return nil, "", v1.Hash{}, err
		}
	}
	b, err := os.ReadFile(l.blobPath(d))
	if err != nil {
		return nil, "", v1.Hash{}, fmt.Errorf("%s: manifest %s not held: %w", l.dir, d, err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != d.Hex {
		return nil, "", v1.Hash{}, fmt.Errorf("%s: damaged", l.blobPath(d))
	}
	mt, err := manifestMediaType(l.blobPath(d))
	if err != nil {
		return nil, "", v1.Hash{}, err
	}
	return b, mt, d, nil
}

// Digest implements Source from the index: the layout answers for the
// source references it holds, without contacting them.
func (l *Layout) Digest(_ context.Context, ref string) (v1.Hash, error) {
	for _, r := range l.index.Images {
		if r.Source == ref {
			return v1.NewHash(r.Digest)
		}
	}
	return v1.Hash{}, fmt.Errorf("%s: %s is not held", l.dir, ref)
}

// Blob implements Source.
func (l *Layout) Blob(_ context.Context, _ string, d v1.Descriptor) (io.ReadCloser, error) {
	f, err := os.Open(l.blobPath(d.Digest))
	if err != nil {
		return nil, fmt.Errorf("%s: blob %s not held: %w", l.dir, d.Digest, err)
	}
	return f, nil
}
