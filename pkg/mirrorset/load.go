package mirrorset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// apiVersions is the one apiVersion each mirror-set kind is served under.
// Kinds are matched exactly, as the API server would: an object that names a
// mirror-set kind under another apiVersion is an error rather than skipped,
// because it is almost certainly a mirror set the user expects to take effect.
var apiVersions = map[Kind]string{
	KindICSP: operatorv1alpha1.GroupVersion.String(),
	KindIDMS: configv1.GroupVersion.String(),
	KindITMS: configv1.GroupVersion.String(),
}

// Loaded is what Load read.
type Loaded struct {
	// Sets are the mirror sets, in file and document order, decoded but not
	// validated (see Validate), duplicates of kind and name included (see
	// Applied).
	Sets []Set
	// Others are the objects of other kinds, which the caller may use
	// (HostedClusters) or mention, since the user passed them in; see
	// LikelyKind for those that look like a misspelt mirror-set kind.
	Others []manifest.Object
	// Notes say what the walk left out (symbolic links not followed).
	Notes []string
}

// Load reads mirror sets from the files and directories in paths the way
// every hcpmirror command reads -f: the files manifest.Files finds (oc-mirror
// workspaces read as oc-mirror lays them out, never their catalog caches),
// "-" for stdin.
//
// Every problem in every file is reported (errors.Join), each naming the
// file, document and object; what could be read is returned too. ctx is
// checked between files, documents and objects: a cancelled load returns an
// error wrapping ctx.Err().
func Load(ctx context.Context, stdin io.Reader, paths ...string) (Loaded, error) {
	objs, notes, readErr := manifest.ReadPaths(ctx, stdin, paths...)
	if ctx.Err() != nil {
		return Loaded{Notes: notes}, readErr
	}
	sets, others, err := fromObjects(ctx, objs)
	return Loaded{Sets: sets, Others: others, Notes: notes}, errors.Join(readErr, err)
}

// FromObjects converts the ImageContentSourcePolicy
// (operator.openshift.io/v1alpha1), ImageDigestMirrorSet and
// ImageTagMirrorSet (config.openshift.io/v1) objects among objs into sets,
// in order, and returns the other objects as skipped.
//
// Decoding is strict: an unknown or repeated field, or a value of the wrong
// type, is an error naming the object and the field, because a misspelt
// field would otherwise silently change which mirrors are used. A mirror-set
// kind under another apiVersion is an error too. All errors are returned,
// joined; the sets returned are those that decoded cleanly.
func FromObjects(objs []manifest.Object) ([]Set, []manifest.Object, error) {
	return fromObjects(context.Background(), objs)
}

func fromObjects(ctx context.Context, objs []manifest.Object) ([]Set, []manifest.Object, error) {
	var sets []Set
	var skipped []manifest.Object
	var errs []error
	for i, obj := range objs {
		if i%256 == 255 {
			if err := ctx.Err(); err != nil {
				return sets, skipped, fmt.Errorf("decoding mirror sets: %w", err)
			}
		}
		kind := Kind(obj.Kind)
		want, isSet := apiVersions[kind]
		if !isSet {
			skipped = append(skipped, obj)
			continue
		}
		if obj.APIVersion != want {
			errs = append(errs, fmt.Errorf("%s: unsupported apiVersion %q for %s: want %q",
				obj.Describe(), obj.APIVersion, kind, want))
			continue
		}
		set, err := decodeSet(ctx, kind, obj)
		if ctx.Err() != nil {
			return sets, skipped, fmt.Errorf("decoding mirror sets: %w", ctx.Err())
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sets = append(sets, set)
	}
	return sets, skipped, errors.Join(errs...)
}

// LikelyKind returns the mirror-set kind an object of another kind was
// probably meant to be: one in the config.openshift.io or
// operator.openshift.io group whose kind is a mirror-set kind but for case,
// a plural or list suffix, or a typo of up to two letters
// (ImageDigestMirrorSets, ImageDigestMirorSet). Such an object is skipped
// like any other kind, so it deserves a warning rather than a note.
func LikelyKind(obj manifest.Object) (Kind, bool) {
	group, _, _ := strings.Cut(obj.APIVersion, "/")
	if group != configv1.GroupVersion.Group && group != operatorv1alpha1.GroupVersion.Group {
		return "", false
	}
	if _, known := apiVersions[Kind(obj.Kind)]; known {
		return "", false
	}
	given := strings.ToLower(obj.Kind)
	for _, k := range []Kind{KindIDMS, KindITMS, KindICSP} {
		want := strings.ToLower(string(k))
		singular := strings.TrimSuffix(given, "list")
		if strings.HasSuffix(singular, "ies") {
			singular = strings.TrimSuffix(singular, "ies") + "y"
		}
		singular = strings.TrimSuffix(singular, "s")
		if singular == want || editDistance(given, want) <= 2 {
			return k, true
		}
	}
	return "", false
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Replacement is a set that a later one of the same kind and name replaces
// when both are applied: oc apply (and kubectl) keep only the last.
type Replacement struct {
	// Replaced is the earlier set, which a cluster would not have.
	Replaced Set
	// By is the later set, which it would.
	By Set
}

// Applied returns the sets a cluster would hold after applying sets in
// order: of several of one kind and name, only the last (in its place), as
// oc apply keeps the last object it writes. The others are returned as
// replacements, so the caller can say what was dropped. Unnamed sets, which
// the API server refuses, and HostedClusters are kept as they are.
func Applied(sets []Set) ([]Set, []Replacement) {
	type key struct {
		kind Kind
		name string
	}
	last := map[key]int{}
	for i, s := range sets {
		if s.Name != "" && s.Kind != KindImageContentSources {
			last[key{s.Kind, s.Name}] = i
		}
	}
	if len(last) == len(sets) {
		return sets, nil
	}
	var kept []Set
	var replaced []Replacement
	for i, s := range sets {
		if j, ok := last[key{s.Kind, s.Name}]; ok && j != i {
			replaced = append(replaced, Replacement{Replaced: s, By: sets[j]})
			continue
		}
		kept = append(kept, s)
	}
	return kept, replaced
}

// decodeSet decodes one object of a mirror-set kind into a Set carrying the
// object's origin.
func decodeSet(ctx context.Context, kind Kind, obj manifest.Object) (Set, error) {
	var set Set
	switch kind {
	case KindICSP:
		var icsp operatorv1alpha1.ImageContentSourcePolicy
		if err := obj.DecodeStrictContext(ctx, &icsp); err != nil {
			return Set{}, err
		}
		set = FromImageContentSourcePolicy(&icsp)
	case KindIDMS:
		var idms configv1.ImageDigestMirrorSet
		if err := obj.DecodeStrictContext(ctx, &idms); err != nil {
			return Set{}, err
		}
		set = FromImageDigestMirrorSet(&idms)
	case KindITMS:
		var itms configv1.ImageTagMirrorSet
		if err := obj.DecodeStrictContext(ctx, &itms); err != nil {
			return Set{}, err
		}
		set = FromImageTagMirrorSet(&itms)
	default:
		return Set{}, fmt.Errorf("%s: not a mirror set", obj.Describe())
	}
	set.Origin = obj.Origin
	return set, nil
}

// FromImageContentSourcePolicy converts a policy, for instance one read from
// a cluster, into a Set without an origin. Nothing is shared with icsp, so
// objects from an informer cache stay untouched. Entries keep their order
// and their duplicates; they have no policy.
func FromImageContentSourcePolicy(icsp *operatorv1alpha1.ImageContentSourcePolicy) Set {
	set := newSet(KindICSP, icsp.Name, icsp.Labels, icsp.Annotations)
	for _, e := range icsp.Spec.RepositoryDigestMirrors {
		set.Entries = append(set.Entries, Entry{Source: e.Source, Mirrors: slices.Clone(e.Mirrors)})
	}
	return set
}

// FromImageDigestMirrorSet converts an ImageDigestMirrorSet into a Set
// without an origin, sharing nothing with idms.
func FromImageDigestMirrorSet(idms *configv1.ImageDigestMirrorSet) Set {
	set := newSet(KindIDMS, idms.Name, idms.Labels, idms.Annotations)
	for _, e := range idms.Spec.ImageDigestMirrors {
		set.Entries = append(set.Entries, Entry{
			Source:  e.Source,
			Mirrors: slices.Clone(e.Mirrors),
			Policy:  Policy(e.MirrorSourcePolicy),
		})
	}
	return set
}

// FromImageTagMirrorSet converts an ImageTagMirrorSet into a Set without an
// origin, sharing nothing with itms.
func FromImageTagMirrorSet(itms *configv1.ImageTagMirrorSet) Set {
	set := newSet(KindITMS, itms.Name, itms.Labels, itms.Annotations)
	for _, e := range itms.Spec.ImageTagMirrors {
		set.Entries = append(set.Entries, Entry{
			Source:  e.Source,
			Mirrors: slices.Clone(e.Mirrors),
			Policy:  Policy(e.MirrorSourcePolicy),
		})
	}
	return set
}

// FromHostedCluster returns a HostedCluster's spec.imageContentSources as a
// set of kind KindImageContentSources: entries in order, without a policy,
// since HyperShift has none (digest mirrors, source as fallback). The set is
// named "namespace/name" so messages identify the cluster, and keeps the
// cluster's labels and annotations (hcpmirror.io/mirror-tags lives there).
// Nothing is shared with hc. The entries are not validated.
func FromHostedCluster(hc *hypershiftv1beta1.HostedCluster) Set {
	name := hc.Name
	if hc.Namespace != "" {
		name = hc.Namespace + "/" + hc.Name
	}
	set := newSet(KindImageContentSources, name, hc.Labels, hc.Annotations)
	for _, e := range hc.Spec.ImageContentSources {
		set.Entries = append(set.Entries, Entry{Source: e.Source, Mirrors: slices.Clone(e.Mirrors)})
	}
	return set
}

func newSet(kind Kind, name string, labels, annotations map[string]string) Set {
	return Set{Kind: kind, Name: name, Labels: maps.Clone(labels), Annotations: maps.Clone(annotations)}
}

// FromHostedControlPlane is [FromHostedCluster] for the control plane's copy
// of the list, which the control-plane-operator works from; the set is named
// "namespace/name" of the HostedControlPlane.
func FromHostedControlPlane(hcp *hypershiftv1beta1.HostedControlPlane) Set {
	name := hcp.Name
	if hcp.Namespace != "" {
		name = hcp.Namespace + "/" + hcp.Name
	}
	set := newSet(KindImageContentSources, name, hcp.Labels, hcp.Annotations)
	for _, e := range hcp.Spec.ImageContentSources {
		set.Entries = append(set.Entries, Entry{Source: e.Source, Mirrors: slices.Clone(e.Mirrors)})
	}
	return set
}
