package lint

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// TestHCM009ManyComponents: a repository used by a whole payload is one
// finding whose message fits on a line, with every name in Images.
func TestHCM009ManyComponents(t *testing.T) {
	components := map[string]string{}
	var all []string
	for i := range 190 {
		n := fmt.Sprintf("c%03d", i)
		components[n] = artRepo + dgst
		all = append(all, n)
	}
	sets := []mirrorset.Set{idms("a", entry(relRepo, "mirror.example.com/ocp/release-images"))}
	findings := Lint(sets, Options{Release: release(relRepo+dgst, components, "")})
	var got []Finding
	for _, f := range findings {
		if f.Code == CodeUnmirroredRepository {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("HCM009 findings = %d, want 1: %v", len(got), got)
	}
	want := "repository " + artRepo + " (used by 190 components (c000, c001, c002, c003, c004 and 185 more)) is not mirrored: no mirror set covers it; " +
		"the pull goes to the source, which is unreachable in a disconnected environment"
	if got[0].Message != want {
		t.Errorf("message = %q\nwant      %q", got[0].Message, want)
	}
	if diff := cmp.Diff(all, got[0].Images); diff != "" {
		t.Errorf("Images (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"images":["c000","c001",`) || !strings.Contains(string(b), `"c189"]`) {
		t.Errorf("JSON does not list every component: %s", b)
	}
}

// TestCheckCoverage is the rule lint --release and verify share.
func TestCheckCoverage(t *testing.T) {
	cfg, err := mirrorset.Compile([]mirrorset.Set{
		idms("d", entry(artRepo, "mirror.example.com/ocp/release"), ncs(entry("quay.io/blocked", "mirror.example.com/blocked"))),
		itms("t", entry("quay.io/tags", "mirror.example.com/tags"), ncs(entry("quay.io/blocked-tags", "mirror.example.com/bt"))),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref      string
		kubeVirt bool
		code     string
		message  string
	}{
		{ref: artRepo + dgst},
		{ref: "quay.io/tags/x:1"},
		{ref: "quay.io/other/x" + dgst, code: "HCM009",
			message: "repository quay.io/other/x is not mirrored: no mirror set covers it; the pull goes to the source, which is unreachable in a disconnected environment"},
		{ref: "quay.io/other/x:1", code: "HCM009",
			message: "repository quay.io/other/x is not mirrored: no mirror set covers it; the pull goes to the source, which is unreachable in a disconnected environment"},
		{ref: "quay.io/tags/x" + dgst, code: "HCM009",
			message: `repository quay.io/tags/x is not mirrored: source "quay.io/tags" covers it with tag mirrors only, which digest pulls do not use; the pull goes to the source, which is unreachable in a disconnected environment`},
		{ref: "quay.io/blocked-tags/x" + dgst, code: "HCM009",
			message: `repository quay.io/blocked-tags/x is not mirrored: source "quay.io/blocked-tags" covers it with tag mirrors only, which digest pulls do not use; the source is NeverContactSource, so the pull fails`},
		{ref: artRepo + ":4.16.3-hyperkube", code: "HCM017",
			message: `quay.io/openshift-release-dev/ocp-v4.0-art-dev:4.16.3-hyperkube is referenced by tag, but source "quay.io/openshift-release-dev/ocp-v4.0-art-dev" has only digest mirrors, which tag pulls do not use: the pull goes to the source, which is unreachable in a disconnected environment`},
		{ref: "quay.io/blocked/x:1", code: "HCM017",
			message: `quay.io/blocked/x:1 is referenced by tag, but source "quay.io/blocked" has only digest mirrors, which tag pulls do not use: the source is NeverContactSource, so the pull fails`},
		{ref: "quay.io/rhcos/kubevirt" + dgst, kubeVirt: true, code: "HCM030",
			message: "the KubeVirt boot image quay.io/rhcos/kubevirt" + dgst + " is not mirrored (no mirror set covers it): KubeVirt NodePools cannot boot"},
		{ref: artRepo + dgst, kubeVirt: true},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			ref, err := imageref.Parse(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			cov := CheckCoverage(cfg, ref, tc.kubeVirt)
			if cov.Code != tc.code || cov.Covered() != (tc.code == "") {
				t.Errorf("code = %q (covered %v), want %q", cov.Code, cov.Covered(), tc.code)
			}
			if got := cov.Message(nil); got != tc.message {
				t.Errorf("message = %q\nwant      %q", got, tc.message)
			}
		})
	}
}
