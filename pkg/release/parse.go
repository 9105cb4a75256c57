package release

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"
)

// ErrNoImageReferences reports an image whose last layer has no
// release-manifests/image-references: it is not a release image (often the
// cluster-version-operator image itself, or a component pulled by mistake).
var ErrNoImageReferences = errors.New("not a release image: " + ImageReferencesFile + " not found in the last layer")

// maxFileSize bounds how much of one payload file is read. Real files are a
// few hundred KiB; the bound keeps a hostile layer from exhausting memory.
const maxFileSize = 32 << 20

// Payload is what a release image says about itself, decoded.
type Payload struct {
	// Version is image-references metadata.name, the version oc reports.
	Version string
	// ReleaseLabel is the config label io.openshift.release; normally equal
	// to Version, kept apart so a mismatch can be reported.
	ReleaseLabel string
	// BaseImageDigest is the config label
	// io.openshift.release.base-image-digest.
	BaseImageDigest string

	// ImageReferences is the decoded image-references file.
	ImageReferences *ImageReferences
	// Metadata is the decoded release-metadata, nil when the file is absent.
	Metadata *Metadata
	// BootImages is the coreos-bootimages ConfigMap, nil when absent. The
	// operator path requires it; release info only warns.
	BootImages *BootImages
	// Stream is BootImages.Data.Stream decoded, nil when BootImages is.
	Stream *Stream

	// Components are the image-references tags in file order.
	Components []Component
	// Unpinned are the Components whose image is not a digest reference.
	// They are accepted so that a payload can still be inspected, and listed
	// here so that verification flags them.
	Unpinned []Component
}

// Component is one entry of image-references reduced to what a lookup needs.
type Component struct {
	// Name is the tag name, the key components are looked up by.
	Name string
	// Image is from.name exactly as written in the payload: a canonical
	// reference that reaches a mirror only through mirror sets.
	Image string
	// Digest is the digest of Image ("sha256:…"), empty when Image is not a
	// digest reference.
	Digest string
}

// Parse decodes the release payload of img. Only the last layer is read:
// release images are built on the cluster-version-operator image, and only the
// layer added on top holds release-manifests/. Of that layer, only the three
// payload files are kept.
//
// A missing image-references is an error wrapping [ErrNoImageReferences];
// missing release-metadata or boot images leave the fields nil, since whether
// they are required depends on the caller. Components referenced by tag are
// accepted and also listed in Payload.Unpinned.
func Parse(img v1.Image) (*Payload, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w (the image has no layers)", ErrNoImageReferences)
	}
	last := layers[len(layers)-1]
	files, err := readPayloadFiles(last)
	if err != nil {
		if d, derr := last.Digest(); derr == nil {
			return nil, fmt.Errorf("last layer %s: %w", d, err)
		}
		return nil, fmt.Errorf("last layer: %w", err)
	}
	p, err := parseFiles(files)
	if errors.Is(err, ErrNoImageReferences) {
		if d, derr := last.Digest(); derr == nil {
			return nil, fmt.Errorf("%w (layer %s)", err, d)
		}
	}
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		p.ReleaseLabel = cfg.Config.Labels[LabelRelease]
		p.BaseImageDigest = cfg.Config.Labels[LabelBaseImageDigest]
	}
	return p, nil
}

// payloadFiles names the files Parse keeps; everything else in the layer is
// skipped unread.
var payloadFiles = map[string]bool{
	ImageReferencesFile: true,
	MetadataFile:        true,
	BootImagesFile:      true,
}

// readPayloadFiles returns the payload files of one layer, keyed by their
// cleaned path. A later entry for the same path replaces an earlier one, as it
// would when the layer is unpacked.
func readPayloadFiles(layer v1.Layer) (map[string][]byte, error) {
	rc, err := layer.Uncompressed()
	if err != nil {
		return nil, fmt.Errorf("opening: %w", err)
	}
	defer rc.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		p := cleanPath(hdr.Name)
		if !payloadFiles[p] {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s: not a regular file (tar type %q)", p, hdr.Typeflag)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxFileSize+1))
		if err != nil {
			return nil, fmt.Errorf("%s: reading: %w", p, err)
		}
		if len(b) > maxFileSize {
			return nil, fmt.Errorf("%s: larger than %d MiB", p, maxFileSize>>20)
		}
		files[p] = b
	}
}

// cleanPath turns the spellings tar writers use ("./a/b", "/a/b", "a//b")
// into one.
func cleanPath(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// parseFiles decodes the payload files of a last layer.
func parseFiles(files map[string][]byte) (*Payload, error) {
	b, ok := files[ImageReferencesFile]
	if !ok {
		return nil, ErrNoImageReferences
	}
	p := &Payload{}
	refs, err := parseImageReferences(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ImageReferencesFile, err)
	}
	p.ImageReferences = refs
	p.Version = refs.Metadata.Name
	for _, t := range refs.Spec.Tags {
		c := Component{Name: t.Name, Image: t.From.Name}
		if _, d, ok := splitDigest(t.From.Name); ok {
			c.Digest = d
		} else {
			p.Unpinned = append(p.Unpinned, c)
		}
		p.Components = append(p.Components, c)
	}

	if b, ok := files[MetadataFile]; ok {
		m, err := parseMetadata(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", MetadataFile, err)
		}
		p.Metadata = m
	}
	if b, ok := files[BootImagesFile]; ok {
		cm, s, err := parseBootImages(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", BootImagesFile, err)
		}
		p.BootImages, p.Stream = cm, s
	}
	return p, nil
}

// parseImageReferences decodes image-references and checks what a lookup
// relies on: the version, and a name and pull spec for every component.
// Unknown fields are ignored; the file belongs to oc, which adds fields.
func parseImageReferences(b []byte) (*ImageReferences, error) {
	var refs ImageReferences
	if err := json.Unmarshal(b, &refs); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	if refs.Kind != ImageStreamKind {
		return nil, fmt.Errorf("kind: %q, want %q", refs.Kind, ImageStreamKind)
	}
	if refs.Metadata.Name == "" {
		return nil, errors.New("metadata.name: empty, want the release version")
	}
	var errs []error
	seen := map[string]int{}
	for i, t := range refs.Spec.Tags {
		at := fmt.Sprintf("spec.tags[%d]", i)
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: empty", at))
			continue
		}
		at = fmt.Sprintf("spec.tags[%d] %q", i, t.Name)
		if j, dup := seen[t.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicates spec.tags[%d]", at, j))
		}
		seen[t.Name] = i
		switch {
		case t.From == nil:
			errs = append(errs, fmt.Errorf("%s: from: missing", at))
		case t.From.Kind != FromKindDockerImage:
			errs = append(errs, fmt.Errorf("%s: from.kind: %q, want %q", at, t.From.Kind, FromKindDockerImage))
		case t.From.Name == "":
			errs = append(errs, fmt.Errorf("%s: from.name: empty", at))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &refs, nil
}

// parseMetadata decodes release-metadata.
func parseMetadata(b []byte) (*Metadata, error) {
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	if m.Kind != MetadataKind {
		return nil, fmt.Errorf("kind: %q, want %q", m.Kind, MetadataKind)
	}
	if m.Version == "" {
		return nil, errors.New("version: empty")
	}
	return &m, nil
}

// parseBootImages decodes the coreos-bootimages ConfigMap and its stream.
func parseBootImages(b []byte) (*BootImages, *Stream, error) {
	var cm BootImages
	if err := yaml.Unmarshal(b, &cm); err != nil {
		return nil, nil, fmt.Errorf("decoding YAML: %w", err)
	}
	if cm.Kind != "ConfigMap" {
		return nil, nil, fmt.Errorf("kind: %q, want %q", cm.Kind, "ConfigMap")
	}
	if cm.Metadata.Name != BootImagesName {
		return nil, nil, fmt.Errorf("metadata.name: %q, want %q", cm.Metadata.Name, BootImagesName)
	}
	if strings.TrimSpace(cm.Data.Stream) == "" {
		return nil, nil, errors.New("data.stream: empty")
	}
	var s Stream
	dec := json.NewDecoder(bytes.NewReader([]byte(cm.Data.Stream)))
	if err := dec.Decode(&s); err != nil {
		return nil, nil, fmt.Errorf("data.stream: decoding JSON: %w", err)
	}
	return &cm, &s, nil
}

// splitDigest splits a digest reference "repo@algorithm:hex" into the
// repository and the digest. Only digests a registry could serve count:
// sha256, sha384 or sha512 with the exact number of lowercase hex digits, so
// "repo@sha256:1234" is not pinned. Tag and digest together count as pinned.
func splitDigest(ref string) (repo, digest string, ok bool) {
	at := strings.LastIndexByte(ref, '@')
	if at <= 0 {
		return "", "", false
	}
	repo, digest = ref[:at], ref[at+1:]
	alg, hex, found := strings.Cut(digest, ":")
	if !found {
		return "", "", false
	}
	want := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[alg]
	if want == 0 || len(hex) != want {
		return "", "", false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", "", false
		}
	}
	return repo, digest, true
}
