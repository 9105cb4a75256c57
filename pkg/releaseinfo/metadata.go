package releaseinfo

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// ImageMetadata is what the control plane needs to know about an image
// before running it: its digest (to pin pod specs to) and its config (labels,
// entrypoint, user). Values returned by a Provider are shared with its
// cache: treat them as read-only.
type ImageMetadata struct {
	// Reference is the reference asked for, normalised.
	Reference string
	// Image is the canonical digest reference: the source repository at
	// Digest, never a mirror.
	Image string
	// Digest is the digest the reference resolves to: the manifest list's
	// for a multi-architecture image, so a pin keeps working on every
	// architecture.
	Digest string
	// MediaType is the media type of that manifest.
	MediaType string
	// PlatformDigest is the digest of the platform's manifest (equal to
	// Digest for a single-platform image).
	PlatformDigest string
	// Platform is the platform of the image read, "linux/amd64".
	Platform string
	// ServedBy is the physical reference that served the manifest.
	ServedBy string
	// Config is the image's config file.
	Config *v1.ConfigFile
}

// ImageMetadata resolves ref through mirrors (nil: no mirror sets) and
// returns its manifest digest and config, read from the first pull source
// that serves them, with the same rules, credentials and cache as Lookup:
// a tag is resolved to a digest through tag-capable sources only, a digest
// is checked against the content, and a NeverContactSource source is never
// contacted.
func (p *Provider) ImageMetadata(ctx context.Context, mirrors *mirrorset.Config, ref string, pullSecret []byte) (*ImageMetadata, error) {
	pl, err := p.plan("metadata", mirrors, ref, pullSecret)
	if err != nil {
		return nil, fmt.Errorf("image metadata: %w", err)
	}
	return cached(ctx, p, p.metadata, pl, p.fetchMetadata)
}

func (p *Provider) fetchMetadata(ctx context.Context, pl *plan) (*ImageMetadata, error) {
	client, err := p.client(pl)
	if err != nil {
		return nil, err
	}
	attempts := make([]*registry.Error, 0, len(pl.sources))
	for _, src := range pl.sources {
		m, err := p.readMetadata(ctx, client, pl, src)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("image metadata of %s: %w", pl.ref, err)
		}
		attempts = append(attempts, asRegistryError(src, err))
	}
	return nil, fmt.Errorf("image metadata of %s: %w", pl.ref, &registry.SourcesError{Attempts: attempts})
}

// readMetadata reads manifest and config from one source. A source whose
// config blob is missing is as useless as one without the manifest, so both
// count as that source's failure.
func (p *Provider) readMetadata(ctx context.Context, client *registry.Client, pl *plan, src string) (*ImageMetadata, error) {
	img, err := client.Image(ctx, src, p.opts.platform)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	m := &ImageMetadata{
		Reference:      pl.ref.String(),
		Digest:         d.String(),
		MediaType:      string(mt),
		PlatformDigest: d.String(),
		Platform:       platformString(cfg.OS, cfg.Architecture, cfg.Variant),
		ServedBy:       img.Reference,
		Config:         cfg,
	}
	if img.Index != nil {
		m.Digest, m.MediaType = img.Index.Digest.String(), string(img.Index.MediaType)
	}
	m.Image = pl.ref.Name() + "@" + m.Digest
	return m, nil
}
