// Package olmcatalogs holds the meaning of HyperShift's OLM catalog
// annotations (docs/semantics.md §7.4): the four default catalogs and their
// images per release minor version, the override annotation applied with the
// one matcher of pkg/mirrorset (path boundary, longest prefix), and the four
// pin annotations (all or none, each by a valid digest).
//
// The operator, the control-plane-operator's catalogs controller, lint and
// `hcpmirror catalogs` all read the annotations through this package, so
// they cannot disagree on what a value means.
package olmcatalogs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// OverridesAnnotation rewrites the default catalog images' locations:
// "source=replacement,…", sources being prefixes.
const OverridesAnnotation = "hypershift.openshift.io/olm-catalogs-is-registry-overrides"

// DefaultRegistry is where the default index images live, without a mirror.
const DefaultRegistry = "registry.redhat.io/redhat"

// MaxMinor is the newest 4.x minor with published default catalogs: later
// releases use this one's, as HyperShift caps the version.
const MaxMinor = 22

// Catalog is one default OLM catalog.
type Catalog struct {
	// Name is the catalog's name: the ImageStream tag, the pin annotation's
	// infix and, with "-catalog", its Deployment.
	Name string
	// Index is the index image repository under DefaultRegistry.
	Index string
	// DisplayName and Priority are the guest CatalogSource's.
	DisplayName string
	Priority    int
}

// Catalogs are the four default catalogs in name order: the order every
// report and every list uses.
var Catalogs = []Catalog{
	{Name: "certified-operators", Index: "certified-operator-index", DisplayName: "Certified Operators", Priority: -200},
	{Name: "community-operators", Index: "community-operator-index", DisplayName: "Community Operators", Priority: -400},
	{Name: "redhat-marketplace", Index: "redhat-marketplace-index", DisplayName: "Red Hat Marketplace", Priority: -300},
	{Name: "redhat-operators", Index: "redhat-operator-index", DisplayName: "Red Hat Operators", Priority: -100},
}

// PinAnnotation is the annotation that pins this catalog to an image by digest.
func (c Catalog) PinAnnotation() string {
	return "hypershift.openshift.io/" + c.Name + "-catalog-image"
}

// DeploymentName is the name of the Deployment serving the catalog, as
// HyperShift names it.
func (c Catalog) DeploymentName() string { return c.Name + "-catalog" }

// Repository is the default index image without its tag: what override keys
// are matched against.
func (c Catalog) Repository() string { return DefaultRegistry + "/" + c.Index }

// DefaultImage is the catalog's default index image for release 4.minor
// (minor capped at MaxMinor).
func (c Catalog) DefaultImage(minor int) string {
	if minor > MaxMinor {
		minor = MaxMinor
	}
	return fmt.Sprintf("%s:v4.%d", c.Repository(), minor)
}

// AnnotationKeys are every annotation this package reads, in a stable
// order: what is copied from a HostedCluster to its HostedControlPlane.
func AnnotationKeys() []string {
	keys := []string{OverridesAnnotation}
	for _, c := range Catalogs {
		keys = append(keys, c.PinAnnotation())
	}
	return keys
}

// MinorFromVersion reads the 4.x minor from a release version such as
// "4.18.3" or a release tag such as "4.18.3-x86_64".
func MinorFromVersion(v string) (int, error) {
	v = strings.TrimPrefix(v, "v")
	major, rest, ok := strings.Cut(v, ".")
	if !ok || major != "4" {
		return 0, fmt.Errorf("release version %q is not 4.<minor>[.<patch>]", v)
	}
	minorStr, _, _ := strings.Cut(rest, ".")
	minorStr, _, _ = strings.Cut(minorStr, "-")
	minor, err := strconv.Atoi(minorStr)
	if err != nil || minor < 0 {
		return 0, fmt.Errorf("release version %q has no numeric minor", v)
	}
	return minor, nil
}

// MinorFromReleaseImage reads the minor from a release pull spec's tag
// (quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64). A release by
// digest has no version in its name: the error says so.
func MinorFromReleaseImage(image string) (int, error) {
	ref, err := imageref.Parse(image)
	if err != nil {
		return 0, fmt.Errorf("release image %q: %w", image, err)
	}
	if ref.Tag() == "" {
		return 0, fmt.Errorf("release image %q has no tag to read the version from", image)
	}
	minor, err := MinorFromVersion(ref.Tag())
	if err != nil {
		return 0, fmt.Errorf("release image %q: %w", image, err)
	}
	return minor, nil
}

// Overrides is a parsed override annotation: a mirror configuration of
// tag mirrors matched as every other mirror set is.
type Overrides struct {
	cfg   *mirrorset.Config
	pairs [][2]string
}

// PairError names one malformed pair of an override annotation.
type PairError struct {
	Index int    // 1-based position of the pair
	Pair  string // the pair as written
	Msg   string
}

func (e *PairError) Error() string {
	return fmt.Sprintf("%s: pair %d %q: %s", OverridesAnnotation, e.Index, e.Pair, e.Msg)
}

// ParseOverrides reads an override annotation value. Unlike the lenient
// OPENSHIFT_IMG_OVERRIDES reader, a malformed pair is an error naming it:
// a catalog source built from half an annotation is not what the owner
// wrote. The empty value means no overrides. Repeated sources are ordered
// candidates.
func ParseOverrides(value string) (*Overrides, error) {
	o := &Overrides{}
	if value == "" {
		return o, nil
	}
	var entries []mirrorset.Entry
	index := map[string]int{}
	var errs []error
	for i, pair := range strings.Split(value, ",") {
		bad := func(format string, args ...any) {
			errs = append(errs, &PairError{Index: i + 1, Pair: pair, Msg: fmt.Sprintf(format, args...)})
		}
		src, dst, ok := strings.Cut(pair, "=")
		switch {
		case !ok:
			bad(`no "="`)
			continue
		case !mirrorset.ValidSource(src) || mirrorset.IsWildcard(src):
			bad("source %q is not a registry prefix (host[:port][/path], no tag, digest or trailing slash)", src)
			continue
		case !mirrorset.ValidMirror(dst):
			bad("replacement %q is not a registry location (host[:port][/path])", dst)
			continue
		}
		o.pairs = append(o.pairs, [2]string{src, dst})
		if j, ok := index[src]; ok {
			entries[j].Mirrors = append(entries[j].Mirrors, dst)
			continue
		}
		index[src] = len(entries)
		entries = append(entries, mirrorset.Entry{Source: src, Mirrors: []string{dst}})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cfg, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindITMS, Name: "catalog overrides", Entries: entries}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", OverridesAnnotation, err)
	}
	o.cfg = cfg
	return o, nil
}

// Pairs are the parsed source=replacement pairs, in the order written.
func (o *Overrides) Pairs() [][2]string { return o.pairs }

// Candidates are the images to try for image, in order: each override of
// the longest matching source, rewritten as replacement + remainder; the
// image itself when no source matches.
func (o *Overrides) Candidates(image string) ([]string, error) {
	if o == nil || o.cfg == nil {
		return []string{image}, nil
	}
	res, err := o.cfg.Resolve(image)
	if err != nil {
		return nil, fmt.Errorf("applying %s to %s: %w", OverridesAnnotation, image, err)
	}
	var out []string
	for _, p := range res.PullSources {
		if !p.IsSource || res.Registry == nil {
			out = append(out, p.Reference.String())
		}
	}
	return out, nil
}

// Image is the first candidate for image: what a consumer that cannot probe
// tags (the ImageStream, guest placement) uses.
func (o *Overrides) Image(image string) (string, error) {
	c, err := o.Candidates(image)
	if err != nil {
		return "", err
	}
	return c[0], nil
}

// PinProblem is what is wrong with one catalog's pin annotation.
type PinProblem struct {
	Catalog Catalog
	// Missing: some pins are set but not this one. Otherwise Value is the
	// annotation's value and Err why it is no digest reference.
	Missing bool
	Value   string
	Err     error
	// Set are the catalogs that do have a pin, for the message.
	Set []string
}

func (p PinProblem) Error() string {
	key := p.Catalog.PinAnnotation()
	if p.Missing {
		return fmt.Sprintf("%s is missing: pins are all or none and %d of 4 are set (%s)", key, len(p.Set), strings.Join(p.Set, ", "))
	}
	return fmt.Sprintf("%s: %q %v", key, p.Value, p.Err)
}

// ErrNoDigest is a pin naming an image by tag or by name only.
var ErrNoDigest = errors.New("has no digest; pins must name an image by digest")

// CheckPins reports every problem with the pin annotations in ann; none
// when all four are valid or none is set.
func CheckPins(ann map[string]string) []PinProblem {
	var set []string
	for _, c := range Catalogs {
		if _, ok := ann[c.PinAnnotation()]; ok {
			set = append(set, c.Name)
		}
	}
	if len(set) == 0 {
		return nil
	}
	var out []PinProblem
	for _, c := range Catalogs {
		v, ok := ann[c.PinAnnotation()]
		if !ok {
			out = append(out, PinProblem{Catalog: c, Missing: true, Set: set})
			continue
		}
		if _, err := ParsePin(v); err != nil {
			out = append(out, PinProblem{Catalog: c, Value: v, Err: err})
		}
	}
	return out
}

// ParsePin checks one pin value: a valid reference with a full, valid
// digest (imageref's rules: sha256 with 64 lowercase hex digits, …).
func ParsePin(v string) (imageref.Reference, error) {
	ref, err := imageref.Parse(v)
	if err != nil {
		return imageref.Reference{}, fmt.Errorf("is not a valid image reference: %w", err)
	}
	if !ref.IsDigested() {
		return imageref.Reference{}, ErrNoDigest
	}
	return ref, nil
}

// Pins returns the four pinned images by catalog name, nil when none is set,
// or an error naming every missing or bad pin: nothing is half-applied.
func Pins(ann map[string]string) (map[string]string, error) {
	if problems := CheckPins(ann); len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, errors.Join(errs...)
	}
	if _, ok := ann[Catalogs[0].PinAnnotation()]; !ok {
		return nil, nil
	}
	out := map[string]string{}
	for _, c := range Catalogs {
		out[c.Name] = ann[c.PinAnnotation()]
	}
	return out, nil
}

// Desired is what a set of annotations asks for: either the four pinned
// images or the four (overridden) default images for a minor.
type Desired struct {
	// Pinned means Images are the pins (no ImageStream).
	Pinned bool
	// Images by catalog name.
	Images map[string]string
}

// Resolve computes the catalogs' images from a HostedControlPlane's (or
// HostedCluster's) annotations and the release minor: the pins when set,
// else each default image with the overrides applied. Any bad annotation is
// an error and no Desired is returned.
func Resolve(ann map[string]string, minor int) (Desired, error) {
	pins, err := Pins(ann)
	if err != nil {
		return Desired{}, err
	}
	if pins != nil {
		return Desired{Pinned: true, Images: pins}, nil
	}
	o, err := ParseOverrides(ann[OverridesAnnotation])
	if err != nil {
		return Desired{}, err
	}
	d := Desired{Images: map[string]string{}}
	for _, c := range Catalogs {
		img, err := o.Image(c.DefaultImage(minor))
		if err != nil {
			return Desired{}, err
		}
		d.Images[c.Name] = img
	}
	return d, nil
}
