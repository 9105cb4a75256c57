package mirror

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// Kind says what an image is for. It decides the cluster-resource category
// (release, operator, generic) and the order of copying.
type Kind string

// The kinds of images a plan holds.
const (
	KindRelease    Kind = "release"
	KindComponent  Kind = "component"
	KindKubeVirt   Kind = "kubevirt"
	KindAdditional Kind = "additional"
	KindCatalog    Kind = "operator-catalog"
	KindBundle     Kind = "bundle"
	KindRelated    Kind = "related"
)

// Destination repositories of release content, oc-mirror v2's layout.
const (
	ReleaseImagesRepo = "openshift/release-images"
	ComponentsRepo    = "openshift/release"
	// KubeVirtTagSuffix ends the KubeVirt boot image's tag in ComponentsRepo.
	KubeVirtTagSuffix = "kubevirt-container"
)

// Image is one copy: a source reference and where it goes.
type Image struct {
	// Source is the reference to pull: by digest whenever the digest is
	// known when planning (release content, additional images given by
	// digest), else by tag.
	Source string `json:"source"`
	// Repo is the destination repository path below the destination root
	// (openshift/release, karmab/origin-keepalived-ipfailover).
	Repo string `json:"repo"`
	// Tag is the destination tag.
	Tag string `json:"tag"`
	// Kind says what the image is for.
	Kind Kind `json:"kind"`
	// DigestPull is true when clusters pull it by digest: it needs a digest
	// mirror (ImageDigestMirrorSet).
	DigestPull bool `json:"digestPull,omitempty"`
	// TagPull is true when clusters pull it by tag: it needs a tag mirror
	// (ImageTagMirrorSet).
	TagPull bool `json:"tagPull,omitempty"`
	// Release is the release version an image belongs to, for reports.
	Release string `json:"release,omitempty"`
}

// SourceRepo is the source reference's repository (the part mirror-set
// entries name).
func (im Image) SourceRepo() string {
	r, err := imageref.Parse(im.Source)
	if err != nil {
		return im.Source
	}
	return r.Name()
}

// Dest is the destination reference under root (host[:port][/path]).
func (im Image) Dest(root string) string { return root + "/" + im.Repo + ":" + im.Tag }

// Blocked is an image a blockedImages entry removed from the plan.
type Blocked struct {
	Image Image `json:"image"`
	// Pattern is the blockedImages expression that matched.
	Pattern string `json:"pattern"`
}

// Release is one release the plan mirrors.
type Release struct {
	Version string `json:"version"`
	// Arch is the ImageSetConfiguration architecture (amd64, multi, …).
	Arch string `json:"arch"`
	// Image is the release image pulled, by digest.
	Image string `json:"image"`
	// From is the reference it was selected by (the graph's payload or
	// mirror.platform.release).
	From string `json:"from,omitempty"`
	// Channel is where it was selected ("" for mirror.platform.release).
	Channel    string `json:"channel,omitempty"`
	Components int    `json:"components"`
	// KubeVirt is the KubeVirt boot image, when asked for and present.
	KubeVirt string `json:"kubeVirt,omitempty"`
}

// Plan is everything one run copies.
type Plan struct {
	Images   []Image   `json:"images"`
	Blocked  []Blocked `json:"blocked,omitempty"`
	Releases []Release `json:"releases,omitempty"`
	// Built are images made while planning (rebuilt operator catalogs),
	// by the Source of the Image that copies each.
	Built Built `json:"-"`
	// Notes are things the run does differently from what the file may
	// suggest (a release without a KubeVirt image, …).
	Notes []string `json:"notes,omitempty"`
}

// PlanOptions are what planning needs to read.
type PlanOptions struct {
	// Client reads release images from their source registries.
	Client *registry.Client
	// Graphs fetches update graphs; nil means a cincinnati.Client on
	// http.DefaultClient.
	Graphs GraphSource
	// GraphURL is the update service ("" = cincinnati.URL's default and
	// UPDATE_URL_OVERRIDE).
	GraphURL string
}

// GraphSource fetches one channel's graph.
type GraphSource interface {
	Graph(ctx context.Context, endpoint, channel, arch string) (*cincinnati.Graph, error)
}

// releaseArchTags are the architecture names release tags use.
var releaseArchTags = map[string]string{
	"amd64":   "x86_64",
	"arm64":   "aarch64",
	"ppc64le": "ppc64le",
	"s390x":   "s390x",
	"multi":   "multi",
}

// NewPlan resolves isc into copies. Release images are read from their
// sources; nothing is written.
func NewPlan(ctx context.Context, isc *imageset.ImageSetConfiguration, o PlanOptions) (*Plan, error) {
	p := &Plan{}
	var errs []error
	if err := p.planReleases(ctx, isc, o); err != nil {
		errs = append(errs, err)
	}
	if err := p.planAdditional(isc); err != nil {
		errs = append(errs, err)
	}
	if err := p.planOperators(ctx, isc, o); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := p.block(isc); err != nil {
		return nil, err
	}
	if err := p.dedupe(); err != nil {
		return nil, err
	}
	return p, nil
}

// channelNodes are the releases channels[ci] selects for arch, from the
// graph graphs serves at endpoint (the update service, or the graphs a disk
// directory holds), with oc-mirror's selection rules.
func channelNodes(ctx context.Context, graphs GraphSource, endpoint string, ci int, ch imageset.Channel, arch string) ([]cincinnati.Node, error) {
	g, err := graphs.Graph(ctx, endpoint, ch.Name, arch)
	if err != nil {
		return nil, fmt.Errorf("mirror.platform.channels[%d] (%s): %w", ci, ch.Name, err)
	}
	nodes, err := cincinnati.Select(g, cincinnati.Selection{MinVersion: ch.MinVersion, MaxVersion: ch.MaxVersion, ShortestPath: ch.ShortestPath, Full: ch.Full})
	if err != nil {
		return nil, fmt.Errorf("mirror.platform.channels[%d] (%s, %s): %w", ci, ch.Name, arch, err)
	}
	return nodes, nil
}

type releaseRef struct {
	ref, arch, channel string
}

func (p *Plan) planReleases(ctx context.Context, isc *imageset.ImageSetConfiguration, o PlanOptions) error {
	pl := isc.Mirror.Platform
	var refs []releaseRef
	var errs []error
	if pl.Release != "" {
		arch := imageset.DefaultArchitecture
		if len(pl.Architectures) == 1 {
			arch = pl.Architectures[0]
		}
		refs = append(refs, releaseRef{ref: pl.Release, arch: arch})
	}
	graphs := o.Graphs
	if graphs == nil {
		graphs = &cincinnati.Client{}
	}
	for ci, ch := range pl.Channels {
		for _, arch := range pl.Archs() {
			nodes, err := channelNodes(ctx, graphs, cincinnati.URL(o.GraphURL, ch.Type), ci, ch, arch)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, n := range nodes {
				refs = append(refs, releaseRef{ref: n.Payload, arch: arch, channel: ch.Name})
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range refs {
		if seen[r.ref+"|"+r.arch] {
			continue
		}
		seen[r.ref+"|"+r.arch] = true
		if err := p.planRelease(ctx, o.Client, r, pl.KubeVirtContainer); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// planRelease reads one release image and adds it, its components and
// (when asked) its KubeVirt boot image.
func (p *Plan) planRelease(ctx context.Context, c *registry.Client, r releaseRef, kubeVirt bool) error {
	what := "release " + r.ref
	if r.channel != "" {
		what += " (channel " + r.channel + ")"
	}
	if c == nil {
		return fmt.Errorf("%s: no registry client to read it with", what)
	}
	plat := v1.Platform{OS: "linux", Architecture: r.arch}
	if r.arch == "multi" {
		plat = registry.DefaultPlatform
	}
	img, err := c.Image(ctx, r.ref, plat)
	if err != nil {
		return fmt.Errorf("%s: source: %w", what, err)
	}
	payload, err := release.Parse(img)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// Pin the release image by the digest of what was asked for: the index
	// for multi, else the image.
	digest := ""
	if img.Index != nil {
		digest = img.Index.Digest.String()
	} else if d, err := img.Digest(); err == nil {
		digest = d.String()
	}
	ref, err := imageref.Parse(r.ref)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	src := ref.Name() + "@" + digest
	archTag := releaseArchTags[r.arch]
	tag := payload.Version + "-" + archTag
	rel := Release{Version: payload.Version, Arch: r.arch, Image: src, From: r.ref, Channel: r.channel, Components: len(payload.Components)}
	// The release image is pulled by digest and, by people, by tag:
	// oc-mirror puts it in both kinds of mirror sets.
	p.Images = append(p.Images, Image{Source: src, Repo: ReleaseImagesRepo, Tag: tag, Kind: KindRelease, DigestPull: true, TagPull: true, Release: payload.Version})
	for _, comp := range payload.Components {
		im := Image{Source: comp.Image, Repo: ComponentsRepo, Tag: tag + "-" + comp.Name, Kind: KindComponent, DigestPull: comp.Digest != "", TagPull: comp.Digest == "", Release: payload.Version}
		p.Images = append(p.Images, im)
	}
	if kubeVirt {
		kv := kubeVirtImage(payload, r.arch)
		if kv == "" {
			p.Notes = append(p.Notes, fmt.Sprintf("release %s (%s): kubeVirtContainer is set but the payload's coreos-bootimages names no KubeVirt image for this architecture", payload.Version, r.arch))
		} else {
			rel.KubeVirt = kv
			p.Images = append(p.Images, Image{Source: kv, Repo: ComponentsRepo, Tag: tag + "-" + KubeVirtTagSuffix, Kind: KindKubeVirt, DigestPull: true, Release: payload.Version})
		}
	}
	p.Releases = append(p.Releases, rel)
	return nil
}

// coreOSArch maps ImageSetConfiguration architectures to CoreOS stream keys.
var coreOSArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64", "ppc64le": "ppc64le", "s390x": "s390x", "multi": "x86_64"}

func kubeVirtImage(p *release.Payload, arch string) string {
	if p.Stream == nil {
		return ""
	}
	a, ok := p.Stream.Architectures[coreOSArch[arch]]
	if !ok || a.Images.KubeVirt == nil {
		return ""
	}
	return a.Images.KubeVirt.DigestRef
}

// planAdditional adds additionalImages: by tag (tag mirror), by digest
// (digest mirror, destination tag sha256-<hex>), or both (pulled by digest,
// tagged with the tag, both mirrors).
func (p *Plan) planAdditional(isc *imageset.ImageSetConfiguration) error {
	var errs []error
	for i, ai := range isc.Mirror.AdditionalImages {
		r, err := imageref.Parse(ai.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("mirror.additionalImages[%d]: %w", i, err))
			continue
		}
		im := Image{Kind: KindAdditional, Repo: r.Path()}
		switch {
		case r.IsDigested() && r.Tag() != "":
			im.Source, im.Tag, im.DigestPull, im.TagPull = r.Name()+"@"+r.Digest(), r.Tag(), true, true
		case r.IsDigested():
			im.Source, im.Tag, im.DigestPull = r.Name()+"@"+r.Digest(), digestTag(r.Digest()), true
		default:
			tag := r.Tag()
			if tag == "" {
				tag = "latest"
			}
			im.Source, im.Tag, im.TagPull = r.Name()+":"+tag, tag, true
		}
		if ai.TargetRepo != "" {
			im.Repo = ai.TargetRepo
		}
		if ai.TargetTag != "" {
			im.Tag = ai.TargetTag
		}
		p.Images = append(p.Images, im)
	}
	return errors.Join(errs...)
}

// digestTag is oc-mirror v2's destination tag for an image given by digest.
func digestTag(digest string) string { return strings.Replace(digest, ":", "-", 1) }

// block removes images whose source or destination (below the destination
// root, as oc-mirror v2 matches it) an unanchored blockedImages expression
// matches.
func (p *Plan) block(isc *imageset.ImageSetConfiguration) error {
	type pat struct {
		re  *regexp.Regexp
		src string
	}
	var pats []pat
	for i, b := range isc.Mirror.BlockedImages {
		re, err := regexp.Compile(b.Name)
		if err != nil {
			return fmt.Errorf("mirror.blockedImages[%d].name: %w", i, err)
		}
		pats = append(pats, pat{re, b.Name})
	}
	if len(pats) == 0 {
		return nil
	}
	kept := p.Images[:0]
	for _, im := range p.Images {
		blocked := ""
		for _, pt := range pats {
			if pt.re.MatchString(im.Source) || pt.re.MatchString(im.Repo+":"+im.Tag) {
				blocked = pt.src
				break
			}
		}
		if blocked != "" {
			p.Blocked = append(p.Blocked, Blocked{Image: im, Pattern: blocked})
			continue
		}
		kept = append(kept, im)
	}
	p.Images = kept
	return nil
}

// dedupe drops repeated copies (same source to the same place), merging what
// pulls they need, and orders the plan: release images and additional images
// by name, components after their releases.
//
// Two source repositories given one destination (quay.io/foo/bar:1 and
// docker.io/foo/bar:1 both land at foo/bar:1, or a targetRepo shared) are
// an error naming both: the second copy would replace the first in the
// registry, and the mirror sets would send one source's pulls to the
// other's image.
func (p *Plan) dedupe() error {
	idx := map[string]int{}
	dest := map[string]Image{}
	var errs []error
	out := p.Images[:0]
	for _, im := range p.Images {
		d := im.Repo + ":" + im.Tag
		if other, ok := dest[d]; ok && other.SourceRepo() != im.SourceRepo() {
			errs = append(errs, fmt.Errorf("%s and %s would both be mirrored to %s: give one of them another targetRepo or targetTag", other.Source, im.Source, d))
			continue
		}
		dest[d] = im
		k := im.Source + "=" + im.Repo + ":" + im.Tag
		if i, ok := idx[k]; ok {
			out[i].DigestPull = out[i].DigestPull || im.DigestPull
			out[i].TagPull = out[i].TagPull || im.TagPull
			continue
		}
		idx[k] = len(out)
		out = append(out, im)
	}
	p.Images = out
	slices.SortStableFunc(p.Images, func(a, b Image) int {
		if c := strings.Compare(a.Repo, b.Repo); c != 0 {
			return c
		}
		return strings.Compare(a.Tag, b.Tag)
	})
	return errors.Join(errs...)
}
