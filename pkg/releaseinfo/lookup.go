package releaseinfo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// ErrNoBootImages reports a release without the coreos-bootimages ConfigMap
// when RequireBootImages is set: the operator cannot boot KubeVirt (or any
// other) NodePools from it.
var ErrNoBootImages = errors.New("the release has no boot images (" + release.BootImagesFile + ")")

// Release is a release payload as a cluster would use it. Values returned by
// a Provider are shared with its cache and with other callers: treat them
// as read-only.
type Release struct {
	// Reference is the reference asked for, normalised (for example
	// quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64).
	Reference string
	// Image is the canonical digest reference: the source repository at
	// the resolved digest, never a mirror. It is what a cluster should be
	// pinned to.
	Image string
	// Digest is the digest of the manifest the reference resolves to (of
	// the manifest list, for a multi-architecture release).
	Digest string
	// PlatformDigest is the digest of the platform's manifest inside a
	// manifest list; equal to Digest for a single-platform release.
	PlatformDigest string
	// Version is the release version from image-references.
	Version string
	// ServedBy is the physical reference that served the manifest: the
	// mirror actually used, or the source when nothing redirected it.
	ServedBy string
	// Platform is the platform read, "linux/amd64" for instance.
	Platform string
	// Architectures lists the platforms the release image offers: every
	// child of a manifest list, or the image's own platform.
	Architectures []string
	// Created is the release image's creation time.
	Created time.Time

	// Components maps each component name to the reference the payload
	// gives it, canonical (normally ocp-v4.0-art-dev@sha256:…).
	Components map[string]string
	// Unpinned names the components referenced by tag instead of digest,
	// in payload order. They are accepted, but a tag cannot be checked
	// against what a mirror serves, and digest mirrors never serve it.
	Unpinned []string
	// Commits are the build annotations per component, for components that
	// carry them.
	Commits map[string]Commit
	// ComponentVersions merges the components' io.openshift.build.versions
	// ("kubernetes" → "1.29.5", "machine-os" → "416.94…").
	ComponentVersions map[string]string
	// ComponentVersionNames gives display names for ComponentVersions keys
	// ("machine-os" → "Red Hat Enterprise Linux CoreOS").
	ComponentVersionNames map[string]string

	// Metadata is release-metadata, nil when the payload has none.
	Metadata *Metadata
	// BootImages is the coreos-bootimages ConfigMap, nil when absent (an
	// error with RequireBootImages, a warning otherwise).
	BootImages *release.BootImages
	// Stream is the decoded CoreOS stream of BootImages.
	Stream *release.Stream
	// KubeVirt is the KubeVirt boot image's digest-ref for the release's
	// architecture: the one image a KubeVirt NodePool pulls that
	// image-references does not list. Empty when the stream has none.
	KubeVirt string

	// Warnings are problems that do not stop the release from being used:
	// a missing boot image stream (without RequireBootImages), missing
	// metadata, conflicting component versions, a version label that
	// disagrees with image-references.
	Warnings []string
}

// ComponentNames returns the component names, sorted.
func (r *Release) ComponentNames() []string {
	return slices.Sorted(maps.Keys(r.Components))
}

// Commit is where a component was built from, for `release info --commits`
// and for tracing a component back to its source.
type Commit struct {
	// ID is the commit hash (io.openshift.build.commit.id).
	ID string
	// Ref is the branch or tag built, often empty
	// (io.openshift.build.commit.ref).
	Ref string
	// SourceLocation is the repository URL
	// (io.openshift.build.source-location).
	SourceLocation string
}

// Metadata is the release's own view of the update graph.
type Metadata struct {
	// Version is release-metadata's version.
	Version string
	// Channels are the update channels the release is published to.
	Channels []string
	// Previous lists the versions it may be updated from.
	Previous []string
	// Next lists the versions it may be updated to.
	Next []string
	// URL is the errata link, when present.
	URL string
	// Values holds every metadata key, channels and URL included.
	Values map[string]string
}

// Lookup resolves image through mirrors (nil: no mirror sets) and returns the
// release it names, read from the first pull source that serves it. The
// answer is cached per image, pull secret and pull sources.
//
// pullSecret is a .dockerconfigjson whose credentials are used for this
// lookup (looked up per physical registry, so mirror credentials must be in
// it); nil uses the Provider's default credentials.
//
// Errors: a reference that does not parse or cannot be rewritten; an
// *UnpullableError when no pull source is left; a *registry.SourcesError
// (wrapped) listing each source's failure when none served; a payload
// without image-references (release.ErrNoImageReferences) or, with
// RequireBootImages, without boot images (ErrNoBootImages).
func (p *Provider) Lookup(ctx context.Context, mirrors *mirrorset.Config, image string, pullSecret []byte) (*Release, error) {
	pl, err := p.plan("release", mirrors, image, pullSecret)
	if err != nil {
		return nil, fmt.Errorf("looking up release: %w", err)
	}
	return cached(ctx, p, p.releases, pl, p.fetchRelease)
}

// fetchRelease walks the pull sources (registry.FromSources) until one
// serves both the manifest and a readable payload. A source that serves the
// manifest but fails on the config or the payload layer (an incomplete
// mirror) is passed over like one that lacks the manifest; a payload that is
// read but malformed is an error at once, since every source serves the same
// bytes.
func (p *Provider) fetchRelease(ctx context.Context, pl *plan) (*Release, error) {
	client, err := p.client(pl)
	if err != nil {
		return nil, err
	}
	rel, err := registry.FromSources(ctx, pl.sources, func(ctx context.Context, src string) (*Release, error) {
		img, err := client.Image(ctx, src, p.opts.platform)
		if err != nil {
			return nil, err
		}
		payload, err := release.Parse(img)
		if err != nil {
			var re *registry.Error
			if !errors.As(err, &re) {
				return nil, fmt.Errorf("release %s served by %s: %w", pl.ref, src, err)
			}
			return nil, &registry.Error{Reference: src, Registry: re.Registry, Kind: re.Kind, Err: fmt.Errorf("reading the payload: %w", err)}
		}
		rel, err := p.newRelease(pl, img, payload)
		if err != nil {
			return nil, fmt.Errorf("release %s served by %s: %w", pl.ref, src, err)
		}
		return rel, nil
	})
	if err != nil {
		var se *registry.SourcesError
		var re *registry.Error
		if errors.As(err, &se) || errors.As(err, &re) {
			return nil, fmt.Errorf("looking up release %s: %w", pl.ref, err)
		}
		return nil, err
	}
	return rel, nil
}

// coreOSArch maps container architectures to the names CoreOS streams use.
var coreOSArch = map[string]string{
	"amd64":   "x86_64",
	"arm64":   "aarch64",
	"ppc64le": "ppc64le",
	"s390x":   "s390x",
}

// newRelease assembles a Release from what the source served.
func (p *Provider) newRelease(pl *plan, img *registry.Image, payload *release.Payload) (*Release, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	child, err := img.Digest()
	if err != nil {
		return nil, err
	}
	r := &Release{
		Reference:      pl.ref.String(),
		Digest:         child.String(),
		PlatformDigest: child.String(),
		Version:        payload.Version,
		ServedBy:       img.Reference,
		Created:        cfg.Created.Time,
		Platform:       platformString(cfg.OS, cfg.Architecture, cfg.Variant),
	}
	if img.Index != nil {
		r.Digest = img.Index.Digest.String()
		r.Architectures = indexPlatforms(img.Index)
	} else {
		r.Architectures = []string{r.Platform}
	}
	r.Image = pl.ref.Name() + "@" + r.Digest

	if payload.ReleaseLabel != "" && payload.ReleaseLabel != payload.Version {
		r.warnf("the %s label says %q but image-references says %q", release.LabelRelease, payload.ReleaseLabel, payload.Version)
	}
	r.Components = make(map[string]string, len(payload.Components))
	for _, c := range payload.Components {
		r.Components[c.Name] = c.Image
	}
	for _, c := range payload.Unpinned {
		r.Unpinned = append(r.Unpinned, c.Name)
	}
	r.Commits = map[string]Commit{}
	r.ComponentVersions = map[string]string{}
	r.ComponentVersionNames = map[string]string{}
	versionFrom := map[string]string{}
	for _, t := range payload.ImageReferences.Spec.Tags {
		a := t.Annotations
		if c := (Commit{ID: a[release.AnnotationCommitID], Ref: a[release.AnnotationCommitRef], SourceLocation: a[release.AnnotationSourceLocation]}); c != (Commit{}) {
			r.Commits[t.Name] = c
		}
		if s := a[release.AnnotationVersions]; s != "" {
			vs, err := parseBuildVersions(s)
			if err != nil {
				r.warnf("component %s: %s: %v", t.Name, release.AnnotationVersions, err)
			}
			for _, k := range slices.Sorted(maps.Keys(vs)) {
				if old, ok := r.ComponentVersions[k]; ok && old != vs[k] {
					r.warnf("component %s says %s=%s but %s says %s=%s; keeping %s", t.Name, k, vs[k], versionFrom[k], k, old, old)
					continue
				}
				r.ComponentVersions[k], versionFrom[k] = vs[k], t.Name
			}
		}
		if s := a[release.AnnotationVersionDisplayNames]; s != "" {
			names, _ := parseBuildVersions(s)
			for k, v := range names {
				if _, ok := r.ComponentVersionNames[k]; !ok {
					r.ComponentVersionNames[k] = v
				}
			}
		}
	}

	if m := payload.Metadata; m != nil {
		r.Metadata = &Metadata{
			Version:  m.Version,
			Previous: slices.Clone(m.Previous),
			Next:     slices.Clone(m.Next),
			URL:      m.Metadata[release.MetadataURLKey],
			Values:   m.Metadata,
		}
		for _, ch := range strings.Split(m.Metadata[release.MetadataChannelsKey], ",") {
			if ch = strings.TrimSpace(ch); ch != "" {
				r.Metadata.Channels = append(r.Metadata.Channels, ch)
			}
		}
	} else {
		r.warnf("the release has no %s: channels and update edges are unknown", release.MetadataFile)
	}

	r.BootImages, r.Stream = payload.BootImages, payload.Stream
	switch {
	case r.Stream == nil && p.opts.requireBootImages:
		return nil, ErrNoBootImages
	case r.Stream == nil:
		r.warnf("%v: KubeVirt NodePools cannot boot from it", ErrNoBootImages)
	default:
		arch := coreOSArch[cfg.Architecture]
		if a, ok := r.Stream.Architectures[arch]; ok && a.Images.KubeVirt != nil && a.Images.KubeVirt.DigestRef != "" {
			r.KubeVirt = a.Images.KubeVirt.DigestRef
		} else {
			r.warnf("the boot image stream has no KubeVirt image for %s", arch)
		}
	}
	return r, nil
}

func (r *Release) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

func platformString(os, arch, variant string) string {
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	return s
}

// indexPlatforms lists the platforms of a manifest list, in index order.
func indexPlatforms(m *registry.Manifest) []string {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range idx.Manifests {
		if d.Platform != nil {
			out = append(out, platformString(d.Platform.OS, d.Platform.Architecture, d.Platform.Variant))
		}
	}
	return out
}

// parseBuildVersions decodes an io.openshift.build.versions (or
// version-display-names) annotation, "kubernetes=1.29.5,kubectl=1.29.5".
// Pieces are trimmed; empty pieces are skipped. A piece without "=" or with
// an empty name is reported, and the well-formed pieces are still returned,
// so one bad entry does not hide the others.
func parseBuildVersions(s string) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, piece := range strings.Split(s, ",") {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		k, v, ok := strings.Cut(piece, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("%q: want name=version", piece))
			continue
		}
		out[k] = v
	}
	return out, errors.Join(errs...)
}
