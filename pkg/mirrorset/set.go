package mirrorset

import (
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// Kind names the API object an entry came from. It decides which pulls the
// entry's mirrors may serve and how the entry list is spelt in error messages.
type Kind string

// The kinds of mirror set hcpmirror understands.
const (
	// KindICSP is operator.openshift.io/v1alpha1 ImageContentSourcePolicy:
	// digest pulls only, never blocks the source, no schema validation upstream.
	KindICSP Kind = "ImageContentSourcePolicy"
	// KindIDMS is config.openshift.io/v1 ImageDigestMirrorSet: digest pulls only.
	KindIDMS Kind = "ImageDigestMirrorSet"
	// KindITMS is config.openshift.io/v1 ImageTagMirrorSet: tag pulls only.
	KindITMS Kind = "ImageTagMirrorSet"
	// KindImageContentSources is a HostedCluster's spec.imageContentSources:
	// digest mirrors with the source as fallback, no policy.
	KindImageContentSources Kind = "HostedCluster"
)

// ListField is the JSON path of the kind's entry list, used in error messages.
func (k Kind) ListField() string {
	switch k {
	case KindICSP:
		return "spec.repositoryDigestMirrors"
	case KindIDMS:
		return "spec.imageDigestMirrors"
	case KindITMS:
		return "spec.imageTagMirrors"
	case KindImageContentSources:
		return "spec.imageContentSources"
	}
	return "spec"
}

// HasPolicy reports whether the kind's entries have a mirrorSourcePolicy
// field: IDMS and ITMS do, ICSP and imageContentSources do not.
func (k Kind) HasPolicy() bool { return k == KindIDMS || k == KindITMS }

// ForTags reports whether the kind's mirrors serve tag pulls (only ITMS does);
// all other kinds serve digest pulls only.
func (k Kind) ForTags() bool { return k == KindITMS }

// Policy is an entry's mirrorSourcePolicy.
type Policy string

// The two policies OpenShift defines. The empty policy means AllowContactingSource.
const (
	AllowContactingSource Policy = "AllowContactingSource"
	NeverContactSource    Policy = "NeverContactSource"
)

// Set is one mirror-set object as hcpmirror sees it, whatever kind it was.
type Set struct {
	Kind   Kind
	Name   string
	Origin manifest.Origin
	// Labels and Annotations are kept so that merge can categorise and
	// convert can carry them over; nothing else reads them.
	Labels      map[string]string
	Annotations map[string]string
	Entries     []Entry
}

// Entry is one source with its ordered mirrors.
type Entry struct {
	// Source is a prefix (host, host/namespace, repository or *.domain),
	// never parsed as an image reference.
	Source  string
	Mirrors []string
	// Policy is empty when unset, which means AllowContactingSource.
	Policy Policy
}

// Blocks reports whether the entry asks that its source never be contacted.
func (e Entry) Blocks() bool { return e.Policy == NeverContactSource }

// Describe names the object for error messages: `ImageDigestMirrorSet "ocp"`,
// prefixed by its origin when known.
func (s *Set) Describe() string {
	d := fmt.Sprintf("%s %q", s.Kind, s.Name)
	if o := s.Origin.String(); o != "" {
		d = o + ": " + d
	}
	return d
}

// EntryPath is the field path of entry i: "spec.imageDigestMirrors[1]".
func (s *Set) EntryPath(i int) string {
	return fmt.Sprintf("%s[%d]", s.Kind.ListField(), i)
}
