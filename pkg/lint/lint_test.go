package lint

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

const (
	relRepo = "quay.io/openshift-release-dev/ocp-release"
	artRepo = "quay.io/openshift-release-dev/ocp-v4.0-art-dev"
	dgst    = "@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	dgst2   = "@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func entry(src string, mirrors ...string) mirrorset.Entry {
	return mirrorset.Entry{Source: src, Mirrors: mirrors}
}

func ncs(e mirrorset.Entry) mirrorset.Entry {
	e.Policy = mirrorset.NeverContactSource
	return e
}

func set(kind mirrorset.Kind, name string, entries ...mirrorset.Entry) mirrorset.Set {
	return mirrorset.Set{Kind: kind, Name: name, Entries: entries}
}

func idms(name string, entries ...mirrorset.Entry) mirrorset.Set {
	return set(mirrorset.KindIDMS, name, entries...)
}

func itms(name string, entries ...mirrorset.Entry) mirrorset.Set {
	return set(mirrorset.KindITMS, name, entries...)
}

func icsp(name string, entries ...mirrorset.Entry) mirrorset.Set {
	return set(mirrorset.KindICSP, name, entries...)
}

func from(file string, s mirrorset.Set) mirrorset.Set {
	s.Origin = manifest.Origin{File: file, Document: 1}
	return s
}

// releaseSets mirrors both release repositories explicitly, the
// configuration every check should be quiet about.
func releaseSets() []mirrorset.Set {
	return []mirrorset.Set{idms("release",
		entry(relRepo, "mirror.example.com/ocp/release-images"),
		entry(artRepo, "mirror.example.com/ocp/release"),
	)}
}

func with(extra ...mirrorset.Set) []mirrorset.Set { return append(releaseSets(), extra...) }

var pins = map[string]string{
	"hypershift.openshift.io/certified-operators-catalog-image": "mirror.example.com/redhat/certified-operator-index" + dgst,
	"hypershift.openshift.io/community-operators-catalog-image": "mirror.example.com/redhat/community-operator-index" + dgst,
	"hypershift.openshift.io/redhat-marketplace-catalog-image":  "mirror.example.com/redhat/redhat-marketplace-index" + dgst,
	"hypershift.openshift.io/redhat-operators-catalog-image":    "mirror.example.com/redhat/redhat-operator-index" + dgst,
}

func pinsWith(key, value string, drop bool) map[string]string {
	out := map[string]string{}
	for k, v := range pins {
		out[k] = v
	}
	if drop {
		delete(out, key)
	} else {
		out[key] = value
	}
	return out
}

func release(image string, components map[string]string, kubevirt string) *ReleaseImages {
	return &ReleaseImages{ReleaseImage: image, Components: components, KubeVirt: kubevirt}
}

func hc(ann map[string]string, ics ...mirrorset.Entry) Options {
	return Options{HostedClusters: []HostedClusterView{{Name: "hc", Namespace: "clusters", Annotations: ann, ImageContentSources: ics}}}
}

// TestCodes has, for every code, a case that finds it and one that must not.
// want lists "object field" of the findings with that code.
func TestCodes(t *testing.T) {
	const idmsA = `ImageDigestMirrorSet "a"`
	tests := []struct {
		name string
		code string
		sets []mirrorset.Set
		opts Options
		want []string
	}{
		{name: "bad source", code: "HCM001",
			sets: with(idms("a", entry("quay.io/NS", "mirror.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "policy on ICSP", code: "HCM001",
			sets: with(icsp("a", ncs(entry("quay.io/ns", "mirror.example.com/ns")))),
			want: []string{`ImageContentSourcePolicy "a" spec.repositoryDigestMirrors[0].mirrorSourcePolicy`}},
		{name: "good source", code: "HCM001",
			sets: with(idms("a", entry("quay.io/ns", "mirror.example.com/ns")))},

		{name: "bad mirror", code: "HCM002",
			sets: with(idms("a", entry("quay.io/ns", "mirror.example.com/ns", "https://mirror.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[1]"}},
		{name: "good mirror", code: "HCM002",
			sets: with(idms("a", entry("quay.io/ns", "mirror.example.com:5000/ns"))),
		},

		{name: "policy conflict", code: "HCM003",
			sets: with(idms("a", ncs(entry("quay.io/ns", "m1.example.com/ns"))), idms("b", entry("quay.io/ns", "m2.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrorSourcePolicy"}},
		{name: "same policy", code: "HCM003",
			sets: with(idms("a", ncs(entry("quay.io/ns", "m1.example.com/ns"))), itms("b", ncs(entry("quay.io/ns", "m2.example.com/ns"))))},
		{name: "different source strings", code: "HCM003",
			sets: with(idms("a", ncs(entry("quay.io", "m1.example.com"))), idms("b", entry("quay.io/ns", "m2.example.com/ns")))},

		{name: "NCS with source as mirror", code: "HCM004",
			sets: with(idms("a", ncs(entry("quay.io/ns", "mirror.example.com/ns", "quay.io/ns")))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors"}},
		{name: "NCS without source as mirror", code: "HCM004",
			sets: with(idms("a", ncs(entry("quay.io/ns", "mirror.example.com/ns"))))},

		{name: "NCS without mirrors", code: "HCM005",
			sets: with(idms("a", ncs(entry("quay.io/ns")))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrorSourcePolicy"}},
		{name: "NCS with only the source", code: "HCM005",
			sets: with(idms("a", ncs(entry("quay.io/ns", "quay.io/ns")))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrorSourcePolicy"}},
		{name: "NCS with mirrors", code: "HCM005",
			sets: with(idms("a", ncs(entry("quay.io/ns", "mirror.example.com/ns"))))},

		{name: "single-label mirror host", code: "HCM006",
			sets: with(idms("a", entry("quay.io/ns", "mirror.example.com/ns", "registry/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[1]"}},
		{name: "mirror hosts with dot, port or localhost", code: "HCM006",
			sets: with(idms("a", entry("quay.io/ns", "registry.local/ns", "registry:5000/ns", "localhost/ns")))},

		{name: "repository to bare host", code: "HCM007",
			sets: with(idms("a", entry("quay.io/ns/repo", "mirror.example.com"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[0]"}},
		{name: "namespace to bare host", code: "HCM007",
			sets: with(idms("a", entry("quay.io/ns", "mirror.example.com")))},

		{name: "release repositories only under quay.io", code: "HCM008",
			sets: []mirrorset.Set{idms("a", entry("quay.io", "mirror.example.com/quay"))},
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "release repositories only under the namespace", code: "HCM008",
			sets: []mirrorset.Set{idms("a", entry("quay.io/openshift-release-dev", "mirror.example.com/ocp"))},
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "one release repository explicit", code: "HCM008",
			sets: []mirrorset.Set{idms("a", entry("quay.io", "mirror.example.com/quay"), entry(artRepo, "mirror.example.com/ocp/release"))},
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "explicit release entries beside a root entry", code: "HCM008",
			sets: with(idms("a", entry("quay.io", "mirror.example.com/quay")))},

		{name: "payload repository uncovered", code: "HCM009",
			sets: []mirrorset.Set{idms("a", entry(relRepo, "mirror.example.com/ocp/release-images"))},
			opts: Options{Release: release(relRepo+dgst, map[string]string{"cli": artRepo + dgst, "etcd": artRepo + dgst2}, "")},
			want: []string{"release " + relRepo + dgst + " components[cli]"}},
		{name: "payload repository with tag mirrors only", code: "HCM009",
			sets: []mirrorset.Set{idms("a", entry(relRepo, "mirror.example.com/ocp/release-images")), itms("b", entry(artRepo, "mirror.example.com/ocp/release"))},
			opts: Options{Release: release(relRepo+dgst, map[string]string{"cli": artRepo + dgst}, "")},
			want: []string{"release " + relRepo + dgst + " components[cli]"}},
		{name: "payload covered", code: "HCM009",
			sets: releaseSets(),
			opts: Options{Release: release(relRepo+dgst, map[string]string{"cli": artRepo + dgst}, "")}},

		{name: "host-only source, mirror with path", code: "HCM010",
			sets: with(idms("a", entry("registry.example.com", "mirror.example.com/q"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[0]"}},
		{name: "wildcard source, mirror with path", code: "HCM010",
			sets: with(idms("a", entry("*.example.com", "mirror.example.org/q"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[0]"}},
		{name: "host-only source, bare mirror host; source with port", code: "HCM010",
			sets: with(idms("a", entry("registry.example.com", "mirror.example.com"), entry("registry.example.com:443", "mirror.example.com/q")))},

		{name: "wildcard source", code: "HCM011",
			sets: with(idms("a", entry("*.redhat.io", "mirror.example.com"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "explicit host", code: "HCM011",
			sets: with(idms("a", entry("registry.redhat.io", "mirror.example.com")))},

		{name: "longer source hides mirrors", code: "HCM012",
			sets: with(idms("a", entry("registry.example.com", "mirror.example.com/r"), entry("registry.example.com/ns", "other.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[1].source"}},
		{name: "longer source escapes NCS", code: "HCM012",
			sets: with(idms("a", ncs(entry("registry.example.com", "mirror.example.com")), entry("registry.example.com/ns", "mirror.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[1].source"}},
		{name: "longer source under a wildcard", code: "HCM012",
			sets: with(idms("a", entry("*.example.com", "mirror.example.org"), entry("registry.example.com/ns", "other.example.org/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[1].source"}},
		{name: "wildcard under a wildcard", code: "HCM012",
			sets: with(idms("a", entry("*.example.com", "mirror.example.org"), entry("*.sub.example.com", "other.example.org"))),
			want: []string{idmsA + " spec.imageDigestMirrors[1].source"}},
		{name: "longer source repeats the mirrors", code: "HCM012",
			sets: with(idms("a", entry("registry.example.com", "mirror.example.com/r"), entry("registry.example.com/ns", "other.example.com/ns", "mirror.example.com/r/ns")))},

		{name: "conflicting orders", code: "HCM013",
			sets: with(idms("a", entry("registry.example.com/ns", "a.example.com/ns", "b.example.com/ns")), idms("b", entry("registry.example.com/ns", "b.example.com/ns", "a.example.com/ns"))),
			want: []string{`ImageDigestMirrorSet "b" spec.imageDigestMirrors[0].mirrors`}},
		{name: "source moved ahead", code: "HCM013",
			sets: with(idms("a", entry("registry.example.com/ns", "registry.example.com/ns", "a.example.com/ns")), idms("b", entry("registry.example.com/ns", "a.example.com/ns"))),
			want: []string{`ImageDigestMirrorSet "b" spec.imageDigestMirrors[0].mirrors`}},
		{name: "compatible orders; digest and tag groups apart", code: "HCM013",
			sets: with(idms("a", entry("registry.example.com/ns", "a.example.com/ns", "b.example.com/ns")), idms("b", entry("registry.example.com/ns", "b.example.com/ns", "c.example.com/ns")),
				itms("c", entry("registry.example.com/ns", "b.example.com/ns", "a.example.com/ns")))},

		{name: "source among its mirrors", code: "HCM014",
			sets: with(idms("a", entry("registry.example.com/ns", "registry.example.com/ns", "mirror.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[0]"}},
		{name: "source not among its mirrors", code: "HCM014",
			sets: with(idms("a", entry("registry.example.com/ns", "mirror.example.com/ns")))},

		{name: "ICSP duplicate mirror", code: "HCM015",
			sets: with(icsp("a", entry("registry.example.com/ns", "mirror.example.com/ns", "mirror.example.com/ns"))),
			want: []string{`ImageContentSourcePolicy "a" spec.repositoryDigestMirrors[0].mirrors[1]`}},
		{name: "IDMS duplicate mirror", code: "HCM015",
			sets: with(idms("a", entry("registry.example.com/ns", "mirror.example.com/ns", "mirror.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[1]"}},
		{name: "duplicate entry", code: "HCM015",
			sets: with(icsp("a", entry("registry.example.com/ns", "mirror.example.com/ns")), icsp("b", entry("registry.example.com/ns", "mirror.example.com/ns"))),
			want: []string{`ImageContentSourcePolicy "b" spec.repositoryDigestMirrors[0]`}},
		{name: "same object from two oc-mirror runs", code: "HCM015",
			sets: with(
				from("ws/results-1/icsp.yaml", icsp("generic-0", entry("registry.example.com/ns", "mirror.example.com/ns"))),
				from("ws/results-2/icsp.yaml", icsp("generic-0", entry("registry.example.com/ns", "mirror.example.com/ns"))),
			)},
		{name: "same source in IDMS and ITMS", code: "HCM015",
			sets: with(idms("a", entry("registry.example.com/ns", "mirror.example.com/ns")), itms("b", entry("registry.example.com/ns", "mirror.example.com/ns")))},

		{name: "equal-length wildcard and host", code: "HCM016",
			sets: with(idms("a", entry("*.example.com", "w.example.org"), entry("r.example.com", "r.example.org"))),
			want: []string{idmsA + " spec.imageDigestMirrors[1].source"}},
		{name: "longer host beats wildcard", code: "HCM016",
			sets: with(idms("a", entry("*.example.com", "w.example.org"), entry("rr.example.com", "r.example.org")))},

		{name: "release image by tag, digest mirrors only", code: "HCM017",
			sets: releaseSets(),
			opts: Options{Release: release(relRepo+":4.16.3-x86_64", map[string]string{"cli": artRepo + dgst}, "")},
			want: []string{"release " + relRepo + ":4.16.3-x86_64 image"}},
		{name: "release image by tag with tag mirrors", code: "HCM017",
			sets: with(itms("tags", entry(relRepo, "mirror.example.com/ocp/release-images"))),
			opts: Options{Release: release(relRepo+":4.16.3-x86_64", map[string]string{"cli": artRepo + dgst}, "")}},

		{name: "NCS with digest mirrors only", code: "HCM018",
			sets: with(idms("a", ncs(entry("registry.example.com/ns", "mirror.example.com/ns")))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrorSourcePolicy"}},
		{name: "NCS with tag mirrors; component repository", code: "HCM018",
			sets: []mirrorset.Set{
				idms("a", ncs(entry("registry.example.com/ns", "mirror.example.com/ns")), entry(relRepo, "mirror.example.com/ocp/release-images"), ncs(entry(artRepo, "mirror.example.com/ocp/release"))),
				itms("b", ncs(entry("registry.example.com/ns", "mirror.example.com/ns"))),
			}},

		{name: "mirror in a blocked scope", code: "HCM019",
			sets: with(idms("a", ncs(entry("registry.example.com", "mirror.example.com")), entry("other.example.com/x", "registry.example.com/mirrors/x"))),
			want: []string{idmsA + " spec.imageDigestMirrors[1].mirrors[0]"}},
		{name: "mirror in an allowed scope", code: "HCM019",
			sets: with(idms("a", entry("registry.example.com", "mirror.example.com"), entry("other.example.com/x", "registry.example.com/mirrors/x")))},

		{name: "docker.io one component", code: "HCM020",
			sets: with(idms("a", entry("docker.io/busybox", "mirror.example.com/busybox"), entry("index.docker.io/library/busybox", "mirror.example.com/busybox"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].source", idmsA + " spec.imageDigestMirrors[1].source"}},
		{name: "docker.io normalised", code: "HCM020",
			sets: with(idms("a", entry("docker.io/library/busybox", "mirror.example.com/busybox"), entry("docker.io/library", "mirror.example.com/library"), entry("docker.io", "mirror.example.com")))},

		{name: "uppercase host", code: "HCM021",
			sets: with(idms("a", entry("Registry.Example.com/ns", "mirror.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "lowercase host", code: "HCM021",
			sets: with(idms("a", entry("registry.example.com/ns", "Mirror.example.com/ns")))},

		{name: "root source with port", code: "HCM022",
			sets: with(idms("a", entry("myreg.example.com:5000", "mirror.example.com"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "one-component mirror for a repository", code: "HCM022",
			sets: []mirrorset.Set{idms("a", entry(relRepo, "registry.local:5000/ocp-release"), entry(artRepo, "registry.local:5000/ocp/art"))},
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[0]"}},
		{name: "multi-level namespace", code: "HCM022",
			sets: with(idms("a", entry("registry.example.com/a/b", "mirror.example.com/a/b"), entry("registry.example.com/a/b/c/d", "mirror.example.com/a/b/c/d"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "multi-level namespace holding a release image", code: "HCM022",
			sets: with(idms("a", entry("registry.example.com/a/b", "mirror.example.com/a/b"))),
			opts: Options{Release: release(relRepo+dgst, map[string]string{"tool": "registry.example.com/a/b/tool" + dgst}, "")},
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "repository entries", code: "HCM022",
			sets: with(idms("a", entry("registry.example.com/ns", "mirror.example.com"), entry("registry.example.com:5000/ns", "mirror.example.com/x/ns")))},

		{name: "single-label source host", code: "HCM023",
			sets: with(idms("a", entry("registry/ns", "mirror.example.com/ns"))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "localhost and port sources", code: "HCM023",
			sets: with(idms("a", entry("localhost/ns", "mirror.example.com/ns"), entry("registry:5000/ns", "mirror.example.com/ns2")))},

		{name: "ICSP", code: "HCM024",
			sets: with(icsp("a", entry("registry.example.com/ns", "mirror.example.com/ns"))),
			want: []string{`ImageContentSourcePolicy "a" `}},
		{name: "no ICSP", code: "HCM024", sets: releaseSets()},

		{name: "partial pins", code: "HCM026",
			sets: releaseSets(),
			opts: hc(pinsWith("hypershift.openshift.io/redhat-marketplace-catalog-image", "", true)),
			want: []string{`HostedCluster "clusters/hc" metadata.annotations[hypershift.openshift.io/redhat-marketplace-catalog-image]`}},
		{name: "pin by tag and bad digest", code: "HCM026",
			sets: releaseSets(),
			opts: hc(pinsWith("hypershift.openshift.io/redhat-operators-catalog-image", "mirror.example.com/redhat/redhat-operator-index:v4.16", false)),
			want: []string{`HostedCluster "clusters/hc" metadata.annotations[hypershift.openshift.io/redhat-operators-catalog-image]`}},
		{name: "pin with short digest", code: "HCM026",
			sets: releaseSets(),
			opts: hc(pinsWith("hypershift.openshift.io/certified-operators-catalog-image", "mirror.example.com/x@sha256:123456", false)),
			want: []string{`HostedCluster "clusters/hc" metadata.annotations[hypershift.openshift.io/certified-operators-catalog-image]`}},
		{name: "all pins; no pins", code: "HCM026",
			sets: releaseSets(),
			opts: Options{HostedClusters: []HostedClusterView{{Name: "a", Annotations: pins}, {Name: "b", Annotations: map[string]string{"x": "y"}}}}},

		{name: "override key matching nothing", code: "HCM027",
			sets: releaseSets(),
			opts: hc(map[string]string{CatalogOverridesAnnotation: "quay.io=mirror.example.com,registry.redhat.io/redhat/=m.example.com"}),
			want: []string{
				`HostedCluster "clusters/hc" metadata.annotations[hypershift.openshift.io/olm-catalogs-is-registry-overrides]`,
				`HostedCluster "clusters/hc" metadata.annotations[hypershift.openshift.io/olm-catalogs-is-registry-overrides]`,
			}},
		{name: "override key shadowed; HEAD's bare-registry rule", code: "HCM027",
			sets: releaseSets(),
			opts: hc(map[string]string{CatalogOverridesAnnotation: "registry.redhat.io=c.example.com/x,registry.redhat.io/redhat=c.example.com/y"}),
			want: []string{
				`HostedCluster "clusters/hc" metadata.annotations[hypershift.openshift.io/olm-catalogs-is-registry-overrides]`,
				`HostedCluster "clusters/hc" metadata.annotations[hypershift.openshift.io/olm-catalogs-is-registry-overrides]`,
			}},
		{name: "override keys in use", code: "HCM027",
			sets: releaseSets(),
			opts: Options{HostedClusters: []HostedClusterView{
				{Name: "a", Annotations: map[string]string{CatalogOverridesAnnotation: "registry.redhat.io/redhat=c.example.com/x,registry.redhat.io/redhat/redhat-operator-index=c.example.com/y/redhat-operator-index"}},
				{Name: "b", Annotations: map[string]string{CatalogOverridesAnnotation: "registry.redhat.io=c.example.com,registry.redhat.io=d.example.com"}},
				{Name: "c", Annotations: map[string]string{CatalogOverridesAnnotation: "*.redhat.io=c.example.com"}},
			}}},

		{name: "imageContentSources disagree", code: "HCM028",
			sets: releaseSets(),
			opts: hc(nil, entry(relRepo, "guest.example.com/ocp/release-images"), entry(artRepo, "mirror.example.com/ocp/release")),
			want: []string{`HostedCluster "clusters/hc" spec.imageContentSources[0]`}},
		{name: "imageContentSources missing", code: "HCM028",
			sets: releaseSets(),
			opts: hc(nil),
			want: []string{`HostedCluster "clusters/hc" spec.imageContentSources`, `HostedCluster "clusters/hc" spec.imageContentSources`}},
		{name: "imageContentSources break the pull", code: "HCM028",
			sets: releaseSets(),
			opts: hc(nil, entry(relRepo, "mirror.example.com"), entry(artRepo, "mirror.example.com/ocp/release")),
			want: []string{`HostedCluster "clusters/hc" spec.imageContentSources[0]`}},
		{name: "imageContentSources agree", code: "HCM028",
			sets: releaseSets(),
			opts: hc(nil, entry(relRepo, "mirror.example.com/ocp/release-images"), entry(artRepo, "mirror.example.com/ocp/release"))},
		// NeverContactSource on the management side cannot be said in
		// imageContentSources: what sync-ics derives must not be flagged.
		{name: "imageContentSources agree with blocked management sources", code: "HCM028",
			sets: []mirrorset.Set{{Kind: mirrorset.KindIDMS, Name: "release", Entries: []mirrorset.Entry{
				{Source: relRepo, Mirrors: []string{"mirror.example.com/ocp/release-images"}, Policy: mirrorset.NeverContactSource},
				{Source: artRepo, Mirrors: []string{"mirror.example.com/ocp/release"}, Policy: mirrorset.NeverContactSource},
			}}},
			opts: hc(nil, entry(relRepo, "mirror.example.com/ocp/release-images"), entry(artRepo, "mirror.example.com/ocp/release"))},

		{name: "oc-mirror runs", code: "HCM029",
			sets: []mirrorset.Set{
				from("ws/results-1700000200/imageContentSourcePolicy.yaml", icsp("release-0", entry(artRepo, "mirror.example.com/openshift/release"))),
				from("ws/results-1700000100/imageContentSourcePolicy.yaml", icsp("release-0", entry(relRepo, "mirror.example.com/openshift/release-images"), entry(artRepo, "mirror.example.com/openshift/release"))),
			},
			want: []string{`ws/results-1700000100/imageContentSourcePolicy.yaml: document 1: ImageContentSourcePolicy "release-0" `}},
		{name: "split file", code: "HCM029",
			sets: with(
				from("r/icsp.yaml", icsp("operator-0", entry("registry.redhat.io/a", "mirror.example.com/a"))),
				mirrorset.Set{Kind: mirrorset.KindICSP, Name: "operator-0", Origin: manifest.Origin{File: "r/icsp.yaml", Document: 2}, Entries: []mirrorset.Entry{entry("registry.redhat.io/b", "mirror.example.com/b")}},
			),
			want: []string{`r/icsp.yaml: document 1: ImageContentSourcePolicy "operator-0" `}},
		{name: "oc-mirror runs, nothing lost; other names", code: "HCM029",
			sets: []mirrorset.Set{
				from("ws/results-1/icsp.yaml", icsp("release-0", entry(artRepo, "mirror.example.com/openshift/release"))),
				from("ws/results-2/icsp.yaml", icsp("release-0", entry(relRepo, "mirror.example.com/openshift/release-images"), entry(artRepo, "mirror.example.com/openshift/release"))),
				from("ws/results-1/other.yaml", icsp("my-icsp", entry("registry.redhat.io/a", "mirror.example.com/a"))),
				from("ws/results-2/other.yaml", icsp("my-icsp", entry("registry.redhat.io/b", "mirror.example.com/b"))),
			}},

		{name: "KubeVirt not mirrored", code: "HCM030",
			sets: releaseSets(),
			opts: Options{Release: release(relRepo+dgst, nil, "quay.io/openshift-release-dev/ocp-v4.0-art-dev-kubevirt"+dgst)},
			want: []string{"release " + relRepo + dgst + " kubevirt"}},
		{name: "KubeVirt mirrored", code: "HCM030",
			sets: releaseSets(),
			opts: Options{Release: release(relRepo+dgst, nil, artRepo+dgst)}},

		{name: "only the release repository", code: "HCM031",
			sets: []mirrorset.Set{idms("a", entry(relRepo, "mirror.example.com/ocp/release-images"))},
			want: []string{idmsA + " spec.imageDigestMirrors[0].source"}},
		{name: "only the component repository", code: "HCM031",
			sets: []mirrorset.Set{idms("a", entry("registry.example.com/ns", "mirror.example.com/ns"), entry(artRepo, "mirror.example.com/ocp/release"))},
			want: []string{idmsA + " spec.imageDigestMirrors[1].source"}},
		{name: "only the component repository in imageContentSources", code: "HCM031",
			sets: releaseSets(),
			opts: hc(nil, entry(artRepo, "mirror.example.com/ocp/release")),
			want: []string{`HostedCluster "clusters/hc" spec.imageContentSources[0].source`}},
		{name: "both or neither repository", code: "HCM031",
			sets: with(idms("a", entry("registry.example.com/ns", "mirror.example.com/ns")))},
		{name: "neither repository", code: "HCM031",
			sets: []mirrorset.Set{idms("a", entry("registry.example.com/ns", "mirror.example.com/ns"))}},

		{name: "ICSP named in a policy conflict: its entry, which has no mirrorSourcePolicy", code: "HCM003",
			sets: with(icsp("a", entry("quay.io/ns", "m1.example.com/ns")), idms("b", ncs(entry("quay.io/ns", "m2.example.com/ns")))),
			want: []string{`ImageContentSourcePolicy "a" spec.repositoryDigestMirrors[0]`}},

		{name: "same kind and name in two files", code: "HCM033",
			sets: with(from("a.yaml", idms("x", entry("quay.io/a", "m.example.com/a"))), from("b.yaml", idms("x", entry("quay.io/b", "m.example.com/b")))),
			want: []string{`a.yaml: document 1: ImageDigestMirrorSet "x" `}},
		{name: "same name, other kind", code: "HCM033",
			sets: with(from("a.yaml", idms("x", entry("quay.io/a", "m.example.com/a"))), from("b.yaml", itms("x", entry("quay.io/b", "m.example.com/b"))))},
		{name: "oc-mirror's reused names are HCM029's", code: "HCM033",
			sets: with(from("results-1/a.yaml", icsp("release-0", entry("quay.io/a", "m.example.com/a"))), from("results-2/a.yaml", icsp("release-0", entry("quay.io/b", "m.example.com/b"))))},

		{name: "no name", code: "HCM034",
			sets: with(idms("", entry("quay.io/a", "m.example.com/a"))),
			want: []string{`ImageDigestMirrorSet "" metadata.name`}},
		{name: "name too long", code: "HCM034",
			sets: with(idms(strings.Repeat("a", 254), entry("quay.io/a", "m.example.com/a"))),
			want: []string{`ImageDigestMirrorSet "` + strings.Repeat("a", 254) + `" metadata.name`}},
		{name: "name not a DNS subdomain", code: "HCM034",
			sets: with(idms("Mirrors_1", entry("quay.io/a", "m.example.com/a"))),
			want: []string{`ImageDigestMirrorSet "Mirrors_1" metadata.name`}},
		{name: "name of 253 characters", code: "HCM034",
			sets: with(idms(strings.Repeat("a", 253), entry("quay.io/a", "m.example.com/a")))},

		{name: "mirror over the name limit", code: "HCM035",
			sets: with(idms("a", entry("quay.io/a", "m.example.com/"+strings.Repeat("a", 242)))),
			want: []string{idmsA + " spec.imageDigestMirrors[0].mirrors[0]"}},
		{name: "release image rewritten over the name limit", code: "HCM035",
			sets: []mirrorset.Set{idms("a",
				entry(relRepo, "mirror.example.com/ocp/release-images"),
				entry("quay.io/openshift-release-dev", "m.example.com/"+strings.Repeat("a", 230)))},
			opts: Options{Release: release(relRepo+dgst, map[string]string{"x": "quay.io/openshift-release-dev/ocp-v4.0-art-dev" + dgst}, "")},
			want: []string{idmsA + " spec.imageDigestMirrors[1].mirrors[0]"}},
		{name: "mirror at the name limit", code: "HCM035",
			sets: with(idms("a", entry("quay.io/a", "m.example.com/"+strings.Repeat("a", 241))))},
	}
	seen := map[string][2]bool{}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.name, func(t *testing.T) {
			findings := Lint(tt.sets, tt.opts)
			var got []string
			for _, f := range findings {
				if f.Code == tt.code {
					got = append(got, f.Object+" "+f.Field)
					if f.Message == "" || f.Fix == "" {
						t.Errorf("finding without message or fix: %+v", f)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lint() %s findings (-want +got):\n%s\nall findings:\n%s", tt.code, diff, dump(findings))
			}
		})
		s := seen[tt.code]
		if len(tt.want) == 0 {
			s[1] = true
		} else {
			s[0] = true
		}
		seen[tt.code] = s
	}
	for code := range catalogue {
		switch code {
		case "HCM025", "HCM036":
			continue // override strings: TestLintOverrides, TestCompareOverrides
		case CodeInput:
			continue // TestInputFindings
		}
		if s := seen[code]; !s[0] || !s[1] {
			t.Errorf("%s: want a positive and a negative case, have positive=%t negative=%t", code, s[0], s[1])
		}
	}
}

func dump(findings []Finding) string {
	var b strings.Builder
	for _, f := range findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSeverities(t *testing.T) {
	sets := with(
		idms("a", entry("registry.example.com/ns", "mirror.example.com/ns", "mirror.example.com/ns")),
		icsp("b", entry("registry.example.com/other", "mirror.example.com/other", "mirror.example.com/other")),
	)
	got := map[string]Severity{}
	for _, f := range Lint(sets, Options{}) {
		got[f.Object+" "+f.Code] = f.Severity
	}
	want := map[string]Severity{
		`ImageDigestMirrorSet "a" HCM015`:     Error, // the API server rejects it
		`ImageContentSourcePolicy "b" HCM015`: Info,
		`ImageContentSourcePolicy "b" HCM024`: Info,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("severities (-want +got):\n%s", diff)
	}
	for code, r := range catalogue {
		f := newFinding(code, "o", "f", "m")
		if f.Severity != r.severity || f.Fix == "" {
			t.Errorf("newFinding(%s) = %+v", code, f)
		}
	}
	for code, sev := range map[string]Severity{"HCM001": Error, "HCM005": Warning, "HCM006": Error, "HCM009": Error, "HCM015": Info, "HCM024": Info, "HCM025": Error, "HCM026": Error, "HCM031": Error, "HCM030": Warning} {
		if catalogue[code].severity != sev {
			t.Errorf("catalogue[%s].severity = %v, want %v", code, catalogue[code].severity, sev)
		}
	}
}

// TestInvalidSetsStillLinted checks that validation errors do not hide the
// other findings, and that broken entries are left out of matching.
func TestInvalidSetsStillLinted(t *testing.T) {
	sets := []mirrorset.Set{
		idms("a",
			entry("quay.io/openshift-release-dev/ocp-release/", "mirror.example.com/ocp"), // HCM001: trailing slash
			entry(artRepo, "registry/ocp"), // HCM006
		),
		idms("b", ncs(entry("registry.example.com/ns", "m1.example.com/ns"))),
		idms("c", entry("registry.example.com/ns", "m2.example.com/ns")), // HCM003 with b
	}
	var got []string
	for _, f := range Lint(sets, Options{}) {
		got = append(got, f.Code+" "+f.Object+" "+f.Field)
	}
	want := []string{
		`HCM001 ImageDigestMirrorSet "a" spec.imageDigestMirrors[0].source`,
		// The broken entry is not used for matching: only the component
		// repository is covered.
		`HCM031 ImageDigestMirrorSet "a" spec.imageDigestMirrors[1].source`,
		`HCM006 ImageDigestMirrorSet "a" spec.imageDigestMirrors[1].mirrors[0]`,
		`HCM022 ImageDigestMirrorSet "a" spec.imageDigestMirrors[1].mirrors[0]`,
		`HCM003 ImageDigestMirrorSet "b" spec.imageDigestMirrors[0].mirrorSourcePolicy`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lint() (-want +got):\n%s", diff)
	}
}

func TestOrder(t *testing.T) {
	sets := with(
		icsp("z", entry("registry/ns", "mirror/ns")),
		idms("a", entry("Registry.example.com/ns", "m.example.com/ns")),
	)
	var got []string
	for _, f := range Lint(sets, Options{Release: release(relRepo+":4.16.0-x86_64", nil, ""), HostedClusters: []HostedClusterView{{Name: "h", Annotations: map[string]string{"hypershift.openshift.io/redhat-operators-catalog-image": "x"}}}}) {
		got = append(got, f.Code+" "+f.Field)
	}
	want := []string{
		"HCM024 ",
		"HCM023 spec.repositoryDigestMirrors[0].source",
		"HCM006 spec.repositoryDigestMirrors[0].mirrors[0]",
		"HCM021 spec.imageDigestMirrors[0].source",
		"HCM017 image",
		"HCM026 metadata.annotations[hypershift.openshift.io/certified-operators-catalog-image]",
		"HCM026 metadata.annotations[hypershift.openshift.io/community-operators-catalog-image]",
		"HCM026 metadata.annotations[hypershift.openshift.io/redhat-marketplace-catalog-image]",
		"HCM026 metadata.annotations[hypershift.openshift.io/redhat-operators-catalog-image]",
		"HCM028 spec.imageContentSources",
		"HCM028 spec.imageContentSources",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lint() order (-want +got):\n%s", diff)
	}
}

func TestLintOverrides(t *testing.T) {
	tests := []struct {
		name      string
		flag, env string
		want      []string // code object
	}{
		{name: "clean", flag: "quay.io=mirror.example.com,registry.redhat.io=mirror.example.com/rh", env: "quay.io=m1.example.com,quay.io=m2.example.com"},
		{name: "no overrides", flag: "=", env: "="},
		{name: "not given", flag: "", env: ""},
		{name: "trailing comma with two pairs", flag: "a.io=b.io,c.io=d.io,", want: []string{"HCM025 --registry-overrides"}},
		{name: "whitespace", flag: "a.io = b.io", want: []string{"HCM025 --registry-overrides", "HCM025 --registry-overrides"}},
		{name: "duplicate flag key", flag: "a.io=b.io,a.io=c.io", want: []string{"HCM015 --registry-overrides"}},
		{name: "skipped env piece", env: "quay.io,quay.io=m.example.com", want: []string{"HCM025 OPENSHIFT_IMG_OVERRIDES"}},
		{name: "duplicate env mirror", env: "quay.io=m.example.com,quay.io=m.example.com", want: []string{"HCM015 OPENSHIFT_IMG_OVERRIDES"}},
		{name: "both", flag: "x", env: "=b", want: []string{"HCM025 --registry-overrides", "HCM025 OPENSHIFT_IMG_OVERRIDES"}},
		{name: "the help's example: one pair keeps its trailing comma", flag: "quay.io=mirror.example.com,", want: []string{"HCM002 --registry-overrides"}},
		{name: "scheme in a replacement", flag: "quay.io=https://mirror.example.com", env: "quay.io=https://mirror.example.com", want: []string{"HCM002 --registry-overrides", "HCM002 OPENSHIFT_IMG_OVERRIDES"}},
		{name: "digest in a source", flag: "quay.io/a@sha256:" + strings.Repeat("a", 64) + "=m.example.com/a", want: []string{"HCM001 --registry-overrides"}},
		{name: "uppercase path", flag: "quay.io/NS=m.example.com/ns,quay.io/ns=m.example.com/NS", want: []string{"HCM001 --registry-overrides", "HCM002 --registry-overrides"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var findings []Finding
			if tt.flag != "" {
				findings = append(findings, LintFlag(tt.flag)...)
			}
			if tt.env != "" {
				findings = append(findings, LintEnv(tt.env)...)
			}
			for _, f := range findings {
				got = append(got, f.Code+" "+f.Object)
				if want := catalogue[f.Code].severity; f.Severity != want {
					t.Errorf("%s severity = %v, want %v", f.Code, f.Severity, want)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LintFlag(%q), LintEnv(%q) (-want +got):\n%s", tt.flag, tt.env, diff)
			}
		})
	}
	if got := LintFlag(""); len(got) != 1 || got[0].Code != "HCM025" {
		t.Errorf("LintFlag(\"\") = %v, want one HCM025", got)
	}
}

func TestFindingJSON(t *testing.T) {
	f := newFinding("HCM006", `ImageDigestMirrorSet "a"`, "spec.imageDigestMirrors[0].mirrors[0]", "m")
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":"HCM006","severity":"error","object":"ImageDigestMirrorSet \"a\"","field":"spec.imageDigestMirrors[0].mirrors[0]","message":"m","fix":"use the mirror's fully qualified host name, or host:port"}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
	var back Finding
	if err := json.Unmarshal(b, &back); err != nil || !cmp.Equal(back, f) {
		t.Errorf("json.Unmarshal = %+v, %v; want %+v", back, err, f)
	}
}

func TestSeverityText(t *testing.T) {
	for _, s := range []Severity{Info, Warning, Error} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, s)
		}
	}
	if _, err := Severity(7).MarshalText(); err == nil {
		t.Error("MarshalText(7) did not fail")
	}
	var s Severity
	if err := s.UnmarshalText([]byte("fatal")); err == nil {
		t.Error("UnmarshalText(fatal) did not fail")
	}
}

func TestCount(t *testing.T) {
	fs := []Finding{{Severity: Error}, {Severity: Warning}, {Severity: Warning}, {Severity: Info}}
	if e, w, i := Count(fs); e != 1 || w != 2 || i != 1 {
		t.Errorf("Count = %d, %d, %d; want 1, 2, 1", e, w, i)
	}
	if !HasErrors(fs) || HasErrors(fs[1:]) {
		t.Error("HasErrors wrong")
	}
}

func TestCompareOverrides(t *testing.T) {
	cfg, err := mirrorset.Compile([]mirrorset.Set{idms("a",
		entry("quay.io/a", "m1.example.com/a", "m2.example.com/a"),
		entry("quay.io/b", "m1.example.com/b"))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, flag, env string
		want            int
	}{
		{name: "what the sets say", flag: "quay.io/a=m1.example.com/a,quay.io/b=m1.example.com/b", env: "quay.io/a=m1.example.com/a,quay.io/a=m2.example.com/a,quay.io/b=m1.example.com/b"},
		{name: "missing, different and extra", flag: "quay.io/a=m2.example.com/a,quay.io/c=m.example.com/c", env: "quay.io/a=m2.example.com/a,quay.io/a=m1.example.com/a,quay.io/c=m.example.com/c", want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, got := range [][]Finding{CompareFlag(cfg, tt.flag), CompareEnv(cfg, tt.env)} {
				if len(got) != tt.want {
					t.Errorf("got %d findings, want %d:\n%s", len(got), tt.want, dump(got))
				}
				for _, f := range got {
					if f.Code != CodeOverridesDisagree {
						t.Errorf("finding %v, want code %s", f, CodeOverridesDisagree)
					}
				}
			}
		})
	}
}

func TestInputFindings(t *testing.T) {
	err := errors.Join(errors.New("sets/a.yaml: no such file or directory"),
		errors.Join(errors.New("sets/b.yaml: document 1: line 4: tabs are not allowed in YAML indentation")))
	got := InputFindings([]string{"sets"}, 3, err)
	var lines []string
	for _, f := range got {
		lines = append(lines, f.String())
	}
	want := []string{
		"error HCM032 sets/a.yaml: no such file or directory",
		"error HCM032 sets/b.yaml: document 1: line 4: tabs are not allowed in YAML indentation",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("InputFindings (-want +got):\n%s", diff)
	}
	if got := InputFindings([]string{"empty.yaml"}, 0, nil); len(got) != 1 || !HasErrors(got) || !strings.Contains(got[0].Message, "no mirror sets found in the inputs") {
		t.Errorf("InputFindings(nothing found) = %v, want one error: no mirror sets found", got)
	}
	if got := InputFindings([]string{"ok.yaml"}, 1, nil); got != nil {
		t.Errorf("InputFindings(clean) = %v, want none", got)
	}
}
