package catalog

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ConfigsLabel is the image label that names the catalog directory inside a
// catalog image, normally /configs.
const ConfigsLabel = "operators.operatorframework.io.index.configs.v1"

// Whiteout markers of the OCI image layer format: a file ".wh.NAME" deletes
// NAME of the layers below; ".wh..wh..opq" in a directory hides everything
// the layers below have in it.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// ConfigsDir returns the catalog directory of a catalog image, from its
// ConfigsLabel, as a clean path without the leading slash ("configs").
func ConfigsDir(img v1.Image) (string, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("reading image config: %w", err)
	}
	label := cf.Config.Labels[ConfigsLabel]
	if label == "" {
		return "", fmt.Errorf("image has no label %s: not a file-based catalog", ConfigsLabel)
	}
	dir := cleanPath(label)
	if dir == "" {
		return "", fmt.Errorf("label %s=%q names the root directory", ConfigsLabel, label)
	}
	return dir, nil
}

// cleanPath turns a path from a tar header or a label into the form used
// here: slash separated, relative to the image root, no "." or "..".
func cleanPath(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

// Load reads the file-based catalog of a catalog image: the directory named
// by its ConfigsLabel, as the layers compose it (upper layers replace files
// of lower ones; whiteouts and opaque directories delete them). Only that
// directory is kept in memory. Layers are read from the top, and reading
// stops at the first layer below which the directory cannot show through,
// so a catalog rebuilt by [Rebuild] costs one small layer to read.
//
// For a multi-architecture catalog, load one of its images: every image of
// an index holds the same catalog.
func Load(ctx context.Context, img v1.Image) (*Config, error) {
	dir, err := ConfigsDir(img)
	if err != nil {
		return nil, err
	}
	files, err := readTree(ctx, img, dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("catalog directory /%s is empty or missing", dir)
	}
	released := map[string]bool{}
	cfg, err := load(source{
		paths: slices.Collect(maps.Keys(files)),
		read: func(p string) ([]byte, error) {
			if b, ok := files[p]; ok {
				return b, nil
			}
			if released[p] {
				// Only a bundle object can be read after parsing,
				// and a file that parsed as catalog objects is not one.
				return nil, errors.New("is a catalog file, not a bundle object")
			}
			return nil, fs.ErrNotExist
		},
		release: func(p string) {
			delete(files, p)
			released[p] = true
		},
	})
	if err != nil {
		return nil, fmt.Errorf("catalog /%s: %w", dir, err)
	}
	return cfg, nil
}

// LoadIndex reads the catalog of a multi-architecture catalog image from
// one of its images: linux/amd64 when the index has it, else the first
// image. Every image of a catalog index holds the same catalog.
func LoadIndex(ctx context.Context, idx v1.ImageIndex) (*Config, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	var pick *v1.Descriptor
	for i := range im.Manifests {
		d := &im.Manifests[i]
		if !d.MediaType.IsImage() || (d.Platform != nil && d.Platform.OS == "unknown") {
			continue
		}
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
			pick = d
			break
		}
		if pick == nil {
			pick = d
		}
	}
	if pick == nil {
		return nil, errors.New("index has no image")
	}
	img, err := idx.Image(pick.Digest)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", pick.Digest, err)
	}
	cfg, err := Load(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("image %s (%s): %w", pick.Digest, platformString(pick.Platform), err)
	}
	return cfg, nil
}

// entry is what a layer has at one path of interest.
type entry struct {
	typ  byte // tar type flag, normalised: TypeReg, TypeDir, TypeSymlink, TypeLink, or 0 for other
	data []byte
	link string // target of a link
}

// merged is what the layers above the current one have decided.
type merged struct {
	whiteouts map[string]bool   // deleted paths
	opaque    map[string]bool   // directories whose lower content is hidden
	entries   map[string]*entry // paths present (first = topmost)
}

// hidden reports whether a lower layer's entry at name cannot show through:
// an upper layer has the same path, or deleted it or a directory above it.
func (m *merged) hidden(name string) bool {
	if _, ok := m.entries[name]; ok {
		return true
	}
	return m.deleted(name)
}

// deleted reports whether an upper layer deleted name or a directory above
// it (whiteout, opaque parent, or a parent that is not a directory).
func (m *merged) deleted(name string) bool {
	for a := name; ; {
		if m.whiteouts[a] {
			return true
		}
		if a == "" {
			return false
		}
		parent := path.Dir(a)
		if parent == "." {
			parent = ""
		}
		if m.opaque[parent] {
			return true
		}
		if e, ok := m.entries[parent]; ok && parent != "" && e.typ != tar.TypeDir {
			return true
		}
		a = parent
	}
}

// sealed reports whether nothing of lower layers can appear at or below dir.
func (m *merged) sealed(dir string) bool {
	if e, ok := m.entries[dir]; ok && e.typ != tar.TypeDir {
		return true
	}
	return m.opaque[dir] || m.deleted(dir)
}

// readTree returns the regular files below dir as the image's layers
// compose them, keyed by path relative to dir.
func readTree(ctx context.Context, img v1.Image, dir string) (map[string][]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	m := &merged{whiteouts: map[string]bool{}, opaque: map[string]bool{}, entries: map[string]*entry{}}
	relevant := func(name string) bool {
		return name == dir || strings.HasPrefix(name, dir+"/") || name == "" || strings.HasPrefix(dir, name+"/")
	}
	for i := len(layers) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := readLayer(ctx, layers[i], m, relevant); err != nil {
			d, _ := layers[i].Digest()
			return nil, fmt.Errorf("layer %d (%s): %w", i, d, err)
		}
		if m.sealed(dir) {
			// Nothing below this layer can reach dir any more.
			break
		}
	}
	return collect(m, dir)
}

func readLayer(ctx context.Context, l v1.Layer, m *merged, relevant func(string) bool) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	layer := &merged{whiteouts: map[string]bool{}, opaque: map[string]bool{}, entries: map[string]*entry{}}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := cleanPath(h.Name)
		base, parent := path.Base(name), path.Dir(name)
		if parent == "." {
			parent = ""
		}
		switch {
		case base == opaqueMarker:
			if relevant(parent) {
				layer.opaque[parent] = true
			}
			continue
		case strings.HasPrefix(base, whiteoutPrefix):
			target := path.Join(parent, strings.TrimPrefix(base, whiteoutPrefix))
			if relevant(target) {
				layer.whiteouts[target] = true
			}
			continue
		}
		if name == "" || !relevant(name) || m.hidden(name) {
			continue
		}
		e := &entry{}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			e.typ = tar.TypeReg
			if e.data, err = io.ReadAll(tr); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		case tar.TypeDir:
			e.typ = tar.TypeDir
		case tar.TypeSymlink:
			e.typ, e.link = tar.TypeSymlink, h.Linkname
		case tar.TypeLink:
			e.typ, e.link = tar.TypeLink, cleanPath(h.Linkname)
		}
		layer.entries[name] = e // a later entry of the same layer wins
	}
	for k := range layer.whiteouts {
		m.whiteouts[k] = true
	}
	for k := range layer.opaque {
		m.opaque[k] = true
	}
	for k, e := range layer.entries {
		m.entries[k] = e
	}
	return nil
}

// collect turns the merged entries below dir into file contents, resolving
// links that point at files of the catalog.
func collect(m *merged, dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	var errs []error
	for name, e := range m.entries {
		if !strings.HasPrefix(name, dir+"/") {
			continue
		}
		rel := strings.TrimPrefix(name, dir+"/")
		switch e.typ {
		case tar.TypeReg:
			files[rel] = e.data
		case tar.TypeDir:
		case tar.TypeSymlink, tar.TypeLink:
			target := resolve(m, name, e)
			if target == nil {
				errs = append(errs, fmt.Errorf("/%s: link to %q, which is not a file of the image", name, e.link))
				continue
			}
			files[rel] = target.data
		default:
			errs = append(errs, fmt.Errorf("/%s: not a regular file", name))
		}
	}
	return files, errors.Join(errs...)
}

// resolve follows links (at most a few, to stop loops) to a regular file.
func resolve(m *merged, name string, e *entry) *entry {
	for range 8 {
		switch e.typ {
		case tar.TypeReg:
			return e
		case tar.TypeLink:
			name = e.link
		case tar.TypeSymlink:
			if path.IsAbs(e.link) {
				name = cleanPath(e.link)
			} else {
				name = cleanPath(path.Join(path.Dir(name), e.link))
			}
		default:
			return nil
		}
		next, ok := m.entries[name]
		if !ok {
			return nil
		}
		e = next
	}
	return nil
}
