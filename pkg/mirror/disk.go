package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
)

// recordingGraphs remembers every graph a mirror-to-disk run fetched, so
// that the disk-to-mirror run resolves channels the same way offline.
type recordingGraphs struct {
	next GraphSource
	mu   sync.Mutex
	got  map[string]*cincinnati.Graph
}

func graphKey(channel, arch string) string { return channel + "/" + arch }

func (r *recordingGraphs) Graph(ctx context.Context, endpoint, channel, arch string) (*cincinnati.Graph, error) {
	g, err := r.next.Graph(ctx, endpoint, channel, arch)
	if err == nil {
		r.mu.Lock()
		r.got[graphKey(channel, arch)] = g
		r.mu.Unlock()
	}
	return g, err
}

// heldGraphs answers from the graphs a layout holds.
type heldGraphs struct {
	dir    string
	graphs map[string]*cincinnati.Graph
}

func (h heldGraphs) Graph(_ context.Context, _, channel, arch string) (*cincinnati.Graph, error) {
	g, ok := h.graphs[graphKey(channel, arch)]
	if !ok {
		return nil, fmt.Errorf("%s holds no update graph for channel %s (%s): run `hcpmirror mirror -c ISC file://%s` with this channel first", h.dir, channel, arch, h.dir)
	}
	return g, nil
}

// Plan narrows what the layout holds to what isc asks for, without
// contacting any source registry or update service: channels resolve
// through the graphs the mirror-to-disk runs saved, releases are matched
// to the ones held by version and architecture, additional images by
// reference, and each operators entry's catalog is read from the layout
// and filtered again (a config narrower than the one that filled the
// directory gets a catalog rebuilt once more, holding only its bundles).
// Anything isc asks for that the layout does not hold is an error naming
// it.
func (l *Layout) Plan(ctx context.Context, isc *imageset.ImageSetConfiguration) (*Plan, error) {
	held := l.Images()
	byDest := map[string]Image{}
	for _, im := range held {
		byDest[im.Repo+":"+im.Tag] = im
	}
	p := &Plan{}
	var errs []error

	// Releases.
	type relKey struct{ version, arch string }
	want := map[relKey]bool{}
	pl := isc.Mirror.Platform
	if pl.Release != "" {
		arch := imageset.DefaultArchitecture
		if len(pl.Architectures) == 1 {
			arch = pl.Architectures[0]
		}
		found := false
		for _, r := range l.index.Releases {
			if r.From == pl.Release || r.Image == pl.Release {
				want[relKey{r.Version, r.Arch}], found = true, true
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("mirror.platform.release %s (%s): not held in %s", pl.Release, arch, l.dir))
		}
	}
	graphs := heldGraphs{dir: l.dir, graphs: l.index.Graphs}
	for ci, ch := range pl.Channels {
		for _, arch := range pl.Archs() {
			nodes, err := channelNodes(ctx, graphs, "", ci, ch, arch)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, n := range nodes {
				want[relKey{n.Version, arch}] = true
			}
		}
	}
	for k := range want {
		i := slices.IndexFunc(l.index.Releases, func(r Release) bool { return r.Version == k.version && r.Arch == k.arch })
		if i < 0 {
			errs = append(errs, fmt.Errorf("release %s (%s): not held in %s", k.version, k.arch, l.dir))
			continue
		}
		r := l.index.Releases[i]
		p.Releases = append(p.Releases, r)
		prefix := r.Version + "-" + releaseArchTags[r.Arch]
		for _, im := range held {
			switch im.Kind {
			case KindRelease, KindComponent, KindKubeVirt:
				if im.Kind == KindKubeVirt && !pl.KubeVirtContainer {
					continue
				}
				if im.Tag == prefix || strings.HasPrefix(im.Tag, prefix+"-") {
					p.Images = append(p.Images, im)
				}
			}
		}
	}

	// Additional images: the same copies a mirror run plans.
	var missing []Image
	add := &Plan{}
	if err := add.planAdditional(isc); err != nil {
		errs = append(errs, err)
	}
	for _, im := range add.Images {
		h, ok := byDest[im.Repo+":"+im.Tag]
		if !ok || h.Source != im.Source {
			missing = append(missing, im)
			continue
		}
		p.Images = append(p.Images, h)
	}

	// Operators.
	for i, op := range isc.Mirror.Operators {
		if err := l.planCatalog(ctx, p, op, byDest, &missing); err != nil {
			errs = append(errs, fmt.Errorf("mirror.operators[%d] (%s): %w", i, op.Catalog, err))
		}
	}
	// What is asked for and not held is an error, unless blocked.
	miss := &Plan{Images: missing}
	if err := miss.block(isc); err != nil {
		return nil, err
	}
	for _, im := range miss.Images {
		errs = append(errs, fmt.Errorf("%s %s: not held in %s", im.Kind, im.Source, l.dir))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := p.block(isc); err != nil {
		return nil, err
	}
	p.Blocked = append(p.Blocked, miss.Blocked...)
	if err := p.dedupe(); err != nil {
		return nil, err
	}
	return p, nil
}

// planCatalog finds the catalog an operators entry names in the layout,
// filters it and lists its bundles and related images as held.
func (l *Layout) planCatalog(ctx context.Context, p *Plan, op imageset.Operator, byDest map[string]Image, missing *[]Image) error {
	ref, err := imageref.Parse(op.Catalog)
	if err != nil {
		return err
	}
	repo, tag := ref.Path(), ref.Tag()
	if op.TargetCatalog != "" {
		repo = op.TargetCatalog
	}
	if op.TargetTag != "" {
		tag = op.TargetTag
	}
	if tag == "" && ref.IsDigested() {
		// A catalog asked for by digest is held under the tag the plan
		// gives it; any other catalog of the repository is another one.
		tag = digestTag(ref.Digest())
	}
	var cat Image
	for _, im := range byDest {
		if im.Kind == KindCatalog && im.SourceRepo() == ref.Name() && im.Repo == repo && im.Tag == tag {
			cat = im
			break
		}
	}
	if cat.Source == "" {
		return fmt.Errorf("catalog not held in %s", l.dir)
	}
	art, err := l.artifact(cat.Source)
	if err != nil {
		return err
	}
	var cfg *catalog.Config
	idx, isIndex := art.(v1.ImageIndex)
	if isIndex {
		cfg, err = catalog.LoadIndex(ctx, idx)
	} else {
		cfg, err = catalog.Load(ctx, art.(v1.Image))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cat.Source, err)
	}
	if !(op.Full && len(op.Packages) == 0) {
		kept, err := catalog.Filter(cfg, op.Full, packageFilters(op))
		if err != nil {
			return err
		}
		if len(kept.Bundles) != len(cfg.Bundles) {
			// Narrower than what the directory was filled with: the
			// catalog pushed must not offer bundles left out here.
			var built BuiltArtifact
			if isIndex {
				built, err = catalog.RebuildIndex(idx, kept)
			} else {
				built, err = catalog.Rebuild(art.(v1.Image), kept)
			}
			if err != nil {
				return fmt.Errorf("rebuilding the catalog: %w", err)
			}
			d, err := built.Digest()
			if err != nil {
				return err
			}
			cat.Source = ref.Name() + "@" + d.String()
			if p.Built == nil {
				p.Built = Built{}
			}
			p.Built[cat.Source] = built
		}
		cfg = kept
	}
	p.Images = append(p.Images, cat)
	var errs []error
	for _, ci := range catalog.RelatedImages(cfg) {
		im, err := operandImage(ci)
		if err != nil {
			errs = append(errs, fmt.Errorf("bundles %v: %w", ci.Bundles, err))
			continue
		}
		h, ok := byDest[im.Repo+":"+im.Tag]
		if !ok || h.Source != im.Source {
			*missing = append(*missing, im)
			continue
		}
		p.Images = append(p.Images, h)
	}
	return errors.Join(errs...)
}

// artifact is a held image or index as go-containerregistry reads it.
func (l *Layout) artifact(ref string) (BuiltArtifact, error) {
	raw, mt, _, err := l.Manifest(context.Background(), ref)
	if err != nil {
		return nil, err
	}
	if mt.IsIndex() {
		return &layoutIndexArtifact{l: l, raw: raw, mt: mt}, nil
	}
	return partial.CompressedToImage(&layoutImage{l: l, raw: raw, mt: mt})
}

// layoutImage is a held image, for partial.CompressedToImage.
type layoutImage struct {
	l   *Layout
	raw []byte
	mt  types.MediaType
}

func (i *layoutImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *layoutImage) MediaType() (types.MediaType, error) { return i.mt, nil }
func (i *layoutImage) RawConfigFile() ([]byte, error) {
	m, err := v1.ParseManifest(bytes.NewReader(i.raw))
	if err != nil {
		return nil, err
	}
	rc, err := i.l.Blob(context.Background(), "", m.Config)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (i *layoutImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m, err := v1.ParseManifest(bytes.NewReader(i.raw))
	if err != nil {
		return nil, err
	}
	for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		if d.Digest == h {
			return &streamLayer{desc: d, open: func() (io.ReadCloser, error) { return i.l.Blob(context.Background(), "", d) }}, nil
		}
	}
	return nil, fmt.Errorf("layer %s not in the manifest", h)
}

// layoutIndexArtifact is a held index, as a v1.ImageIndex.
type layoutIndexArtifact struct {
	l   *Layout
	raw []byte
	mt  types.MediaType
}

func (x *layoutIndexArtifact) MediaType() (types.MediaType, error) { return x.mt, nil }
func (x *layoutIndexArtifact) Digest() (v1.Hash, error)            { return partial.Digest(x) }
func (x *layoutIndexArtifact) Size() (int64, error)                { return partial.Size(x) }
func (x *layoutIndexArtifact) RawManifest() ([]byte, error)        { return x.raw, nil }
func (x *layoutIndexArtifact) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(x.raw))
}

func (x *layoutIndexArtifact) Image(h v1.Hash) (v1.Image, error) {
	a, err := x.l.artifact("@" + h.String())
	if err != nil {
		return nil, err
	}
	img, ok := a.(v1.Image)
	if !ok {
		return nil, fmt.Errorf("%s is an index, not an image", h)
	}
	return img, nil
}

func (x *layoutIndexArtifact) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	a, err := x.l.artifact("@" + h.String())
	if err != nil {
		return nil, err
	}
	idx, ok := a.(v1.ImageIndex)
	if !ok {
		return nil, fmt.Errorf("%s is an image, not an index", h)
	}
	return idx, nil
}
