package mirror

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// planOperators is where operator catalogs join the plan. Each
// mirror.operators entry's catalog is read from its source, filtered with
// pkg/catalog (oc-mirror v2's rules) and rebuilt with only what was kept;
// the rebuilt catalog goes into p.Built under <catalog repo>@<its digest>
// with an Image of KindCatalog (Repo: targetCatalog or the catalog's path,
// Tag: targetTag or its tag), and every kept bundle and related image
// becomes an Image of KindBundle or KindRelated at its source path, by
// digest (DigestPull, Tag sha256-<hex>) or, for the few catalogs that name
// an image by tag, by tag (TagPull). `full: true` without packages keeps
// the whole catalog, which is then copied as it is (its digest, and any
// signature of it, preserved). The CatalogSource, ClusterCatalog, operator
// mirror sets and the olm-catalogs annotation follow from the record.
func (p *Plan) planOperators(ctx context.Context, isc *imageset.ImageSetConfiguration, o PlanOptions) error {
	var errs []error
	for i, op := range isc.Mirror.Operators {
		if err := p.planCatalog(ctx, o.Client, op); err != nil {
			errs = append(errs, fmt.Errorf("mirror.operators[%d] (%s): %w", i, op.Catalog, err))
		}
	}
	return errors.Join(errs...)
}

// packageFilters maps an operators entry's packages to pkg/catalog's form.
func packageFilters(op imageset.Operator) []catalog.PackageFilter {
	var out []catalog.PackageFilter
	for _, pk := range op.Packages {
		f := catalog.PackageFilter{Name: pk.Name, MinVersion: pk.MinVersion, MaxVersion: pk.MaxVersion, DefaultChannel: pk.DefaultChannel}
		for _, ch := range pk.Channels {
			f.Channels = append(f.Channels, catalog.ChannelFilter{Name: ch.Name, MinVersion: ch.MinVersion, MaxVersion: ch.MaxVersion})
		}
		out = append(out, f)
	}
	return out
}

func (p *Plan) planCatalog(ctx context.Context, c *registry.Client, op imageset.Operator) error {
	if c == nil {
		return errors.New("no registry client to read it with")
	}
	ref, err := imageref.Parse(op.Catalog)
	if err != nil {
		return err
	}
	read, err := readCatalog(ctx, c, op.Catalog)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	desc, cfg := read.desc, read.cfg
	whole := op.Full && len(op.Packages) == 0
	var built BuiltArtifact
	if !whole {
		kept, err := catalog.Filter(cfg, op.Full, packageFilters(op))
		if err != nil {
			return err
		}
		cfg = kept
		if built, err = read.rebuild(kept); err != nil {
			return fmt.Errorf("rebuilding the catalog: %w", err)
		}
	}
	digest := desc.Digest
	if built != nil {
		if digest, err = built.Digest(); err != nil {
			return fmt.Errorf("rebuilding the catalog: %w", err)
		}
	}
	src := ref.Name() + "@" + digest.String()
	if built != nil {
		if p.Built == nil {
			p.Built = Built{}
		}
		p.Built[src] = built
	}
	cat := Image{Source: src, Kind: KindCatalog}
	cat.Repo, cat.Tag = catalogTarget(op, ref, desc.Digest.String())
	p.Images = append(p.Images, cat)
	imgs := catalog.RelatedImages(cfg)
	if len(imgs) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("catalog %s: the kept packages name no bundle or related image", op.Catalog))
	}
	var errs []error
	for _, ci := range imgs {
		im, err := operandImage(ci)
		if err != nil {
			errs = append(errs, fmt.Errorf("bundles %v: %w", ci.Bundles, err))
			continue
		}
		p.Images = append(p.Images, im)
	}
	return errors.Join(errs...)
}

// catalogTarget is where a mirror run puts an operators entry's rebuilt
// catalog, below the destination: targetCatalog, else the catalog's path;
// targetTag, else its tag, else sha256-<hex> of digest (the upstream
// catalog's). The CatalogSource and ClusterCatalog are named for it.
func catalogTarget(op imageset.Operator, ref imageref.Reference, digest string) (repo, tag string) {
	repo, tag = ref.Path(), ref.Tag()
	if tag == "" && digest != "" {
		tag = digestTag(digest)
	}
	if op.TargetCatalog != "" {
		repo = op.TargetCatalog
	}
	if op.TargetTag != "" {
		tag = op.TargetTag
	}
	return repo, tag
}

// catalogCopy is a file-based catalog read from one physical reference:
// what was there (an index or a single image), its content, and how kept
// content goes back into the same form.
type catalogCopy struct {
	desc    *remote.Descriptor
	cfg     *catalog.Config
	rebuild func(*catalog.Config) (BuiltArtifact, error)
}

// readCatalog reads the catalog at ref, from the index or the single
// image found there. Every failure is a *registry.Error for ref, so that
// a place holding no catalog, or a broken copy of one, is passed over by
// registry.FromSources like a place without the image.
func readCatalog(ctx context.Context, c *registry.Client, ref string) (*catalogCopy, error) {
	nref, err := c.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	host := nref.Context().RegistryStr()
	desc, err := remote.Get(nref, c.RemoteOptions(ctx)...)
	if err != nil {
		return nil, c.WrapError(ctx, ref, host, err)
	}
	out := &catalogCopy{desc: desc}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err == nil {
			out.cfg, err = catalog.LoadIndex(ctx, idx)
		}
		if err != nil {
			return nil, c.WrapError(ctx, ref, host, err)
		}
		out.rebuild = func(kept *catalog.Config) (BuiltArtifact, error) { return catalog.RebuildIndex(idx, kept) }
		return out, nil
	}
	img, err := desc.Image()
	if err == nil {
		out.cfg, err = catalog.Load(ctx, img)
	}
	if err != nil {
		return nil, c.WrapError(ctx, ref, host, err)
	}
	out.rebuild = func(kept *catalog.Config) (BuiltArtifact, error) { return catalog.Rebuild(img, kept) }
	return out, nil
}

// operandImage is the copy of one bundle or related image: at its source
// path, by digest when the catalog pins it (as catalogs normally do), else
// by tag.
func operandImage(ci catalog.Image) (Image, error) {
	r, err := imageref.Parse(ci.Ref)
	if err != nil {
		return Image{}, err
	}
	im := Image{Kind: KindRelated, Repo: r.Path()}
	if ci.Bundle {
		im.Kind = KindBundle
	}
	switch {
	case r.IsDigested():
		im.Source, im.Tag, im.DigestPull = r.Name()+"@"+r.Digest(), digestTag(r.Digest()), true
	default:
		tag := r.Tag()
		if tag == "" {
			tag = "latest"
		}
		im.Source, im.Tag, im.TagPull = r.Name()+":"+tag, tag, true
	}
	return im, nil
}
