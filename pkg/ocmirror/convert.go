package ocmirror

import (
	"errors"
	"fmt"
	"sort"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// convertFilePrefix starts the name of each file Convert writes, as
// `oc adm migrate icsp` names them (oc adds a random suffix; we do not, so a
// second run replaces the first).
const convertFilePrefix = "imagedigestmirrorset_"

// lastApplied is kubectl's record of the object it last applied. On an IDMS
// made from an ICSP it would describe another object (of another kind), and
// the next `kubectl apply` would compute its changes from it.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Conversion is the result of Convert.
type Conversion struct {
	// Objects are the ImageDigestMirrorSets, sorted by name.
	Objects []configv1.ImageDigestMirrorSet
	// Files holds one file per object, imagedigestmirrorset_<name>.yaml, in
	// the same order.
	Files []atomicfile.File
	// Dropped are the repeated mirrors left out, which an ICSP admits and
	// the IDMS schema refuses; callers should say so.
	Dropped []DroppedMirror
}

// DroppedMirror is one repeated mirror Convert left out.
type DroppedMirror struct {
	// Object and Field name the mirror in the ICSP: its origin, kind and
	// name, and spec.repositoryDigestMirrors[i].mirrors[j].
	Object, Field string
	// Mirror is the mirror, kept at its first place.
	Mirror string
}

// YAML returns every object as one multi-document YAML stream, for printing.
func (c *Conversion) YAML() []byte {
	docs := make([][]byte, len(c.Files))
	for i, f := range c.Files {
		docs[i] = f.Data
	}
	return manifest.JoinDocuments(docs)
}

// Convert maps each ImageContentSourcePolicy to the ImageDigestMirrorSet that
// replaces it, as `oc adm migrate icsp` does: same name, labels and
// annotations, entries one for one in the same order, no mirrorSourcePolicy
// (an ICSP never blocks its source). Unlike oc it carries over nothing else
// of the metadata (uid, resourceVersion and creationTimestamp belong to the
// old object and make the new one fail to apply; kubectl's
// last-applied-configuration annotation describes the old object too, so it
// is dropped as well), and it removes duplicate mirrors, which an ICSP admits
// and the IDMS schema rejects.
//
// The policies are validated first, with the rules the API server applies
// to the IDMS; every problem is reported. Two policies of one name are an
// error too (their IDMS would overwrite each other): oc-mirror v1 writes every
// run's ICSPs under the same names, and those need Merge instead.
func Convert(icsps []mirrorset.Set) (*Conversion, error) {
	var errs []error
	byName := map[string]*mirrorset.Set{}
	for i := range icsps {
		s := &icsps[i]
		if s.Kind != mirrorset.KindICSP {
			errs = append(errs, fmt.Errorf("%s: not an %s", s.Describe(), mirrorset.KindICSP))
			continue
		}
		if err := mirrorset.CheckName(s.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s: metadata.name: %w", s.Describe(), err))
			continue
		}
		if prev, ok := byName[s.Name]; ok {
			errs = append(errs, fmt.Errorf("%s: same name as %s: both would become ImageDigestMirrorSet %q (oc-mirror v1 reuses names on every run: use hcpmirror merge)", s.Describe(), prev.Describe(), s.Name))
			continue
		}
		byName[s.Name] = s
	}
	if err := mirrorset.Validate(icsps); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	c := &Conversion{}
	for _, n := range names {
		s := byName[n]
		annotations := copyMap(s.Annotations)
		delete(annotations, lastApplied)
		if len(annotations) == 0 {
			annotations = nil
		}
		o := newIDMS(s.Name, copyMap(s.Labels), annotations)
		for ei, e := range s.Entries {
			mirrors := mirrorset.DedupMirrors(e.Mirrors)
			if len(mirrors) < len(e.Mirrors) {
				seen := map[string]bool{}
				for mi, m := range e.Mirrors {
					if seen[m] {
						c.Dropped = append(c.Dropped, DroppedMirror{Object: s.Describe(), Field: fmt.Sprintf("%s.mirrors[%d]", s.EntryPath(ei), mi), Mirror: m})
					}
					seen[m] = true
				}
			}
			o.Spec.ImageDigestMirrors = append(o.Spec.ImageDigestMirrors, configv1.ImageDigestMirrors{Source: e.Source, Mirrors: mirrors})
		}
		data, err := manifest.EncodeYAML(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Describe(), err)
		}
		c.Objects = append(c.Objects, o)
		c.Files = append(c.Files, atomicfile.File{Name: convertFilePrefix + s.Name + ".yaml", Data: data})
	}
	return c, nil
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
