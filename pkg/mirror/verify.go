package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/lint"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// CheckAdditional is the kind of an additionalImages check.
const CheckAdditional releaseinfo.CheckKind = "additional"

// CheckOperator is the kind of a bundle or related image check.
const CheckOperator releaseinfo.CheckKind = "operator"

// CheckCatalog is the kind of an operator catalog check: one copy of a
// catalog that verify read, or tried to read, to list its bundles; also a
// package the configuration names that the copy read does not hold.
const CheckCatalog releaseinfo.CheckKind = "catalog"

// CatalogCopy says which copy of an operators entry's catalog was read.
type CatalogCopy string

// The copies of a catalog verify reads, in the order it tries them.
const (
	// CopyCatalogSource is the image a CatalogSource among the inputs
	// names: what OLM v0 in the cluster reads.
	CopyCatalogSource CatalogCopy = "catalogSource"
	// CopyClusterCatalog is the image a ClusterCatalog names (OLM v1),
	// when no CatalogSource names the same image.
	CopyClusterCatalog CatalogCopy = "clusterCatalog"
	// CopyMirror is the catalog reference served by a mirror its mirror
	// sets name.
	CopyMirror CatalogCopy = "mirror"
	// CopySource is the catalog reference served by its own registry:
	// the upstream catalog.
	CopySource CatalogCopy = "source"
)

// CatalogObject is a CatalogSource or ClusterCatalog among verify's
// inputs (`-f`), such as the cs-*.yaml and cc-*.yaml a mirror run writes,
// with the catalog image it makes OLM read.
type CatalogObject struct {
	// Kind is CatalogSource or ClusterCatalog.
	Kind string
	// Name is metadata.name.
	Name string
	// Origin is where it was read from.
	Origin manifest.Origin
	// Image is spec.image (CatalogSource) or spec.source.image.ref
	// (ClusterCatalog).
	Image string
}

// Describe names the object as messages do: `cs-x.yaml: CatalogSource "cs-x"`.
func (o CatalogObject) Describe() string {
	return manifest.Object{Origin: o.Origin, Kind: o.Kind, Name: o.Name}.Describe()
}

// CatalogObjects splits objs (the objects that are not mirror sets, as
// mirrorset.Load returns them) into the CatalogSources and ClusterCatalogs
// that name a catalog image, and the rest. A CatalogSource without
// spec.image (served from a ConfigMap or an address) names no image and
// stays in rest.
func CatalogObjects(objs []manifest.Object) (cats []CatalogObject, rest []manifest.Object) {
	for _, o := range objs {
		group, _, _ := strings.Cut(o.APIVersion, "/")
		var obj struct {
			Spec struct {
				Image  string `json:"image"`
				Source struct {
					Image struct {
						Ref string `json:"ref"`
					} `json:"image"`
				} `json:"source"`
			} `json:"spec"`
		}
		image := ""
		if err := json.Unmarshal(o.Raw, &obj); err == nil {
			switch {
			case o.Kind == "CatalogSource" && group == "operators.coreos.com":
				image = obj.Spec.Image
			case o.Kind == "ClusterCatalog" && group == "olm.operatorframework.io":
				image = obj.Spec.Source.Image.Ref
			}
		}
		if image == "" {
			rest = append(rest, o)
			continue
		}
		cats = append(cats, CatalogObject{Kind: o.Kind, Name: o.Name, Origin: o.Origin, Image: image})
	}
	return cats, rest
}

// VerifyImageSetOptions configures VerifyImageSet.
type VerifyImageSetOptions struct {
	Graphs   GraphSource
	GraphURL string
	// Catalogs are the CatalogSources and ClusterCatalogs among the
	// inputs (see CatalogObjects): an operators entry that one of them
	// serves is read from its image, as OLM in the cluster reads it.
	Catalogs []CatalogObject
	// Recorded are update graphs the mirror runs recorded (see
	// ReadRecordedGraphs): a channel the update service cannot answer for
	// is resolved from them, with a note.
	Recorded *RecordedGraphs
	releaseinfo.VerifyOptions
}

// ImageSetReport is the outcome of VerifyImageSet: the checks, and how
// each operators entry's catalog was read.
type ImageSetReport struct {
	releaseinfo.VerifyReport
	// Catalogs has one entry per mirror.operators entry, in file order.
	Catalogs []CatalogRead
	// Notes say how releases were found when the update service could
	// not be asked (a recorded graph was used).
	Notes []string
}

// CatalogRead is how verify read one operators entry's catalog.
type CatalogRead struct {
	// Entry is the index in mirror.operators; Catalog its catalog.
	Entry   int
	Catalog string
	// Read are the copies whose bundles were listed (one, unless
	// CatalogSources name several images for the catalog); empty when
	// no copy could be read.
	Read []CatalogPlace
	// Failed are the places tried that could not be read, in the order
	// tried.
	Failed []CatalogPlace
	// Filtered says the configuration's package filter was applied to
	// what was read, which happens only for the upstream catalog itself;
	// otherwise every bundle the copy holds was listed.
	Filtered bool
	// Bundles counts the bundles listed.
	Bundles int
	// Notes say what was passed over (a CatalogSource for another tag).
	Notes []string
}

// CatalogPlace is one place a catalog was looked for.
type CatalogPlace struct {
	// Copy is which copy this is; for the catalog reference not read,
	// mirror when mirror sets cover it, else source.
	Copy CatalogCopy
	// Objects describe the CatalogSources and ClusterCatalogs naming
	// Image (CopyCatalogSource, CopyClusterCatalog).
	Objects []string
	// Image is the reference read: the object's image or the catalog.
	Image string
	// PullSources are the physical references tried, in order.
	PullSources []string
	// ServedBy and Digest say where it was read and what was there.
	ServedBy, Digest string
	// Err is why it could not be read; nil when read.
	Err error
}

// VerifyImageSet answers `verify -c`: is every image isc names reachable
// through mirrors? Releases come from the update graph (the same selection
// as a mirror run) or platform.release; each is verified as `verify
// --release` verifies one (release image, components, KubeVirt image, read
// through the mirrors), then every additionalImages entry not blocked, and
// every bundle and related image of the operators entries' catalogs, gets a
// HEAD through its pull sources.
//
// Catalogs are read as a cluster reads them: from the image of the
// CatalogSources and ClusterCatalogs in o.Catalogs that serve the entry (a
// mirror run's cs-*/cc-*, matched by repository and by name or tag, see
// catalogServes), else through the mirror sets (mirrors, then the source
// unless NeverContactSource), so verify runs where only the mirror answers.
// Each copy read or tried is a check of kind CheckCatalog. The package
// filter is applied only to the upstream catalog itself (read from its
// source, or by the digest the configuration pins, which are the same
// bytes): any other copy is what OLM offers, so every bundle it holds is
// checked, and a package the entry names that it lacks is a failed check.
//
// The checks of all releases form one report; each check's Name starts
// with its release version. Release is the first release's.
func VerifyImageSet(ctx context.Context, p *releaseinfo.Provider, c *registry.Client, mirrors *mirrorset.Config, isc *imageset.ImageSetConfiguration, o VerifyImageSetOptions) (*ImageSetReport, error) {
	if mirrors == nil {
		var err error
		if mirrors, err = mirrorset.Compile(nil); err != nil {
			return nil, err
		}
	}
	var refs []string
	pl := isc.Mirror.Platform
	if pl.Release != "" {
		refs = append(refs, pl.Release)
	}
	live := o.Graphs
	if live == nil {
		live = &cincinnati.Client{}
	}
	graphs := &fallbackGraphs{live: live, recorded: o.Recorded}
	for ci, ch := range pl.Channels {
		for _, arch := range pl.Archs() {
			nodes, err := channelNodes(ctx, graphs, cincinnati.URL(o.GraphURL, ch.Type), ci, ch, arch)
			if err != nil {
				return nil, err
			}
			for _, n := range nodes {
				refs = append(refs, n.Payload)
			}
		}
	}
	out := &ImageSetReport{Notes: graphs.notes}
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		rep, err := p.Verify(ctx, mirrors, ref, nil, o.VerifyOptions)
		if err != nil {
			return nil, err
		}
		if out.Release == nil {
			out.Release = rep.Release
		}
		prefix := ref + " "
		if rep.Release != nil {
			prefix = rep.Release.Version + " "
		}
		for _, ch := range rep.Checks {
			if !pl.KubeVirtContainer && ch.Kind == releaseinfo.CheckKubeVirt {
				continue
			}
			ch.Name = prefix + ch.Name
			out.Checks = append(out.Checks, ch)
		}
	}
	plan := &Plan{}
	if err := plan.planAdditional(isc); err != nil {
		return nil, err
	}
	cv := catalogVerifier{c: c, mirrors: mirrors, objects: o.Catalogs, bundles: map[string][]string{}}
	for i, op := range isc.Mirror.Operators {
		read, checks, images, err := cv.read(ctx, i, op)
		if err != nil {
			return nil, err
		}
		out.Catalogs = append(out.Catalogs, read)
		out.Checks = append(out.Checks, checks...)
		plan.Images = append(plan.Images, images...)
	}
	if err := plan.block(isc); err != nil {
		return nil, err
	}
	if err := plan.dedupe(); err != nil {
		return nil, err
	}
	for _, im := range plan.Images {
		ch := releaseinfo.Check{Kind: CheckAdditional, Name: im.Source, Image: im.Source}
		if im.Kind == KindBundle || im.Kind == KindRelated {
			ch.Kind, ch.Name = CheckOperator, operandName(im, cv.bundles[im.Source])
		}
		res, err := mirrors.Resolve(im.Source)
		if err != nil {
			ch.Err = err
			out.Checks = append(out.Checks, ch)
			continue
		}
		ch.PullSources = res.References()
		ch.SourceBlocked = res.SourceBlocked
		if res.Registry != nil {
			ch.Source = res.Registry.Prefix
		} else {
			ch.Notes = append(ch.Notes, unmirroredNote(im.Source, res))
		}
		if len(ch.PullSources) == 0 {
			ch.Err = &releaseinfo.UnpullableError{Reference: res.Reference.String(), Source: ch.Source}
			out.Checks = append(out.Checks, ch)
			continue
		}
		d, err := registry.FromSources(ctx, ch.PullSources, c.Head)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			ch.Err = err
		} else {
			ch.ServedBy, ch.Digest = d.Reference, d.Digest.String()
		}
		out.Checks = append(out.Checks, ch)
	}
	return out, nil
}

func unmirroredNote(ref string, res mirrorset.Resolution) releaseinfo.Note {
	return releaseinfo.Note{Code: lint.CodeUnmirroredRepository, Message: fmt.Sprintf("%s: no mirror set covers %s: it is pulled from its source", ref, res.Reference.Name())}
}

// operandName names a bundle or related image check by the bundles that
// need it ("bundle alpha/alpha.v1.2.0"), so a missing one says which
// operator it breaks.
func operandName(im Image, bundles []string) string {
	if len(bundles) == 0 {
		return im.Source
	}
	what := "related image of "
	if im.Kind == KindBundle {
		what = "bundle "
	}
	const shown = 3
	if len(bundles) > shown {
		return fmt.Sprintf("%s%s and %d more", what, strings.Join(bundles[:shown], ", "), len(bundles)-shown)
	}
	return what + strings.Join(bundles, ", ")
}

// catalogVerifier reads operators entries' catalogs for VerifyImageSet.
type catalogVerifier struct {
	c       *registry.Client
	mirrors *mirrorset.Config
	objects []CatalogObject
	// bundles maps each operand image's Source to the bundles
	// ("package/bundle") that need it, over every catalog read.
	bundles map[string][]string
}

// place is a place to read a catalog from, before it is tried.
type place struct {
	copy    CatalogCopy
	objects []string
	image   string
}

// read reads entry i's catalog: the images of the CatalogSources and
// ClusterCatalogs that serve it, else the catalog through the mirror
// sets. It returns a check per place tried, and the bundle and related
// images of what was read.
func (v *catalogVerifier) read(ctx context.Context, i int, op imageset.Operator) (CatalogRead, []releaseinfo.Check, []Image, error) {
	out := CatalogRead{Entry: i, Catalog: op.Catalog}
	field := fmt.Sprintf("mirror.operators[%d]", i)
	ref, err := imageref.Parse(op.Catalog)
	if err != nil {
		return out, nil, nil, fmt.Errorf("%s.catalog: %w", field, err)
	}
	if v.c == nil {
		return out, nil, nil, fmt.Errorf("%s: no registry client to read the catalog with", field)
	}
	places, notes := v.places(op, ref)
	out.Notes = notes
	var checks []releaseinfo.Check
	var images []Image
	whole := op.Full && len(op.Packages) == 0
	for _, pc := range places {
		if pc.copy == CopyMirror && len(out.Read) > 0 {
			break // a CatalogSource's image was read: what OLM reads
		}
		res, read, got, err := v.readPlace(ctx, pc)
		if ctx.Err() != nil {
			return out, nil, nil, ctx.Err()
		}
		ch := releaseinfo.Check{Kind: CheckCatalog, Name: op.Catalog, Image: got.Image, PullSources: got.PullSources, SourceBlocked: res.SourceBlocked}
		if res.Registry != nil {
			ch.Source = res.Registry.Prefix
		}
		if len(pc.objects) > 0 {
			ch.Name = fmt.Sprintf("%s from %s", op.Catalog, strings.Join(pc.objects, " and "))
		}
		if err != nil {
			ch.Err = fmt.Errorf("%s: reading the catalog to list its bundles: %w", field, err)
			got.Err = err
			out.Failed = append(out.Failed, got)
			checks = append(checks, ch)
			continue
		}
		ch.ServedBy, ch.Digest = got.ServedBy, got.Digest
		if got.Copy == CopySource && res.Registry == nil {
			ch.Notes = append(ch.Notes, unmirroredNote(op.Catalog, res))
		}
		checks = append(checks, ch)
		out.Read = append(out.Read, got)
		cfg := read.cfg
		// The upstream catalog is what the mirror run filtered; any
		// other copy is what OLM offers, all of it.
		upstream := got.Copy == CopySource || (got.Copy == CopyMirror && ref.IsDigested())
		switch {
		case whole:
		case upstream:
			kept, err := catalog.Filter(cfg, op.Full, packageFilters(op))
			if err != nil {
				checks = append(checks, releaseinfo.Check{Kind: CheckCatalog, Name: op.Catalog + " packages", Image: got.Image,
					Err: fmt.Errorf("%s.packages: filtering the catalog read from %s: %w", field, got.ServedBy, err)})
				continue
			}
			cfg, out.Filtered = kept, true
		default:
			for pk, pkg := range op.Packages {
				if !slices.ContainsFunc(cfg.Packages, func(p catalog.Package) bool { return p.Name == pkg.Name }) {
					checks = append(checks, releaseinfo.Check{Kind: CheckCatalog, Name: op.Catalog + " package " + pkg.Name, Image: got.Image,
						Err: fmt.Errorf("%s.packages[%d]: package %s is not in the catalog read from %s, so OLM does not offer it: mirror again", field, pk, pkg.Name, got.ServedBy)})
				}
			}
		}
		out.Bundles += len(cfg.Bundles)
		var errs []error
		for _, ci := range catalog.RelatedImages(cfg) {
			im, err := operandImage(ci)
			if err != nil {
				errs = append(errs, fmt.Errorf("bundles %v: %w", ci.Bundles, err))
				continue
			}
			for _, b := range ci.Bundles {
				if !slices.Contains(v.bundles[im.Source], b) {
					v.bundles[im.Source] = append(v.bundles[im.Source], b)
				}
			}
			images = append(images, im)
		}
		if err := errors.Join(errs...); err != nil {
			checks = append(checks, releaseinfo.Check{Kind: CheckCatalog, Name: op.Catalog + " images", Image: got.Image,
				Err: fmt.Errorf("%s: catalog read from %s: %w", field, got.ServedBy, err)})
		}
	}
	return out, checks, images, nil
}

// places are where entry op's catalog is looked for, in order: the image
// of each CatalogSource or ClusterCatalog that serves it (one place per
// image), then the catalog reference through the mirror sets. notes name
// objects for the catalog's repository passed over for their tag.
func (v *catalogVerifier) places(op imageset.Operator, ref imageref.Reference) (out []place, notes []string) {
	repo, tag := catalogTarget(op, ref, ref.Digest())
	want := catalogName(Record{Image: Image{Repo: repo, Tag: tag}})
	byImage := map[string]int{}
	// CatalogSources first: a place both kinds name is OLM v0's, the
	// common case.
	objs := slices.Clone(v.objects)
	v1 := func(o CatalogObject) int {
		if o.Kind == "ClusterCatalog" {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(objs, func(a, b CatalogObject) int { return v1(a) - v1(b) })
	for _, o := range objs {
		serves, sameRepo := catalogServes(o, repo, tag, want)
		if !serves {
			if sameRepo {
				notes = append(notes, fmt.Sprintf("%s names %s, the catalog's repository, but is named for another tag than %s: not read", o.Describe(), o.Image, tag))
			}
			continue
		}
		if i, ok := byImage[o.Image]; ok {
			out[i].objects = append(out[i].objects, o.Describe())
			continue
		}
		c := CopyCatalogSource
		if o.Kind == "ClusterCatalog" {
			c = CopyClusterCatalog
		}
		byImage[o.Image] = len(out)
		out = append(out, place{copy: c, objects: []string{o.Describe()}, image: o.Image})
	}
	return append(out, place{copy: CopyMirror, image: op.Catalog}), notes
}

// catalogServes reports whether o is the CatalogSource or ClusterCatalog
// a mirror run writes for the rebuilt catalog at repo:tag (want is its
// name without the cs-/cc- prefix): its image is in a repository whose
// path is repo or ends with /repo (the destination root is not known
// here), and it is named for tag (cs-<repo>-<tag>, or that with the
// suffix added when two catalogs share a name) or its image is by tag.
// sameRepo says the repository matched whatever the name.
func catalogServes(o CatalogObject, repo, tag, want string) (serves, sameRepo bool) {
	img, err := imageref.Parse(o.Image)
	if err != nil {
		return false, false
	}
	if p := img.Path(); p != repo && !strings.HasSuffix(p, "/"+repo) {
		return false, false
	}
	if tag != "" && img.Tag() == tag {
		return true, true
	}
	prefix := catalogSourcePrefix
	if o.Kind == "ClusterCatalog" {
		prefix = clusterCatalogPrefix
	}
	if o.Name == prefix+want {
		return true, true
	}
	// catalogFiles' suffix for names two catalogs share: -<6 hex>.
	short := prefix + sharedNameStem(want)
	if len(o.Name) == len(short)+6 && strings.HasPrefix(o.Name, short) {
		return true, true
	}
	return false, true
}

// readPlace reads the catalog at pc.image through the mirror sets, as a
// node pulls it. got says where it was read (or every reference tried).
func (v *catalogVerifier) readPlace(ctx context.Context, pc place) (mirrorset.Resolution, *catalogCopy, CatalogPlace, error) {
	got := CatalogPlace{Copy: pc.copy, Objects: pc.objects, Image: pc.image}
	res, err := v.mirrors.Resolve(pc.image)
	if err != nil {
		return res, nil, got, err
	}
	got.Image = res.Reference.String()
	got.PullSources = res.References()
	if pc.copy == CopyMirror && res.Registry == nil {
		got.Copy = CopySource
	}
	if len(got.PullSources) == 0 {
		return res, nil, got, &releaseinfo.UnpullableError{Reference: got.Image, Source: res.Registry.Prefix}
	}
	type served struct {
		ref  string
		read *catalogCopy
	}
	s, err := registry.FromSources(ctx, got.PullSources, func(ctx context.Context, ref string) (served, error) {
		r, err := readCatalog(ctx, v.c, ref)
		return served{ref, r}, err
	})
	if err != nil {
		return res, nil, got, err
	}
	got.ServedBy, got.Digest = s.ref, s.read.desc.Digest.String()
	if pc.copy == CopyMirror {
		got.Copy = CopyMirror
		for _, ps := range res.PullSources {
			if ps.Reference.String() == s.ref && ps.IsSource {
				got.Copy = CopySource
			}
		}
	}
	return res, s.read, got, nil
}
