package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// BuiltArtifact is what Built holds: a v1.Image or a v1.ImageIndex.
type BuiltArtifact interface {
	Digest() (v1.Hash, error)
	MediaType() (types.MediaType, error)
	RawManifest() ([]byte, error)
}

// Built holds images made during planning (rebuilt operator catalogs) that
// Copy pushes like any other: an Image whose Source is a key of Built is
// read from memory, by digest, instead of from a registry. A built index
// serves its images and their blobs too; blobs a built image shares with
// its base (the catalog's original layers) are read from where the base
// came from.
type Built map[string]BuiltArtifact

// BuiltSource serves Built images and passes every other reference to next.
type BuiltSource struct {
	manifests map[v1.Hash]BuiltArtifact
	blobs     map[v1.Hash]func() (io.ReadCloser, error)
	byRef     map[string]v1.Hash
	next      Source
}

// NewBuiltSource serves built (keyed by the Source references the plan
// gives them, which must end in @<digest> of the image) in front of next.
func NewBuiltSource(built Built, next Source) (*BuiltSource, error) {
	s := &BuiltSource{manifests: map[v1.Hash]BuiltArtifact{}, blobs: map[v1.Hash]func() (io.ReadCloser, error){}, byRef: map[string]v1.Hash{}, next: next}
	for ref, a := range built {
		d, err := a.Digest()
		if err != nil {
			return nil, fmt.Errorf("built image %s: %w", ref, err)
		}
		if want, ok := digestOf(ref); ok && want != d {
			return nil, fmt.Errorf("built image %s has digest %s", ref, d)
		}
		if err := s.add(a); err != nil {
			return nil, fmt.Errorf("built image %s: %w", ref, err)
		}
		s.byRef[ref] = d
	}
	return s, nil
}

// add registers a and, for an index, its children, with their blobs.
func (s *BuiltSource) add(a BuiltArtifact) error {
	d, err := a.Digest()
	if err != nil {
		return err
	}
	s.manifests[d] = a
	switch a := a.(type) {
	case v1.ImageIndex:
		im, err := a.IndexManifest()
		if err != nil {
			return err
		}
		for _, m := range im.Manifests {
			var child BuiltArtifact
			if m.MediaType.IsIndex() {
				child, err = a.ImageIndex(m.Digest)
			} else {
				child, err = a.Image(m.Digest)
			}
			if err != nil {
				return fmt.Errorf("manifest %s: %w", m.Digest, err)
			}
			if err := s.add(child); err != nil {
				return err
			}
		}
	case v1.Image:
		cfg, err := a.ConfigName()
		if err != nil {
			return err
		}
		s.blobs[cfg] = func() (io.ReadCloser, error) {
			b, err := a.RawConfigFile()
			if err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		}
		layers, err := a.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			ld, err := l.Digest()
			if err != nil {
				return err
			}
			s.blobs[ld] = l.Compressed
		}
	}
	return nil
}

// Manifest implements Source.
func (s *BuiltSource) Manifest(ctx context.Context, ref string) ([]byte, types.MediaType, v1.Hash, error) {
	if d, ok := digestOf(ref); ok {
		if a, ok := s.manifests[d]; ok {
			raw, err := a.RawManifest()
			if err != nil {
				return nil, "", v1.Hash{}, err
			}
			mt, err := a.MediaType()
			return raw, mt, d, err
		}
	}
	return s.next.Manifest(ctx, ref)
}

// Digest implements Source.
func (s *BuiltSource) Digest(ctx context.Context, ref string) (v1.Hash, error) {
	if d, ok := s.byRef[ref]; ok {
		return d, nil
	}
	return s.next.Digest(ctx, ref)
}

// Blob implements Source.
func (s *BuiltSource) Blob(ctx context.Context, ref string, d v1.Descriptor) (io.ReadCloser, error) {
	if rd, ok := digestOf(ref); ok {
		if _, ok := s.manifests[rd]; ok {
			if open, ok := s.blobs[d.Digest]; ok {
				return open()
			}
		}
	}
	return s.next.Blob(ctx, ref, d)
}

// Catalog resources, as oc-mirror v2 names them: cs-<repo>-<suffix>.yaml
// (OLM v0 CatalogSource) and cc-<repo>-<suffix>.yaml (OLM v1
// ClusterCatalog), pinned by digest.
const (
	catalogSourcePrefix  = "cs-"
	clusterCatalogPrefix = "cc-"
	// OLMCatalogsAnnotation is the HostedCluster annotation that maps
	// catalog sources to their mirrors for HyperShift's catalog image
	// streams.
	OLMCatalogsAnnotation = "hypershift.openshift.io/olm-catalogs-is-registry-overrides"
)

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// catalogName is <repo>-<suffix>: the last path element of the
// destination and its tag, made a valid object name.
func catalogName(r Record) string {
	repo := r.Repo[strings.LastIndex(r.Repo, "/")+1:]
	suffix := r.Tag
	if suffix == "" {
		suffix = strings.TrimPrefix(r.Digest, "sha256:")
	}
	if len(suffix) > 12 && strings.HasPrefix(suffix, "sha256-") {
		suffix = suffix[7:19]
	}
	n := nonName.ReplaceAllString(strings.ToLower(repo+"-"+suffix), "-")
	n = strings.Trim(n, "-")
	if len(n) > 63 {
		n = strings.Trim(n[:63], "-")
	}
	return n
}

// catalogFiles are the CatalogSource and ClusterCatalog of every recorded
// catalog, and the olm-catalogs annotation value for HostedClusters.
func catalogFiles(recs []Record) ([]atomicfile.File, string, error) {
	var files []atomicfile.File
	overrides := map[string]string{}
	uses := map[string]int{}
	for _, r := range recs {
		if r.Kind == KindCatalog {
			uses[catalogName(r)]++
		}
	}
	for _, r := range recs {
		if r.Kind != KindCatalog {
			continue
		}
		name := catalogName(r)
		if uses[name] > 1 {
			// Two catalogs with one last path element and tag (another
			// namespace or destination): oc-mirror's name would write one
			// file for both, so each gets a suffix of where it lives.
			sum := sha256.Sum256([]byte(r.Root + "/" + r.Repo))
			name = sharedNameStem(name) + hex.EncodeToString(sum[:3])
		}
		image := r.Root + "/" + r.Repo + "@" + r.Digest
		cs, err := manifest.EncodeYAMLMap(map[string]any{
			"apiVersion": "operators.coreos.com/v1alpha1",
			"kind":       "CatalogSource",
			"metadata":   map[string]any{"name": catalogSourcePrefix + name, "namespace": "openshift-marketplace"},
			"spec":       map[string]any{"sourceType": "grpc", "image": image},
		})
		if err != nil {
			return nil, "", err
		}
		cc, err := manifest.EncodeYAMLMap(map[string]any{
			"apiVersion": "olm.operatorframework.io/v1",
			"kind":       "ClusterCatalog",
			"metadata":   map[string]any{"name": clusterCatalogPrefix + name},
			"spec":       map[string]any{"source": map[string]any{"type": "Image", "image": map[string]any{"ref": image}}},
		})
		if err != nil {
			return nil, "", err
		}
		files = append(files,
			atomicfile.File{Name: catalogSourcePrefix + name + ".yaml", Data: cs},
			atomicfile.File{Name: clusterCatalogPrefix + name + ".yaml", Data: cc})
		overrides[r.SourceRepo()] = r.Root + "/" + r.Repo
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k+"="+overrides[k])
	}
	return files, strings.Join(pairs, ","), nil
}

// sharedNameStem is the start of the CatalogSource/ClusterCatalog name of a
// catalog whose name another catalog shares: the name cut to leave room
// for "-" and 6 hex digits of where it lives within 63 characters, then
// "-". verify matches written objects by it.
func sharedNameStem(name string) string {
	return strings.Trim(name[:min(len(name), 63-7)], "-") + "-"
}
