package mirrorset

import (
	"errors"
	"fmt"
	"maps"
	"slices"

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

// Load reads the files and directories in paths (see manifest.ReadPaths; "-"
// is standard input) and returns their mirror sets, in file and document
// order, and the objects of other kinds, which the caller may want to
// mention since the user passed them in. The sets are decoded but not
// validated; pass them to Validate.
//
// Every problem in every file is reported (errors.Join), each naming the
// file, document and object; the sets and objects returned are those that
// could be read.
func Load(paths ...string) (sets []Set, skipped []manifest.Object, err error) {
	objs, readErr := manifest.ReadPaths(paths...)
	sets, skipped, err = FromObjects(objs)
	return sets, skipped, errors.Join(readErr, err)
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
	var sets []Set
	var skipped []manifest.Object
	var errs []error
	for _, obj := range objs {
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
		set, err := decodeSet(kind, obj)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sets = append(sets, set)
	}
	return sets, skipped, errors.Join(errs...)
}

// decodeSet decodes one object of a mirror-set kind into a Set carrying the
// object's origin.
func decodeSet(kind Kind, obj manifest.Object) (Set, error) {
	var set Set
	switch kind {
	case KindICSP:
		var icsp operatorv1alpha1.ImageContentSourcePolicy
		if err := obj.DecodeStrict(&icsp); err != nil {
			return Set{}, err
		}
		set = FromImageContentSourcePolicy(&icsp)
	case KindIDMS:
		var idms configv1.ImageDigestMirrorSet
		if err := obj.DecodeStrict(&idms); err != nil {
			return Set{}, err
		}
		set = FromImageDigestMirrorSet(&idms)
	case KindITMS:
		var itms configv1.ImageTagMirrorSet
		if err := obj.DecodeStrict(&itms); err != nil {
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
