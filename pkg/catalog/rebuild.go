package catalog

import (
	"fmt"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/pkg/layer"
)

// Rebuild returns the catalog image base with its catalog directory holding
// exactly cfg (as [Write] renders it), so that a cluster served by it is
// never offered a bundle that was not mirrored.
//
// Two layers go on top of base, as oc-mirror v2 builds them: the first only
// deletes (whiteouts of the catalog directory and of opm's pre-computed
// cache), the second adds the new catalog directory. Deleting and adding in
// separate layers keeps every reader correct, including those that apply a
// layer's whiteouts to its own files (go-containerregistry's
// mutate.Extract). Files are owned by root, dated at the Unix epoch and
// gzip-compressed without a timestamp, so the same cfg on the same base
// always gives the same digest and a second run pushes nothing new.
//
// The cache: catalogs built by opm's Dockerfile ship a cache of the catalog
// directory (CMD serve /configs --cache-dir=/tmp/cache, filled at build
// time). That cache describes the old catalog; opm either serves it (stale
// bundles) or, since opm checks the cache's integrity by default, refuses to
// start (OCPBUGS-12236). Rebuild therefore deletes the directory named by
// --cache-dir and drops the --cache-dir, --cache-only and
// --cache-enforce-integrity flags from the image's Cmd and Entrypoint; opm
// then builds its cache in a temporary directory when the pod starts, which
// takes a few seconds more for a filtered catalog. opm has no image label
// for the cache, so the flag is the only place it is named. Labels,
// including ConfigsLabel, are kept.
func Rebuild(base v1.Image, cfg *Config) (v1.Image, error) {
	files, err := Write(cfg)
	if err != nil {
		return nil, fmt.Errorf("writing catalog: %w", err)
	}
	return rebuild(base, files)
}

// RebuildIndex applies Rebuild to every image of a multi-architecture
// catalog and returns an index of the same media type, platforms and
// annotations. Attestation manifests (platform unknown/unknown) are dropped:
// they describe the original images, whose digests have changed.
func RebuildIndex(base v1.ImageIndex, cfg *Config) (v1.ImageIndex, error) {
	files, err := Write(cfg)
	if err != nil {
		return nil, fmt.Errorf("writing catalog: %w", err)
	}
	return rebuildIndex(base, files)
}

func rebuildIndex(base v1.ImageIndex, files []File) (v1.ImageIndex, error) {
	im, err := base.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	mt, err := base.MediaType()
	if err != nil {
		return nil, err
	}
	out := mutate.IndexMediaType(empty.Index, mt)
	if len(im.Annotations) > 0 {
		out = mutate.Annotations(out, im.Annotations).(v1.ImageIndex)
	}
	var adds []mutate.IndexAddendum
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS == "unknown" {
			continue
		}
		desc := v1.Descriptor{Platform: d.Platform, Annotations: d.Annotations}
		switch {
		case d.MediaType.IsImage():
			img, err := base.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", d.Digest, err)
			}
			nimg, err := rebuild(img, files)
			if err != nil {
				return nil, fmt.Errorf("image %s (%s): %w", d.Digest, platformString(d.Platform), err)
			}
			adds = append(adds, mutate.IndexAddendum{Add: nimg, Descriptor: desc})
		case d.MediaType.IsIndex():
			child, err := base.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("index %s: %w", d.Digest, err)
			}
			nchild, err := rebuildIndex(child, files)
			if err != nil {
				return nil, fmt.Errorf("index %s: %w", d.Digest, err)
			}
			adds = append(adds, mutate.IndexAddendum{Add: nchild, Descriptor: desc})
		}
	}
	if len(adds) == 0 {
		return nil, fmt.Errorf("index has no catalog image")
	}
	return mutate.AppendManifests(out, adds...), nil
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return "no platform"
	}
	return p.String()
}

func rebuild(base v1.Image, files []File) (v1.Image, error) {
	dir, err := ConfigsDir(base)
	if err != nil {
		return nil, err
	}
	cf, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	mt, err := base.MediaType()
	if err != nil {
		return nil, err
	}
	layerType := types.DockerLayer
	if mt == types.OCIManifestSchema1 {
		layerType = types.OCILayer
	}

	cmd, cacheDirs := dropCacheFlags(cf.Config.Cmd)
	entrypoint, more := dropCacheFlags(cf.Config.Entrypoint)
	cacheDirs = append(cacheDirs, more...)

	deleted := []string{"/" + dir}
	var whiteouts []layer.File
	for _, p := range append([]string{dir}, cacheDirs...) {
		p = cleanPath(p)
		if p == "" {
			continue
		}
		whiteouts = append(whiteouts, layer.File{Name: path.Join(path.Dir(p), whiteoutPrefix+path.Base(p))})
		if p != dir {
			deleted = append(deleted, "/"+p)
		}
	}
	delLayer, err := tarLayer(whiteouts, layerType)
	if err != nil {
		return nil, err
	}
	content := []layer.File{{Name: dir, Dir: true}}
	seenDir := map[string]bool{dir: true}
	for _, f := range files {
		full := path.Join(dir, f.Path)
		for d := path.Dir(full); d != dir && !seenDir[d]; d = path.Dir(d) {
			seenDir[d] = true
			content = append(content, layer.File{Name: d, Dir: true})
		}
		content = append(content, layer.File{Name: full, Data: f.Data})
	}
	sortDirsFirst(content)
	addLayer, err := tarLayer(content, layerType)
	if err != nil {
		return nil, err
	}
	created := cf.Created
	img, err := mutate.Append(base,
		mutate.Addendum{Layer: delLayer, MediaType: layerType, History: v1.History{
			Created: created, CreatedBy: "hcpmirror catalog rebuild: delete " + strings.Join(deleted, " "),
		}},
		mutate.Addendum{Layer: addLayer, MediaType: layerType, History: v1.History{
			Created: created, CreatedBy: fmt.Sprintf("hcpmirror catalog rebuild: add /%s (%d files)", dir, len(files)),
		}},
	)
	if err != nil {
		return nil, fmt.Errorf("adding catalog layers: %w", err)
	}
	ncf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	ncf = ncf.DeepCopy()
	ncf.Config.Cmd = cmd
	ncf.Config.Entrypoint = entrypoint
	img, err = mutate.ConfigFile(img, ncf)
	if err != nil {
		return nil, fmt.Errorf("setting image config: %w", err)
	}
	return img, nil
}

// dropCacheFlags removes opm serve's cache flags from args and returns the
// cache directories they named.
func dropCacheFlags(args []string) ([]string, []string) {
	if args == nil {
		return nil, nil
	}
	out := make([]string, 0, len(args))
	var dirs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--cache-dir" && i+1 < len(args):
			dirs = append(dirs, args[i+1])
			i++
		case strings.HasPrefix(a, "--cache-dir="):
			dirs = append(dirs, strings.TrimPrefix(a, "--cache-dir="))
		case a == "--cache-only", strings.HasPrefix(a, "--cache-only="),
			a == "--cache-enforce-integrity", strings.HasPrefix(a, "--cache-enforce-integrity="):
		default:
			out = append(out, a)
		}
	}
	return out, dirs
}

// sortDirsFirst orders members by path, which puts every directory before
// the members inside it (a parent is a prefix of its children).
func sortDirsFirst(fs []layer.File) {
	slices.SortStableFunc(fs, func(a, b layer.File) int { return strings.Compare(a.Name, b.Name) })
}

func tarLayer(files []layer.File, mt types.MediaType) (v1.Layer, error) {
	return layer.New(files, layer.WithPAX(), layer.WithMediaType(mt))
}
