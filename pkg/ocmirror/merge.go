package ocmirror

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"sigs.k8s.io/yaml"
)

// Output names. They are fixed so that a later merge finds and replaces the
// files of an earlier one, and so that `oc apply -f DIR` always applies the
// same objects.
const (
	// IDMSFile holds every merged ImageDigestMirrorSet.
	IDMSFile = "idms-hcpmirror.yaml"
	// ITMSFile holds every merged ImageTagMirrorSet.
	ITMSFile = "itms-hcpmirror.yaml"
	// ObjectPrefix starts every merged object's name: hcpmirror-<category>-<n>.
	ObjectPrefix = "hcpmirror-"
	// MaxObjectBytes bounds each merged object's YAML (it must stay below):
	// the size oc-mirror v1 splits at, well under etcd's request limit and
	// the size at which `kubectl apply` can no longer keep its annotation.
	MaxObjectBytes = 250000
)

// catalogLabel is the label oc-mirror v1 puts on the ICSPs of operator catalogs.
const catalogLabel = "operators.openshift.org/catalog"

// Category says what a mirror-set entry is for. It only decides which merged
// object holds the entry (so that people can find the release mirrors at a
// glance); it never changes what a node does.
type Category int

// The categories, lowest first: when inputs disagree about a source, the
// highest wins.
const (
	CategoryGeneric Category = iota
	CategoryOperator
	CategoryRelease
)

// categoriesOut is the order merged objects are written in.
var categoriesOut = []Category{CategoryRelease, CategoryOperator, CategoryGeneric}

// String is the word used in object names.
func (c Category) String() string {
	switch c {
	case CategoryRelease:
		return "release"
	case CategoryOperator:
		return "operator"
	}
	return "generic"
}

// CategoryOf reads the category oc-mirror (or an earlier merge) gave an
// object: after an optional "hcpmirror-", "idms-" or "itms-" prefix, a name
// starting with "release" or "operator" says so (release-0, idms-operator-0,
// hcpmirror-release-1), as does oc-mirror v1's operators.openshift.org/catalog
// label; everything else is generic.
func CategoryOf(s *mirrorset.Set) Category {
	name := s.Name
	for _, p := range []string{ObjectPrefix, "idms-", "itms-"} {
		if strings.HasPrefix(name, p) {
			name = name[len(p):]
			break
		}
	}
	switch {
	case strings.HasPrefix(name, "release"):
		return CategoryRelease
	case strings.HasPrefix(name, "operator"), s.Labels[catalogLabel] == "true":
		return CategoryOperator
	}
	return CategoryGeneric
}

// Result is a merge's output, complete in memory before anything is written.
type Result struct {
	// IDMS and ITMS are the merged objects in file order: by category
	// (release, operator, generic), then by number.
	IDMS []configv1.ImageDigestMirrorSet
	ITMS []configv1.ImageTagMirrorSet
	// Objects describes each merged object, IDMS first, for summaries.
	Objects []ObjectSummary
	// CatalogSources are the surviving CatalogSources, sorted by name.
	CatalogSources []CatalogSource
	// Superseded are CatalogSources replaced by a later input's object of the
	// same name with different content.
	Superseded []CatalogSource
	// Files is everything to write, sorted by name.
	Files []atomicfile.File
	// Ignored lists input entries without a mirror other than their source:
	// the machine-config-operator ignores them (their mirrorSourcePolicy
	// too), so the output leaves them out.
	Ignored []IgnoredEntry
	// Skipped are the input objects that are neither mirror sets nor
	// CatalogSources.
	Skipped []manifest.Object
	// Inputs is the number of files read.
	Inputs int
}

// ObjectSummary describes one merged object.
type ObjectSummary struct {
	Kind     mirrorset.Kind
	Name     string
	Category Category
	// File is the file the object is written to.
	File string
	// Sources is the number of entries.
	Sources int
	// Bytes is the size of the object's YAML, below MaxObjectBytes.
	Bytes int
}

// IgnoredEntry is an input entry left out of the output because it means
// nothing to a node.
type IgnoredEntry struct {
	// Object describes the set holding the entry.
	Object string
	// Field is the entry's path, e.g. "spec.imageDigestMirrors[3]".
	Field  string
	Source string
}

// entryKey is one (kind group, source) of the output.
type entryKey struct {
	tags   bool
	source string
}

// outEntry is one entry of the output before it is put into an object.
type outEntry struct {
	source   string
	mirrors  []string
	blocked  bool
	category Category
}

// Merge merges the inputs as docs/semantics.md §8.3 says (see the package
// documentation). The order of inputs does not matter: they are sorted by
// (Run, Path) first, which only decides which of several CatalogSources of
// one name survives. Invalid inputs, a mirrorSourcePolicy conflict among them
// included, are an error naming every object involved, and no Result.
func Merge(inputs []Input) (*Result, error) {
	ordered := sortInputs(inputs)
	res := &Result{Inputs: len(ordered)}
	var sets []mirrorset.Set
	for _, in := range ordered {
		sets = append(sets, in.Sets...)
		res.Skipped = append(res.Skipped, in.Skipped...)
	}
	cfg, err := mirrorset.Compile(sets)
	if err != nil {
		return nil, fmt.Errorf("invalid mirror sets:\n%w", err)
	}

	cats := map[entryKey]Category{}
	for si := range sets {
		s := &sets[si]
		c := CategoryOf(s)
		for ei, e := range s.Entries {
			if !e.HasRealMirrors() {
				res.Ignored = append(res.Ignored, IgnoredEntry{Object: s.Describe(), Field: s.EntryPath(ei), Source: e.Source})
				continue
			}
			k := entryKey{s.Kind.ForTags(), e.Source}
			if old, ok := cats[k]; !ok || c > old {
				cats[k] = c
			}
		}
	}

	var digest, tag []outEntry
	for _, r := range cfg.Registries() {
		if m := outMirrors(r, r.DigestMirrors); len(m) > 0 {
			digest = append(digest, outEntry{source: r.Prefix, mirrors: m, blocked: r.Blocked, category: cats[entryKey{false, r.Prefix}]})
		}
		if m := outMirrors(r, r.TagMirrors); len(m) > 0 {
			tag = append(tag, outEntry{source: r.Prefix, mirrors: m, blocked: r.Blocked, category: cats[entryKey{true, r.Prefix}]})
		}
	}
	if err := checkComplete(sets, digest, tag); err != nil {
		return nil, err
	}

	var errs []error
	idms, idmsDocs, idmsSummaries, err := split(mirrorset.KindIDMS, digest, func(name string, es []outEntry) configv1.ImageDigestMirrorSet {
		o := newIDMS(name, nil, nil)
		for _, e := range es {
			o.Spec.ImageDigestMirrors = append(o.Spec.ImageDigestMirrors, configv1.ImageDigestMirrors{Source: e.source, Mirrors: e.mirrors, MirrorSourcePolicy: policy(e.blocked)})
		}
		return o
	})
	if err != nil {
		errs = append(errs, err)
	}
	itms, itmsDocs, itmsSummaries, err := split(mirrorset.KindITMS, tag, func(name string, es []outEntry) configv1.ImageTagMirrorSet {
		o := configv1.ImageTagMirrorSet{}
		o.APIVersion = configv1.GroupVersion.String()
		o.Kind = string(mirrorset.KindITMS)
		o.Name = name
		for _, e := range es {
			o.Spec.ImageTagMirrors = append(o.Spec.ImageTagMirrors, configv1.ImageTagMirrors{Source: e.source, Mirrors: e.mirrors, MirrorSourcePolicy: policy(e.blocked)})
		}
		return o
	})
	if err != nil {
		errs = append(errs, err)
	}
	res.IDMS, res.ITMS = idms, itms

	winners := map[string]CatalogSource{}
	for _, in := range ordered {
		for _, cs := range in.CatalogSources {
			if old, ok := winners[cs.Name]; ok && !bytes.Equal(old.Data, cs.Data) {
				res.Superseded = append(res.Superseded, old)
			}
			winners[cs.Name] = cs
		}
	}
	for _, cs := range winners {
		res.CatalogSources = append(res.CatalogSources, cs)
	}
	sort.Slice(res.CatalogSources, func(i, j int) bool { return res.CatalogSources[i].Name < res.CatalogSources[j].Name })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	res.Objects = append(idmsSummaries, itmsSummaries...)
	if len(idmsDocs) > 0 {
		res.Files = append(res.Files, atomicfile.File{Name: IDMSFile, Data: manifest.JoinDocuments(idmsDocs)})
	}
	if len(itmsDocs) > 0 {
		res.Files = append(res.Files, atomicfile.File{Name: ITMSFile, Data: manifest.JoinDocuments(itmsDocs)})
	}
	for _, cs := range res.CatalogSources {
		res.Files = append(res.Files, atomicfile.File{Name: cs.FileName(), Data: cs.Data})
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Name < res.Files[j].Name })
	return res, nil
}

// OwnedFiles are the shell patterns of the files Merge writes: a later
// merge into the same directory replaces or removes exactly these.
var OwnedFiles = []string{IDMSFile, ITMSFile, catalogSourceFilePrefix + "*.yaml"}

// WriteDir writes the result into dir (created when missing) as one change:
// on error nothing in dir has changed. Files an earlier merge wrote there
// that this result does not have (OwnedFiles) are removed, so that dir holds
// exactly this result; they are returned. Other files are left alone.
func (r *Result) WriteDir(dir string) (removed []string, err error) {
	old, err := atomicfile.Names(dir, OwnedFiles...)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, f := range r.Files {
		keep[f.Name] = true
	}
	for _, name := range old {
		if !keep[name] {
			removed = append(removed, name)
		}
	}
	if err := atomicfile.WriteDir(dir, r.Files, removed, atomicfile.DefaultPerm); err != nil {
		return nil, err
	}
	return removed, nil
}

// outMirrors is a merged mirror list as an entry may hold it. The merge order
// keeps the source where a cycle put it before other mirrors; a blocked
// source is refused anyway, and the machine-config-operator would reject a
// NeverContactSource entry listing it, so it is dropped there, as it is for a
// wildcard source, which cannot be a mirror location.
func outMirrors(r *mirrorset.Registry, mirrors []string) []string {
	if !r.Blocked && !mirrorset.IsWildcard(r.Prefix) {
		return mirrors
	}
	out := make([]string, 0, len(mirrors))
	for _, m := range mirrors {
		if m != r.Prefix {
			out = append(out, m)
		}
	}
	return out
}

// checkComplete makes sure that no (kind, source, mirror) of the inputs is
// missing from the output: the guarantee people rely on when they replace
// their hand-merged files by ours. Only a source listed as its own mirror may
// be left out: it is tried last anyway.
func checkComplete(sets []mirrorset.Set, digest, tag []outEntry) error {
	have := map[entryKey]map[string]bool{}
	for _, g := range []struct {
		tags bool
		es   []outEntry
	}{{false, digest}, {true, tag}} {
		for _, e := range g.es {
			m := map[string]bool{}
			for _, x := range e.mirrors {
				m[x] = true
			}
			have[entryKey{g.tags, e.source}] = m
		}
	}
	var errs []error
	for si := range sets {
		s := &sets[si]
		for ei, e := range s.Entries {
			if !e.HasRealMirrors() {
				continue
			}
			got := have[entryKey{s.Kind.ForTags(), e.Source}]
			for mi, m := range e.Mirrors {
				if m != e.Source && !got[m] {
					errs = append(errs, fmt.Errorf("%s: %s.mirrors[%d]: mirror %q of source %q would be lost (a bug in hcpmirror: please report it)", s.Describe(), s.EntryPath(ei), mi, m, e.Source))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// split puts entries (sorted by source) into objects named
// hcpmirror-<category>-<n>, each below MaxObjectBytes, and returns their YAML.
// build makes the object for a name and its entries.
func split[T any](kind mirrorset.Kind, entries []outEntry, build func(name string, es []outEntry) T) ([]T, [][]byte, []ObjectSummary, error) {
	var objs []T
	var docs [][]byte
	var summaries []ObjectSummary
	file := IDMSFile
	if kind.ForTags() {
		file = ITMSFile
	}
	for _, cat := range categoriesOut {
		var list []outEntry
		for _, e := range entries {
			if e.category == cat {
				list = append(list, e)
			}
		}
		sizes := make([]int, len(list))
		for i, e := range list {
			n, err := itemSize(e)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s source %q: %w", kind, e.source, err)
			}
			sizes[i] = n
		}
		for i, n := 0, 0; i < len(list); n++ {
			name := fmt.Sprintf("%s%s-%d", ObjectPrefix, cat, n)
			first, err := manifest.EncodeYAML(build(name, list[i:i+1]))
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s %q: %w", kind, name, err)
			}
			total := len(first)
			j := i + 1
			for j < len(list) && total+sizes[j] < MaxObjectBytes {
				total += sizes[j]
				j++
			}
			obj := build(name, list[i:j])
			data, err := manifest.EncodeYAML(obj)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s %q: %w", kind, name, err)
			}
			if len(data) >= MaxObjectBytes {
				if j == i+1 {
					return nil, nil, nil, fmt.Errorf("%s %q: the entry for source %q alone takes %d bytes, more than the %d an object may have", kind, name, list[i].source, len(data), MaxObjectBytes)
				}
				return nil, nil, nil, fmt.Errorf("%s %q: %d bytes, more than the %d an object may have (a bug in hcpmirror: please report it)", kind, name, len(data), MaxObjectBytes)
			}
			objs = append(objs, obj)
			docs = append(docs, data)
			summaries = append(summaries, ObjectSummary{Kind: kind, Name: name, Category: cat, File: file, Sources: j - i, Bytes: len(data)})
			i = j
		}
	}
	return objs, docs, summaries, nil
}

// itemSize is the number of bytes one entry adds to an object's YAML: its
// lines as a list item, indented by two more spaces under
// spec.image*Mirrors.
func itemSize(e outEntry) (int, error) {
	y, err := yaml.Marshal([]configv1.ImageDigestMirrors{{Source: e.source, Mirrors: e.mirrors, MirrorSourcePolicy: policy(e.blocked)}})
	if err != nil {
		return 0, err
	}
	return len(y) + 2*bytes.Count(y, []byte("\n")), nil
}

func policy(blocked bool) configv1.MirrorSourcePolicy {
	if blocked {
		return configv1.NeverContactSource
	}
	return ""
}

func newIDMS(name string, labels, annotations map[string]string) configv1.ImageDigestMirrorSet {
	o := configv1.ImageDigestMirrorSet{}
	o.APIVersion = configv1.GroupVersion.String()
	o.Kind = string(mirrorset.KindIDMS)
	o.Name = name
	o.Labels = labels
	o.Annotations = annotations
	return o
}
