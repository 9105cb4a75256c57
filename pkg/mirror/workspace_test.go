package mirror

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/ocmirror"
)

func testRecords() []Record {
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	return []Record{
		{Image: Image{Source: "quay.io/openshift-release-dev/ocp-release@" + d("a"), Repo: ReleaseImagesRepo, Tag: "4.16.3-x86_64", Kind: KindRelease, DigestPull: true, TagPull: true}, Root: "m.example.com:5000/ocp", Digest: d("a")},
		{Image: Image{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + d("b"), Repo: ComponentsRepo, Tag: "4.16.3-x86_64-etcd", Kind: KindComponent, DigestPull: true}, Root: "m.example.com:5000/ocp", Digest: d("b")},
		{Image: Image{Source: "registry.redhat.io/ubi9@" + d("c"), Repo: "ubi9", Tag: "sha256-" + strings.Repeat("c", 64), Kind: KindAdditional, DigestPull: true}, Root: "m.example.com:5000/ocp", Digest: d("c")},
		{Image: Image{Source: "quay.io/karmab/ipfailover:latest", Repo: "karmab/ipfailover", Tag: "latest", Kind: KindAdditional, TagPull: true}, Root: "m.example.com:5000/ocp", Digest: d("d")},
	}
}

// TestWriteResources: deterministic whatever the record order, one entry
// per source repository (a namespace-less source stays a repository, never
// the bare host), ICSPs and the signature ConfigMap when asked, and what an
// earlier run wrote but this one does not is removed.
func TestWriteResources(t *testing.T) {
	recs := testRecords()
	sigs := t.TempDir()
	hex := strings.Repeat("a", 64)
	if err := os.MkdirAll(filepath.Join(sigs, "sha256="+hex), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sigs, "sha256="+hex, "signature-1"), []byte("sig"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sigs, "sha256-"+strings.Repeat("f", 64)+"-1"), []byte("other release"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(ws Workspace) map[string][]byte {
		out := map[string][]byte{}
		entries, _ := os.ReadDir(ws.ClusterResourcesDir())
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(ws.ClusterResourcesDir(), e.Name()))
			out[e.Name()] = b
		}
		return out
	}
	a, b := Workspace{Dir: t.TempDir()}, Workspace{Dir: t.TempDir()}
	if _, err := a.WriteResources(recs, ResourceOptions{ICSP: true, SignaturesDir: sigs}); err != nil {
		t.Fatal(err)
	}
	rev := append([]Record(nil), recs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if _, err := b.WriteResources(rev, ResourceOptions{ICSP: true, SignaturesDir: sigs}); err != nil {
		t.Fatal(err)
	}
	fa, fb := read(a), read(b)
	for _, want := range []string{ocmirror.IDMSFile, ocmirror.ITMSFile, ICSFile, ICSPFile, SignatureJSON, SignatureYAML} {
		if fa[want] == nil {
			t.Errorf("%s not written", want)
		}
		if !bytes.Equal(fa[want], fb[want]) {
			t.Errorf("%s differs with the records in another order", want)
		}
	}
	if !strings.Contains(string(fa[SignatureJSON]), `"sha256-`+hex+`-1":"c2ln"`) || strings.Contains(string(fa[SignatureJSON]), "ffff") {
		t.Errorf("signature ConfigMap:\n%s", fa[SignatureJSON])
	}
	idms := string(fa[ocmirror.IDMSFile])
	for _, want := range []string{
		"source: quay.io/openshift-release-dev/ocp-release", "- m.example.com:5000/ocp/openshift/release-images",
		"source: quay.io/openshift-release-dev/ocp-v4.0-art-dev", "- m.example.com:5000/ocp/openshift/release",
		"source: registry.redhat.io/ubi9", "name: hcpmirror-release-0", "name: hcpmirror-generic-0",
	} {
		if !strings.Contains(idms, want) {
			t.Errorf("IDMS lacks %q:\n%s", want, idms)
		}
	}
	if strings.Contains(idms, "karmab") {
		t.Errorf("tag-only image in the IDMS:\n%s", idms)
	}
	if !strings.Contains(string(fa[ocmirror.ITMSFile]), "source: quay.io/karmab/ipfailover") {
		t.Errorf("ITMS:\n%s", fa[ocmirror.ITMSFile])
	}
	// The written sets load back and equal what was computed.
	loaded, err := mirrorset.Load(t.Context(), nil, a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	sets := loaded.Sets
	var icsp int
	for _, s := range sets {
		if s.Kind == mirrorset.KindICSP {
			icsp += len(s.Entries)
		}
	}
	if icsp != 3 {
		t.Errorf("ICSP entries = %d, want the 3 digest sources", icsp)
	}

	// Without signatures and ICSPs: those files go, a note explains.
	res, err := a.WriteResources(recs, ResourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := read(a)
	if now[ICSPFile] != nil || now[SignatureJSON] != nil {
		t.Errorf("stale files kept: %v", res.Files)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "release signatures: none mirrored") {
		t.Errorf("notes = %v", res.Notes)
	}
}
