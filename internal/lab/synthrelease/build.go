package synthrelease

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/pkg/layer"

	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// created is the timestamp of everything Publish builds. A fixed time is part
// of what makes the same seed give the same digests.
var created = time.Date(2024, time.July, 1, 0, 0, 0, 0, time.UTC)

// Random streams that are not components (components use 1…n). They sit far
// above any component count so that adding components changes nothing else.
const (
	streamChoices  = 1 << 62
	streamBase     = 1<<62 + 1
	streamKubeVirt = 1<<62 + 2
	streamBootDisk = 1<<62 + 3
)

// wellKnownComponents are real OpenShift component names, first the ones
// HyperShift looks up. Publish takes the first n and numbers the rest, so
// small test releases still contain the names lookups ask for.
var wellKnownComponents = []string{
	"cluster-version-operator", "hyperkube", "etcd", "cli", "cluster-config-api",
	"cluster-policy-controller", "openshift-apiserver", "oauth-server",
	"oauth-apiserver", "openshift-controller-manager", "cluster-kube-apiserver-operator",
	"cluster-kube-controller-manager-operator", "cluster-kube-scheduler-operator",
	"cluster-etcd-operator", "cluster-network-operator", "ovn-kubernetes", "multus-cni",
	"machine-config-operator", "rhel-coreos", "rhel-coreos-extensions",
	"cluster-ingress-operator", "haproxy-router", "coredns", "cluster-dns-operator",
	"kube-rbac-proxy", "cluster-authentication-operator", "cluster-image-registry-operator",
	"docker-registry", "console", "console-operator", "cluster-monitoring-operator",
	"prometheus", "prometheus-operator", "prometheus-alertmanager", "prometheus-node-exporter",
	"kube-state-metrics", "thanos", "cluster-node-tuning-operator", "cluster-storage-operator",
	"csi-snapshot-controller", "cluster-samples-operator", "insights-operator",
	"operator-lifecycle-manager", "operator-registry", "service-ca-operator",
	"cluster-machine-approver", "machine-api-operator", "cluster-autoscaler",
	"cluster-capi-operator", "kubevirt-cloud-controller-manager", "kubevirt-csi-driver",
	"cluster-api-provider-kubevirt", "aws-ebs-csi-driver", "network-tools", "pod",
	"tools", "must-gather", "kube-proxy", "cluster-olm-operator", "hypershift",
}

// componentNames returns n distinct component names.
func componentNames(n int) []string {
	names := make([]string, 0, n)
	for i := range n {
		if i < len(wellKnownComponents) {
			names = append(names, wellKnownComponents[i])
		} else {
			names = append(names, fmt.Sprintf("synthetic-component-%03d", i))
		}
	}
	return names
}

// builtImage is one image ready to push.
type builtImage struct {
	name      string
	canonical string
	tag       name.Tag
	taggable  remote.Taggable
	digest    v1.Hash
	index     bool
}

// builtRelease is everything Publish pushes; the release image is last.
type builtRelease struct {
	images          []*builtImage
	baseImageDigest string
}

// build makes every image of the release in memory. It runs before any push,
// on one goroutine, so content never depends on scheduling.
func (c *publishConfig) build() (*builtRelease, error) {
	choices := c.rng(streamChoices)
	base, err := newLayer(map[string][]byte{"etc/synthetic-base-release": randomBytes(c.rng(streamBase), c.LayerSize)})
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}

	multi := map[int]bool{}
	chosen := choices.Perm(c.Components - 1)[:c.multiArch]
	// The machine-config-operator is always a manifest list, as it is in
	// multi payloads, so the ignition server's choice of child is tested; it
	// takes the place of the last random pick, keeping the count.
	if mco := slices.Index(wellKnownComponents, mcoComponent); mco < c.Components && !slices.Contains(chosen, mco-1) {
		if len(chosen) > 0 {
			chosen[len(chosen)-1] = mco - 1
		} else {
			chosen = append(chosen, mco-1)
		}
	}
	for _, i := range chosen {
		multi[i+1] = true
	}
	rhcos := fmt.Sprintf("%d%d.94.202407010000-0", c.major, c.minor)
	kubeVersion := fmt.Sprintf("1.%d.%d", c.minor+13, 1+choices.IntN(12))

	r := &builtRelease{}
	refs := &release.ImageReferences{
		APIVersion: release.ImageStreamAPIVersion,
		Kind:       release.ImageStreamKind,
		Metadata: release.ObjectMeta{
			Name:        c.Version,
			Annotations: map[string]string{release.AnnotationFromImageStream: fmt.Sprintf("ocp/%d.%d-art-latest", c.major, c.minor)},
		},
	}
	var cvo v1.Image
	for i, comp := range componentNames(c.Components) {
		rng := c.rng(uint64(i) + 1)
		commit := randomHex(rng, 20)
		labels := map[string]string{
			"io.k8s.display-name":            comp,
			release.AnnotationCommitID:       commit,
			release.AnnotationSourceLocation: "https://github.com/openshift/" + comp,
		}
		b := &builtImage{name: comp, index: multi[i]}
		if b.index {
			b.taggable, err = c.multiArchImage(rng, base, comp, labels)
		} else {
			var img v1.Image
			img, err = c.componentImage(rng, base, comp, c.platform, labels)
			if i == 0 {
				cvo = img
			}
			b.taggable = img
		}
		if err != nil {
			return nil, fmt.Errorf("component %s: %w", comp, err)
		}
		if err := c.finish(b, c.compRepo, c.componentTag(comp)); err != nil {
			return nil, err
		}
		b.canonical = canonicalComponent(b.digest)
		r.images = append(r.images, b)

		ann := map[string]string{
			release.AnnotationCommitID:       commit,
			release.AnnotationCommitRef:      "",
			release.AnnotationSourceLocation: "https://github.com/openshift/" + comp,
		}
		switch comp {
		case "hyperkube":
			ann[release.AnnotationVersions] = "kubernetes=" + kubeVersion
			ann[release.AnnotationVersionDisplayNames] = "kubernetes=Kubernetes"
		case "rhel-coreos":
			ann[release.AnnotationVersions] = "machine-os=" + rhcos
			ann[release.AnnotationVersionDisplayNames] = "machine-os=Red Hat Enterprise Linux CoreOS"
		}
		refs.Spec.Tags = append(refs.Spec.Tags, release.TagReference{
			Name:        comp,
			Annotations: ann,
			From:        &release.ObjectReference{Kind: release.FromKindDockerImage, Name: b.canonical},
		})
	}
	cvoDigest := r.images[0].digest.String()
	r.baseImageDigest = cvoDigest

	kv, err := c.kubeVirtImage(rhcos)
	if err != nil {
		return nil, err
	}
	r.images = append(r.images, kv)

	files, err := c.manifests(refs, rhcos, kv.canonical)
	if err != nil {
		return nil, err
	}
	if c.EditManifests != nil {
		if err := c.EditManifests(files); err != nil {
			return nil, fmt.Errorf("editing manifests: %w", err)
		}
	}
	last, err := newLayer(files)
	if err != nil {
		return nil, fmt.Errorf("release manifests layer: %w", err)
	}
	relImg, err := mutate.Append(cvo, mutate.Addendum{
		Layer:   last,
		History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "hcpmirror: release manifests"},
	})
	if err != nil {
		return nil, fmt.Errorf("release image: %w", err)
	}
	relImg, err = setConfig(relImg, c.platform, v1.Config{
		Labels: map[string]string{
			release.LabelRelease:         c.Version,
			release.LabelBaseImageDigest: cvoDigest,
		},
		Entrypoint: []string{"/usr/bin/cluster-version-operator"},
	})
	if err != nil {
		return nil, fmt.Errorf("release image: %w", err)
	}
	rb := &builtImage{name: pushedRelease, taggable: relImg}
	if err := c.finish(rb, c.relRepo, c.releaseTag()); err != nil {
		return nil, err
	}
	rb.canonical = release.CanonicalReleaseRepository + "@" + rb.digest.String()
	r.images = append(r.images, rb)
	return r, nil
}

// finish computes the digest of a built image and the tag it goes to.
func (c *publishConfig) finish(b *builtImage, repo name.Repository, tag string) error {
	if !tagRE.MatchString(tag) {
		return fmt.Errorf("%s: tag %q is not a valid tag (too long or bad characters)", b.name, tag)
	}
	b.tag = repo.Tag(tag)
	d, err := b.taggable.(interface{ Digest() (v1.Hash, error) }).Digest()
	if err != nil {
		return fmt.Errorf("%s: computing digest: %w", b.name, err)
	}
	b.digest = d
	return nil
}

// componentImage is the shared base layer plus one or two random layers.
func (c *publishConfig) componentImage(rng *rand.Rand, base v1.Layer, comp, arch string, labels map[string]string) (v1.Image, error) {
	layers := []v1.Layer{base}
	for k := range 1 + rng.IntN(2) {
		l, err := newLayer(map[string][]byte{
			fmt.Sprintf("usr/share/synthetic/%s/%s-%d.bin", comp, arch, k): randomBytes(rng, c.LayerSize),
		})
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	if comp == mcoComponent {
		l, err := newLayer(mcoFiles(c.Version, arch))
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return newImage(layers, arch, v1.Config{Labels: labels})
}

// multiArchImage is a Docker manifest list of linux/amd64 and linux/arm64
// component images, the shape of a component in a multi payload.
func (c *publishConfig) multiArchImage(rng *rand.Rand, base v1.Layer, comp string, labels map[string]string) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := c.componentImage(rng, base, comp, arch, labels)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		})
	}
	return idx, nil
}

// kubeVirtImage is the KubeVirt boot disk container: a disk file in a layer.
// It lives in the component repository, like every ocp-v4.0-art-dev image.
func (c *publishConfig) kubeVirtImage(rhcos string) (*builtImage, error) {
	rng := c.rng(streamKubeVirt)
	l, err := newLayer(map[string][]byte{"disk/rhcos-kubevirt.qcow2": randomBytes(rng, c.LayerSize)})
	if err != nil {
		return nil, fmt.Errorf("kubevirt image: %w", err)
	}
	img, err := newImage([]v1.Layer{l}, c.platform, v1.Config{Labels: map[string]string{"version": rhcos}})
	if err != nil {
		return nil, fmt.Errorf("kubevirt image: %w", err)
	}
	b := &builtImage{name: pushedKubeVirt, taggable: img}
	if err := c.finish(b, c.compRepo, c.componentTag("kubevirt-container")); err != nil {
		return nil, err
	}
	b.canonical = canonicalComponent(b.digest)
	return b, nil
}

// manifests renders the files of the release image's last layer.
func (c *publishConfig) manifests(refs *release.ImageReferences, rhcos, kubeVirt string) (map[string][]byte, error) {
	checksums := c.rng(streamBootDisk)
	minor := fmt.Sprintf("%d.%d", c.major, c.minor)
	previous := c.Previous
	if previous == nil && !c.prerelease {
		for z := range c.patch {
			previous = append(previous, fmt.Sprintf("%s.%d", minor, z))
		}
	}
	channels := c.Channels
	if channels == nil {
		channels = []string{"candidate-" + minor}
		if !c.prerelease {
			channels = append(channels, "fast-"+minor, "stable-"+minor)
		}
	}
	meta := &release.Metadata{
		Kind:     release.MetadataKind,
		Version:  c.Version,
		Previous: previous,
		Metadata: map[string]string{
			release.MetadataChannelsKey: strings.Join(channels, ","),
			release.MetadataURLKey:      "https://errata.example.com/synthetic/" + c.Version,
		},
	}

	coreosArch := c.Arch
	buildURL := fmt.Sprintf("https://rhcos.example.com/art/storage/prod/streams/%s-9.4/builds/%s/%s/rhcos-%s-", minor, rhcos, coreosArch, rhcos)
	artifact := func(file string) map[string]release.Artifact {
		return map[string]release.Artifact{"disk": {
			Location:           buildURL + file,
			SHA256:             randomHex(checksums, 32),
			UncompressedSHA256: randomHex(checksums, 32),
		}}
	}
	stream := &release.Stream{
		Stream:   "rhcos-" + minor,
		Metadata: release.StreamMetadata{LastModified: created.Format(time.RFC3339), Generator: "hcpmirror synthetic release"},
		Architectures: map[string]release.StreamArch{coreosArch: {
			Artifacts: map[string]release.PlatformArtifacts{
				"qemu":  {Release: rhcos, Formats: map[string]map[string]release.Artifact{"qcow2.gz": artifact("qemu." + coreosArch + ".qcow2.gz")}},
				"metal": {Release: rhcos, Formats: map[string]map[string]release.Artifact{"iso": artifact("live." + coreosArch + ".iso")}},
			},
			Images: release.StreamImages{KubeVirt: &release.ContainerImage{
				Release:   rhcos,
				Image:     release.CanonicalComponentRepository + ":" + rhcos + "-kubevirt",
				DigestRef: kubeVirt,
			}},
		}},
	}
	streamJSON, err := marshalJSON(stream)
	if err != nil {
		return nil, fmt.Errorf("coreos stream: %w", err)
	}
	cm := &release.BootImages{
		APIVersion: "v1",
		Kind:       "ConfigMap",
		Metadata:   release.ObjectMeta{Name: release.BootImagesName, Namespace: release.BootImagesNamespace},
		Data:       release.BootImagesData{ReleaseVersion: c.Version, Stream: string(streamJSON)},
	}

	files := map[string][]byte{}
	for path, v := range map[string]any{release.ImageReferencesFile: refs, release.MetadataFile: meta} {
		b, err := marshalJSON(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files[path] = b
	}
	b, err := marshalYAML(cm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", release.BootImagesFile, err)
	}
	files[release.BootImagesFile] = b
	return files, nil
}

// newLayer makes a gzipped tar layer holding files, in path order, with
// parent directories, fixed times and owners: the same files always give
// the same digest.
func newLayer(files map[string][]byte) (v1.Layer, error) {
	return layer.New(layer.WithParents(files), layer.WithModTime(created))
}

// newImage makes a Docker schema 2 image of layers for linux/arch.
func newImage(layers []v1.Layer, arch string, cfg v1.Config) (v1.Image, error) {
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		adds[i] = mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "hcpmirror: synthetic layer"}}
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		return nil, err
	}
	return setConfig(img, arch, cfg)
}

// setConfig sets the platform, creation time and runtime config of img.
func setConfig(img v1.Image, arch string, cfg v1.Config) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = arch
	cf.Created = v1.Time{Time: created}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

// randomBytes draws n bytes from rng.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// randomHex draws n bytes from rng, hex encoded (2n digits).
func randomHex(rng *rand.Rand, n int) string {
	return hex.EncodeToString(randomBytes(rng, n))
}
