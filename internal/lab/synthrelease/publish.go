package synthrelease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/yaml"

	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// Defaults of [PublishOptions]. They are exported so that a command can show
// them as flag defaults without restating them.
const (
	// DefaultVersion is a 4.16 z-stream, the line HyperShift's KubeVirt
	// platform is commonly run on.
	DefaultVersion = "4.16.3"
	// DefaultArch is the release architecture as it appears in release tags.
	DefaultArch = "x86_64"
	// DefaultComponentCount is close to a real 4.16 payload, so that timing
	// and request counts resemble a real mirror.
	DefaultComponentCount = 190
	// DefaultLayerSize keeps a whole release at a few hundred KiB.
	DefaultLayerSize = 1024
	// DefaultMultiArchFraction makes a handful of components manifest lists,
	// enough to exercise index handling without dominating.
	DefaultMultiArchFraction = 0.05
	// DefaultComponentsRepo is where oc-mirror v2 puts components.
	DefaultComponentsRepo = "openshift/release"
	// DefaultReleaseRepo is where oc-mirror v2 puts release images.
	DefaultReleaseRepo = "openshift/release-images"
	// DefaultConcurrency bounds parallel image pushes; registries on a small
	// machine serve a few hundred requests a second, and more in flight only
	// queue.
	DefaultConcurrency = 8
)

// PublishOptions configures [Publish]. Zero values take the defaults above, so
// a caller names only what its test is about.
type PublishOptions struct {
	// Destination is the registry to push to, host[:port] with an optional
	// path prefix ("127.0.0.1:5000", "mirror.example.com/ocp"). Required.
	Destination string
	// Insecure allows plain HTTP to a Destination that is not a loopback or
	// private address (those fall back to HTTP anyway).
	Insecure bool

	// Version is the release version; it must look like semver
	// ("4.16.3", "4.17.0-ec.2").
	Version string
	// Arch is the release architecture as written in release tags: x86_64,
	// aarch64, ppc64le or s390x. "multi" payloads are not built.
	Arch string
	// Components is the number of components; at least 1 (the
	// cluster-version-operator, which the release image is built on).
	Components int
	// LayerSize is the size in bytes of each random layer.
	LayerSize int
	// MultiArchFraction is the share of components pushed as manifest lists
	// (linux/amd64 + linux/arm64). Zero means the default; a negative value
	// means none. The cluster-version-operator is never one.
	MultiArchFraction float64
	// Seed makes the content: the same options and seed push the same
	// digests, so tests can compare against fixed expectations.
	Seed int64

	// ComponentsRepo is the repository path under Destination for
	// components.
	ComponentsRepo string
	// ReleaseRepo is the repository path under Destination for the release
	// image.
	ReleaseRepo string

	// Previous lists the versions release-metadata says this release
	// upgrades from. Nil means the earlier patch releases of the same minor.
	Previous []string
	// Channels are written to release-metadata. Nil means candidate, fast and
	// stable of the release's minor (candidate only for pre-releases).
	Channels []string

	// Concurrency bounds the number of images pushed at once.
	Concurrency int
	// RemoteOptions are passed to every registry call: auth, a transport
	// carrying the destination's CA or skipping TLS verification, retries.
	RemoteOptions []remote.Option

	// Progress, when set, is called after each image is pushed with the
	// number pushed so far and the total, from one goroutine at a time.
	Progress func(done, total int)

	// EditManifests, when set, may change, add or delete files of the
	// release image's last layer before it is built (keys are paths such as
	// release.ImageReferencesFile). It lets tests publish broken or unusual
	// payloads; Published still describes the images actually pushed.
	EditManifests func(files map[string][]byte) error
}

// Published describes a release pushed by [Publish], in the two vocabularies
// a disconnected install uses: canonical references (what the payload and the
// user name) and physical ones (where the bytes are).
type Published struct {
	// Version and Arch are the release's.
	Version, Arch string

	// Release is the canonical digest reference of the release image,
	// quay.io/openshift-release-dev/ocp-release@sha256:….
	Release string
	// ReleaseTag is the canonical tag form,
	// quay.io/openshift-release-dev/ocp-release:<version>-<arch>.
	ReleaseTag string
	// MirrorRelease is the physical digest reference of the release image.
	MirrorRelease string
	// MirrorReleaseTag is the physical tag reference of the release image.
	MirrorReleaseTag string
	// BaseImageDigest is the cluster-version-operator image's digest, as
	// labelled on the release image.
	BaseImageDigest string

	// Components maps each component name to the canonical digest
	// reference image-references gives it.
	Components map[string]string
	// KubeVirt is the canonical digest reference of the KubeVirt boot image
	// (the boot images' digest-ref), which image-references does not list.
	KubeVirt string

	// Pushed lists every image pushed: components in payload order, then
	// the KubeVirt image, then the release image.
	Pushed []PushedImage
	// Mirrors are the entries that make the canonical references resolve
	// to Destination: release images first, then components. As digest
	// mirrors they serve every digest reference; the release's tag form
	// (ReleaseTag) needs the first entry as a tag mirror too, which is why
	// oc-mirror writes the release entry to both IDMS and ITMS.
	Mirrors []MirrorEntry
}

// PushedImage is one image Publish pushed, by both of its physical names.
type PushedImage struct {
	// Name is the component name, or "kubevirt" or "release".
	Name string
	// Canonical is the digest reference the payload uses for it.
	Canonical string
	// Tag is the physical tag reference pushed.
	Tag string
	// Digest is the physical digest reference of the same manifest.
	Digest string
	// Index is true for manifest lists.
	Index bool
}

// MirrorEntry is one source with its mirrors, the shape of an
// ImageDigestMirrorSet's imageDigestMirrors entry. Sources and mirrors are
// repository prefixes, not image references.
type MirrorEntry struct {
	Source  string   `json:"source"`
	Mirrors []string `json:"mirrors"`
}

// Names Publish uses for the non-component images in Published.Pushed.
const (
	pushedKubeVirt = "kubevirt"
	pushedRelease  = "release"
)

// versionRE accepts the versions OpenShift publishes: x.y.z with an optional
// pre-release suffix. The groups feed the synthetic metadata.
var versionRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z][0-9A-Za-z.-]*)?$`)

// tagRE is the tag grammar of the distribution spec.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// archPlatforms maps release architectures to container platforms.
var archPlatforms = map[string]string{
	"x86_64":  "amd64",
	"aarch64": "arm64",
	"ppc64le": "ppc64le",
	"s390x":   "s390x",
}

// publishConfig is PublishOptions with defaults applied and values checked.
type publishConfig struct {
	PublishOptions
	major, minor, patch int
	prerelease          bool
	platform            string
	multiArch           int
	compRepo, relRepo   name.Repository
	nameOpts            []name.Option
}

func (o PublishOptions) config() (*publishConfig, error) {
	c := &publishConfig{PublishOptions: o}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Arch == "" {
		c.Arch = DefaultArch
	}
	if c.Components == 0 {
		c.Components = DefaultComponentCount
	}
	if c.LayerSize == 0 {
		c.LayerSize = DefaultLayerSize
	}
	if c.MultiArchFraction == 0 {
		c.MultiArchFraction = DefaultMultiArchFraction
	}
	if c.ComponentsRepo == "" {
		c.ComponentsRepo = DefaultComponentsRepo
	}
	if c.ReleaseRepo == "" {
		c.ReleaseRepo = DefaultReleaseRepo
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}

	var errs []error
	m := versionRE.FindStringSubmatch(c.Version)
	if m == nil {
		errs = append(errs, fmt.Errorf("version %q: want x.y.z with an optional -suffix", c.Version))
	} else {
		c.major, _ = strconv.Atoi(m[1])
		c.minor, _ = strconv.Atoi(m[2])
		c.patch, _ = strconv.Atoi(m[3])
		c.prerelease = m[4] != ""
	}
	if c.Arch == "multi" {
		errs = append(errs, errors.New(`arch "multi": multi-architecture release payloads are not built`))
	} else if p, ok := archPlatforms[c.Arch]; !ok {
		errs = append(errs, fmt.Errorf("arch %q: want x86_64, aarch64, ppc64le or s390x", c.Arch))
	} else {
		c.platform = p
	}
	if c.Components < 1 {
		errs = append(errs, fmt.Errorf("components %d: want at least 1", c.Components))
	}
	if c.LayerSize < 1 {
		errs = append(errs, fmt.Errorf("layer size %d: want at least 1 byte", c.LayerSize))
	}
	if c.MultiArchFraction > 1 || math.IsNaN(c.MultiArchFraction) {
		errs = append(errs, fmt.Errorf("multi-arch fraction %v: want at most 1", c.MultiArchFraction))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d: want at least 1", c.Concurrency))
	}
	if c.Insecure {
		c.nameOpts = append(c.nameOpts, name.Insecure)
	}
	dest := strings.TrimSuffix(c.Destination, "/")
	if dest == "" {
		errs = append(errs, errors.New("destination: empty, want host[:port][/path]"))
	} else if strings.Contains(dest, "://") {
		// A URL would otherwise fail on the repository grammar with an
		// error about characters that says nothing of the real mistake.
		errs = append(errs, fmt.Errorf("destination %q takes HOST[:PORT][/PATH], without a scheme", c.Destination))
	} else {
		// Strict: a destination without a registry host would silently
		// become a Docker Hub path.
		strict := append(slices.Clone(c.nameOpts), name.StrictValidation)
		var err error
		if c.compRepo, err = name.NewRepository(dest+"/"+c.ComponentsRepo, strict...); err != nil {
			errs = append(errs, fmt.Errorf("components repository: %w", err))
		}
		if c.relRepo, err = name.NewRepository(dest+"/"+c.ReleaseRepo, strict...); err != nil {
			errs = append(errs, fmt.Errorf("release repository: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.MultiArchFraction > 0 {
		c.multiArch = min(int(math.Round(c.MultiArchFraction*float64(c.Components))), c.Components-1)
	}
	return c, nil
}

// releaseTag is the tag oc-mirror v2 gives the release image.
func (c *publishConfig) releaseTag() string { return c.Version + "-" + c.Arch }

// componentTag is the tag oc-mirror v2 gives a component.
func (c *publishConfig) componentTag(component string) string {
	return c.Version + "-" + c.Arch + "-" + component
}

// rng returns the random source for one stream of content. Every image draws
// from its own stream, so its bytes depend on the seed and its position only,
// not on how many other images there are or the order they are built in.
func (c *publishConfig) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(c.Seed), stream))
}

// Publish builds a synthetic OpenShift release and pushes it to
// opts.Destination the way oc-mirror v2 lays out a mirrored release, so that
// everything downstream (mirror sets, lookups, verification) can be exercised
// against a local registry.
//
// The payload names the canonical quay.io repositories, never Destination:
// like a real mirrored release it resolves only through the returned mirror
// entries. Components and the KubeVirt image (tagged
// <version>-<arch>-kubevirt-container, a hcpmirror choice) are pushed first,
// in parallel (opts.Concurrency at a time; blobs shared between images are
// uploaded once per repository); the release image last, so a reader that
// sees it finds everything it names. Tags that already point at the right
// manifest are left alone, so publishing the same release again is cheap.
func Publish(ctx context.Context, opts PublishOptions) (*Published, error) {
	c, err := opts.config()
	if err != nil {
		return nil, fmt.Errorf("publish options: %w", err)
	}
	rel, err := c.build()
	if err != nil {
		return nil, fmt.Errorf("building release %s-%s: %w", c.Version, c.Arch, err)
	}
	pusher, err := remote.NewPusher(c.RemoteOptions...)
	if err != nil {
		return nil, fmt.Errorf("remote options: %w", err)
	}

	var (
		mu   sync.Mutex
		done int
	)
	pushed := func() {
		if c.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		c.Progress(done, len(rel.images))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.Concurrency)
	for _, img := range rel.images[:len(rel.images)-1] {
		g.Go(func() error {
			if err := push(gctx, pusher, img); err != nil {
				return err
			}
			pushed()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := push(ctx, pusher, rel.images[len(rel.images)-1]); err != nil {
		return nil, err
	}
	pushed()
	return rel.published(c), nil
}

// push writes one built image under its tag.
func push(ctx context.Context, p *remote.Pusher, b *builtImage) error {
	if err := p.Push(ctx, b.tag, b.taggable); err != nil {
		return fmt.Errorf("pushing %s to %s: %w", b.name, b.tag, err)
	}
	return nil
}

// published assembles the result once everything is pushed.
func (r *builtRelease) published(c *publishConfig) *Published {
	p := &Published{
		Version:         c.Version,
		Arch:            c.Arch,
		ReleaseTag:      release.CanonicalReleaseRepository + ":" + c.releaseTag(),
		BaseImageDigest: r.baseImageDigest,
		Components:      map[string]string{},
		Mirrors: []MirrorEntry{
			{Source: release.CanonicalReleaseRepository, Mirrors: []string{c.relRepo.String()}},
			{Source: release.CanonicalComponentRepository, Mirrors: []string{c.compRepo.String()}},
		},
	}
	for _, b := range r.images {
		p.Pushed = append(p.Pushed, PushedImage{
			Name:      b.name,
			Canonical: b.canonical,
			Tag:       b.tag.String(),
			Digest:    b.tag.Context().Digest(b.digest.String()).String(),
			Index:     b.index,
		})
		switch b.name {
		case pushedRelease:
			p.Release = b.canonical
			p.MirrorReleaseTag = b.tag.String()
			p.MirrorRelease = p.Pushed[len(p.Pushed)-1].Digest
		case pushedKubeVirt:
			p.KubeVirt = b.canonical
		default:
			p.Components[b.name] = b.canonical
		}
	}
	return p
}

// marshalJSON renders a payload file the way oc writes them: indented JSON
// with a final newline.
func marshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// marshalYAML renders a manifest as YAML.
func marshalYAML(v any) ([]byte, error) {
	return yaml.Marshal(v)
}

// canonicalComponent is the reference a payload gives a component digest.
func canonicalComponent(d v1.Hash) string {
	return release.CanonicalComponentRepository + "@" + d.String()
}
