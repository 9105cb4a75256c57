package mirror

import (
	"bytes"
	"context"
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

// Built holds images made during planning (rebuilt operator catalogs) that
// Copy pushes like any other: an Image whose Source is a key of Built is
// read from memory, by digest, instead of from a registry.
type Built map[string]v1.Image

// BuiltSource serves Built images and passes every other reference to next.
type BuiltSource struct {
	built map[v1.Hash]v1.Image
	byRef map[string]v1.Hash
	next  Source
}

// NewBuiltSource serves built (keyed by the Source references the plan
// gives them, which must end in @<digest> of the image) in front of next.
func NewBuiltSource(built Built, next Source) (*BuiltSource, error) {
	s := &BuiltSource{built: map[v1.Hash]v1.Image{}, byRef: map[string]v1.Hash{}, next: next}
	for ref, img := range built {
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("built image %s: %w", ref, err)
		}
		if want, ok := digestOf(ref); ok && want != d {
			return nil, fmt.Errorf("built image %s has digest %s", ref, d)
		}
		s.built[d], s.byRef[ref] = img, d
	}
	return s, nil
}

// Manifest implements Source.
func (s *BuiltSource) Manifest(ctx context.Context, ref string) ([]byte, types.MediaType, v1.Hash, error) {
	if d, ok := digestOf(ref); ok {
		if img, ok := s.built[d]; ok {
			raw, err := img.RawManifest()
			if err != nil {
				return nil, "", v1.Hash{}, err
			}
			mt, err := img.MediaType()
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
		if img, ok := s.built[rd]; ok {
			cfg, err := img.ConfigName()
			if err == nil && cfg == d.Digest {
				b, err := img.RawConfigFile()
				if err != nil {
					return nil, err
				}
				return io.NopCloser(bytes.NewReader(b)), nil
			}
			l, err := img.LayerByDigest(d.Digest)
			if err != nil {
				return nil, err
			}
			return l.Compressed()
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
	for _, r := range recs {
		if r.Kind != KindCatalog {
			continue
		}
		name := catalogName(r)
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
