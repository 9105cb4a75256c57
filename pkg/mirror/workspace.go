package mirror

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/ocmirror"
)

// Workspace layout, below the workspace directory. working-dir/cluster-resources
// is where oc-mirror v2 writes, so every command that reads oc-mirror v2
// output (verify -f, resolve -f, lint -f, merge -f) reads ours.
const (
	WorkingDir       = manifest.OCMirrorWorkingDir
	ClusterResources = manifest.OCMirrorClusterResources
	// StateDir holds hcpmirror's record of what the workspace mirrored.
	StateDir = ".hcpmirror"
	// RecordFile is the record, one entry per mirrored image.
	RecordFile = "mirrored.json"
)

// Files written into cluster-resources besides the merge's own.
const (
	ICSFile     = "hostedcluster-imagecontentsources.txt"
	ICSPFile    = "icsp-hcpmirror.yaml"
	MappingFile = "mapping.txt"
	// ReportFile is written beside cluster-resources, in working-dir.
	ReportFile    = "report.json"
	SignatureJSON = "signature-configmap.json"
	SignatureYAML = "signature-configmap.yaml"
)

// ownedFiles are everything Workspace writes in cluster-resources: a later
// run replaces or removes exactly these.
var ownedFiles = append(slices.Clone(ocmirror.OwnedFiles), ICSFile, ICSPFile, MappingFile, SignatureJSON, SignatureYAML, catalogSourcePrefix+"*.yaml", clusterCatalogPrefix+"*.yaml")

// Record is one image mirrored through the workspace.
type Record struct {
	Image
	// Root is the destination root it went to.
	Root string `json:"root"`
	// Digest is its manifest digest.
	Digest string `json:"digest"`
}

// Workspace is a directory holding the record of what was mirrored and the
// cluster resources for all of it.
type Workspace struct {
	Dir string
}

func (w Workspace) recordPath() string {
	return filepath.Join(w.Dir, WorkingDir, StateDir, RecordFile)
}

// ClusterResourcesDir is where the resources are written.
func (w Workspace) ClusterResourcesDir() string {
	return filepath.Join(w.Dir, WorkingDir, ClusterResources)
}

// Records reads the record; a workspace without one has none.
func (w Workspace) Records() ([]Record, error) {
	b, err := os.ReadFile(w.recordPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the workspace record: %w", err)
	}
	var recs []Record
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", w.recordPath(), err)
	}
	return recs, nil
}

// Add records the images of results that are in the destination (copied or
// present), merged with what is recorded, and returns the whole record.
// Written atomically; the order is deterministic.
func (w Workspace) Add(root string, results []Result) ([]Record, error) {
	recs, err := w.Records()
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	// A destination tag holds one image: a newer record for it (a
	// catalog rebuilt with more packages) replaces the older one.
	key := func(r Record) string { return r.Root + "/" + r.Repo + ":" + r.Tag }
	for i, r := range recs {
		idx[key(r)] = i
	}
	for _, res := range results {
		if res.Status != StatusCopied && res.Status != StatusPresent {
			continue
		}
		r := Record{Image: res.Image, Root: root, Digest: res.Digest}
		if i, ok := idx[key(r)]; ok {
			if recs[i].Source == r.Source {
				r.DigestPull = r.DigestPull || recs[i].DigestPull
				r.TagPull = r.TagPull || recs[i].TagPull
			}
			recs[i] = r
			continue
		}
		idx[key(r)] = len(recs)
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return key(recs[i]) < key(recs[j]) })
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(w.recordPath()), 0o755); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(w.recordPath(), append(b, '\n'), atomicfile.DefaultPerm); err != nil {
		return nil, err
	}
	return recs, nil
}

// category of an image kind, for the name of the mirror set holding it.
func category(k Kind) string {
	switch k {
	case KindRelease, KindComponent, KindKubeVirt:
		return "release"
	case KindBundle, KindRelated, KindCatalog:
		return "operator"
	}
	return "generic"
}

// ResourceOptions are the optional outputs.
type ResourceOptions struct {
	// ICSP also writes ImageContentSourcePolicies, for clusters older
	// than ImageDigestMirrorSet.
	ICSP bool
	// SignaturesDir holds release signatures to publish as a ConfigMap.
	SignaturesDir string
	// Mapping and Report are this run's mapping.txt and report.json.
	Mapping []byte
	Report  []byte
	// Dir replaces ClusterResourcesDir (a dry run writes elsewhere).
	Dir string
}

// Resources is what WriteResources wrote.
type Resources struct {
	Dir   string   `json:"dir"`
	Files []string `json:"files"`
	// Report is the run report's path (working-dir/report.json).
	Report string `json:"report,omitempty"`
	// Sets are the mirror sets for everything recorded.
	Sets []mirrorset.Set `json:"-"`
	// Notes say what was not written and why.
	Notes []string `json:"notes,omitempty"`
}

// MirrorSets are the digest and tag mirror sets covering recs: one entry per
// source repository, mapped to the repository it was mirrored to,
// never a root-only source. Operator catalogs are left out: clusters
// reference them by CatalogSource, not through mirrors.
func MirrorSets(recs []Record) []mirrorset.Set {
	type key struct {
		kind mirrorset.Kind
		cat  string
	}
	sets := map[key]*mirrorset.Set{}
	add := func(k mirrorset.Kind, cat, src, mirror string) {
		s, ok := sets[key{k, cat}]
		if !ok {
			s = &mirrorset.Set{Kind: k, Name: cat + "-0"}
			sets[key{k, cat}] = s
		}
		for i := range s.Entries {
			if s.Entries[i].Source == src {
				if !slices.Contains(s.Entries[i].Mirrors, mirror) {
					s.Entries[i].Mirrors = append(s.Entries[i].Mirrors, mirror)
				}
				return
			}
		}
		s.Entries = append(s.Entries, mirrorset.Entry{Source: src, Mirrors: []string{mirror}})
	}
	for _, r := range recs {
		if r.Kind == KindCatalog {
			continue
		}
		src, mirror := r.SourceRepo(), r.Root+"/"+r.Repo
		if r.DigestPull {
			add(mirrorset.KindIDMS, category(r.Kind), src, mirror)
		}
		if r.TagPull {
			add(mirrorset.KindITMS, category(r.Kind), src, mirror)
		}
	}
	var out []mirrorset.Set
	for _, s := range sets {
		sort.Slice(s.Entries, func(i, j int) bool { return s.Entries[i].Source < s.Entries[j].Source })
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// WriteResources writes the cluster resources for every recorded image into
// ClusterResourcesDir as one change (atomicfile.WriteDir): the complete
// ImageDigestMirrorSet and ImageTagMirrorSet (through ocmirror.Merge, so
// names, order and splitting are those of `hcpmirror merge`), the
// HostedCluster imageContentSources snippet, optional ICSPs and the
// signatures ConfigMap, and this run's mapping.txt and report.json. Files
// an earlier run wrote that this one does not are removed.
func (w Workspace) WriteResources(recs []Record, o ResourceOptions) (*Resources, error) {
	dir := w.ClusterResourcesDir()
	if o.Dir != "" {
		dir = o.Dir
	}
	res := &Resources{Dir: dir, Sets: MirrorSets(recs)}
	cats, annotation, err := catalogFiles(recs)
	if err != nil {
		return nil, err
	}
	files := cats
	if len(res.Sets) > 0 {
		merged, err := ocmirror.Merge([]ocmirror.Input{{Path: w.recordPath(), Sets: res.Sets}})
		if err != nil {
			return nil, fmt.Errorf("building mirror sets: %w", err)
		}
		files = append(files, merged.Files...)
		cfg, err := mirrorset.Compile(res.Sets)
		if err != nil {
			return nil, fmt.Errorf("building mirror sets: %w", err)
		}
		ics := cfg.ImageContentSources()
		files = append(files, atomicfile.File{Name: ICSFile, Data: icsSnippet(ics, annotation)})
		if o.ICSP {
			b, err := icsps(ics.Entries)
			if err != nil {
				return nil, err
			}
			files = append(files, atomicfile.File{Name: ICSPFile, Data: b})
		}
	}
	if o.SignaturesDir != "" {
		cm, err := signatureConfigMap(o.SignaturesDir, recs)
		if err != nil {
			return nil, err
		}
		if cm != nil {
			j, err := json.Marshal(cm)
			if err != nil {
				return nil, err
			}
			y, err := manifest.EncodeYAMLMap(cm)
			if err != nil {
				return nil, err
			}
			files = append(files, atomicfile.File{Name: SignatureJSON, Data: append(j, '\n')}, atomicfile.File{Name: SignatureYAML, Data: y})
		} else {
			res.Notes = append(res.Notes, "release signatures: none of the files in "+o.SignaturesDir+" signs a mirrored release")
		}
	} else if hasRelease(recs) {
		res.Notes = append(res.Notes, "release signatures: none mirrored (no --release-signatures): clusters that verify release signatures, as an upgrade does, need the signature ConfigMap applied by other means or an override of the update's signature check")
	}
	if o.Mapping != nil {
		files = append(files, atomicfile.File{Name: MappingFile, Data: o.Mapping})
	}
	old, err := atomicfile.Names(dir, ownedFiles...)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.Name] = true
		res.Files = append(res.Files, f.Name)
	}
	var remove []string
	for _, n := range old {
		if !keep[n] {
			remove = append(remove, n)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteDir(dir, files, remove, atomicfile.DefaultPerm); err != nil {
		return nil, fmt.Errorf("writing cluster resources: %w", err)
	}
	sort.Strings(res.Files)
	if o.Report != nil {
		// Beside cluster-resources, not in it: every reader of that
		// directory takes *.json for Kubernetes objects.
		rp := filepath.Join(w.Dir, WorkingDir, ReportFile)
		if o.Dir != "" {
			rp = filepath.Join(o.Dir, ReportFile)
		}
		if err := atomicfile.WriteFile(rp, o.Report, atomicfile.DefaultPerm); err != nil {
			return nil, fmt.Errorf("writing the run report: %w", err)
		}
		res.Report = rp
	}
	return res, nil
}

func hasRelease(recs []Record) bool {
	for _, r := range recs {
		if r.Kind == KindRelease {
			return true
		}
	}
	return false
}

// icsSnippet is the HostedCluster side: spec.imageContentSources equivalent
// to the digest mirror sets, to paste into a HostedCluster (the field rolls
// every NodePool when changed).
func icsSnippet(ics mirrorset.ImageContentSourcesResult, catalogs string) []byte {
	var b strings.Builder
	b.WriteString("# HostedCluster spec.imageContentSources for everything mirrored through this workspace.\n")
	b.WriteString("# Paste under spec: of each HostedCluster using this mirror (changing it rolls every NodePool).\n")
	for _, l := range ics.Lost {
		b.WriteString("# note: " + l + "\n")
	}
	if catalogs != "" {
		fmt.Fprintf(&b, "# metadata.annotations for the mirrored operator catalogs:\n#   %s: %q\n", OLMCatalogsAnnotation, catalogs)
	}
	b.WriteString("imageContentSources:\n")
	for _, e := range ics.Entries {
		fmt.Fprintf(&b, "- source: %s\n  mirrors:\n", e.Source)
		for _, m := range e.Mirrors {
			fmt.Fprintf(&b, "  - %s\n", m)
		}
	}
	return []byte(b.String())
}

// icsps writes the digest entries as ImageContentSourcePolicies, split
// below ocmirror.MaxObjectBytes.
func icsps(entries []mirrorset.Entry) ([]byte, error) {
	var docs [][]byte
	n := 0
	cur := newICSP(n)
	size := 0
	flush := func() error {
		if len(cur.Spec.RepositoryDigestMirrors) == 0 {
			return nil
		}
		b, err := manifest.EncodeYAML(cur)
		if err != nil {
			return err
		}
		docs = append(docs, b)
		n++
		cur, size = newICSP(n), 0
		return nil
	}
	for _, e := range entries {
		es := len(e.Source) + 32
		for _, m := range e.Mirrors {
			es += len(m) + 8
		}
		if size+es > ocmirror.MaxObjectBytes-1024 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		cur.Spec.RepositoryDigestMirrors = append(cur.Spec.RepositoryDigestMirrors, operatorv1alpha1.RepositoryDigestMirrors{Source: e.Source, Mirrors: e.Mirrors})
		size += es
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return manifest.JoinDocuments(docs), nil
}

func newICSP(n int) *operatorv1alpha1.ImageContentSourcePolicy {
	p := &operatorv1alpha1.ImageContentSourcePolicy{}
	p.APIVersion = operatorv1alpha1.GroupVersion.String()
	p.Kind = string(mirrorset.KindICSP)
	p.Name = fmt.Sprintf("%s%d", ocmirror.ObjectPrefix, n)
	return p
}

// Signature file names accepted in --release-signatures: the layout of
// mirror.openshift.com (sha256=<hex>/signature-<n>), oc-mirror v2's cache
// (<anything>-sha256-<hex>, signature 1) and the ConfigMap key form
// (sha256-<hex>-<n>).
var (
	sigDirRE  = regexp.MustCompile(`^sha256=([0-9a-f]{64})$`)
	sigFileRE = regexp.MustCompile(`^signature-([0-9]+)$`)
	sigV2RE   = regexp.MustCompile(`(?:^|-)sha256-([0-9a-f]{64})$`)
	sigKeyRE  = regexp.MustCompile(`^sha256-([0-9a-f]{64})-([0-9]+)$`)
)

// signatureConfigMap builds oc-mirror's mirrored-release-signatures
// ConfigMap from the signatures in dir that sign a recorded release image.
func signatureConfigMap(dir string, recs []Record) (map[string]any, error) {
	releases := map[string]bool{}
	for _, r := range recs {
		if r.Kind == KindRelease {
			releases[strings.TrimPrefix(r.Digest, "sha256:")] = true
		}
	}
	data := map[string]any{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var hex, n string
		base := filepath.Base(path)
		if m := sigFileRE.FindStringSubmatch(base); m != nil {
			if pm := sigDirRE.FindStringSubmatch(filepath.Base(filepath.Dir(path))); pm != nil {
				hex, n = pm[1], m[1]
			}
		} else if m := sigKeyRE.FindStringSubmatch(base); m != nil {
			hex, n = m[1], m[2]
		} else if m := sigV2RE.FindStringSubmatch(base); m != nil {
			hex, n = m[1], "1"
		}
		if hex == "" || !releases[hex] {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data["sha256-"+hex+"-"+n] = base64.StdEncoding.EncodeToString(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading release signatures: %w", err)
	}
	if len(data) == 0 {
		return nil, nil
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":      "mirrored-release-signatures",
			"namespace": "openshift-config-managed",
			"labels":    map[string]any{"release.openshift.io/verification-signatures": ""},
		},
		"binaryData": data,
	}, nil
}
