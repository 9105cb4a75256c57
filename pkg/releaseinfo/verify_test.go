package releaseinfo

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// TestVerifyAllReachable: every image is served by the mirror, progress
// reaches the total, and the source (allowed, but unreachable) is never
// dialled.
func TestVerifyAllReachable(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, mirror)
	itms := []entry{{source: pub.releaseRepo(), mirrors: []string{mirror.Addr + "/" + synthrelease.DefaultReleaseRepo}}}
	cfg := compile(t, releaseMirrors(pub, mirrorset.AllowContactingSource, mirror.Addr), itms)

	var mu sync.Mutex
	var calls [][2]int
	rep, err := newProvider(t, trust(mirror)).Verify(t.Context(), cfg, pub.releaseTag, nil, VerifyOptions{
		Concurrency: 4,
		Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, [2]int{done, total})
		},
	})
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if !rep.OK() {
		for _, c := range rep.Missing() {
			t.Errorf("missing %s %s: %v", c.Kind, c.Name, c.Err)
		}
	}
	if want := 1 + testComponents + 1; len(rep.Checks) != want {
		t.Fatalf("%d checks, want %d (release, components, kubevirt)", len(rep.Checks), want)
	}
	if c := rep.Checks[0]; c.Kind != CheckRelease || c.Image != pub.release {
		t.Errorf("first check = %s %s, want the release by digest %s", c.Kind, c.Image, pub.release)
	}
	if c := rep.Checks[len(rep.Checks)-1]; c.Kind != CheckKubeVirt || c.Image != pub.kubeVirt {
		t.Errorf("last check = %s %s, want kubevirt %s", c.Kind, c.Image, pub.kubeVirt)
	}
	for _, c := range rep.Checks {
		if !strings.HasPrefix(c.ServedBy, mirror.Addr+"/") || c.Digest != digestOf(c.Image) || len(c.Notes) != 0 {
			t.Errorf("%s: ServedBy, Digest, Notes = %s, %s, %v; want the mirror, %s, none", c.Name, c.ServedBy, c.Digest, c.Notes, digestOf(c.Image))
		}
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int{len(rep.Checks), len(rep.Checks)} {
		t.Errorf("progress calls end with %v, want done == total == %d", calls[len(calls)-1:], len(rep.Checks))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Errorf("progress went back: %v", calls)
			break
		}
	}
}

// TestVerifyMirrorLackingComponent: a component missing from the first
// mirror comes from the second; with only the first, it is reported with
// the mirror's failure, and the blocked source is never contacted.
func TestVerifyMirrorLackingComponent(t *testing.T) {
	source := testreg.Unreachable(t)
	var sw testreg.Switch
	partial := testreg.Start(t, testreg.WithHandler(sw.Wrap))
	full := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, partial, full)
	lacking := digestOf(pub.components["etcd"])
	sw.Set(testreg.When(pathHas("/manifests/"+lacking), testreg.Respond(-1, http.StatusNotFound, nil)))

	t.Run("second mirror has it", func(t *testing.T) {
		cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, partial.Addr, full.Addr), nil)
		rep, err := newProvider(t, trust(partial, full)).Verify(t.Context(), cfg, pub.release, nil, VerifyOptions{})
		if err != nil {
			t.Fatalf("Verify() = %v", err)
		}
		if !rep.OK() {
			t.Fatalf("missing: %v", rep.Missing()[0].Err)
		}
		for _, c := range rep.Checks {
			want := partial.Addr
			if c.Name == "etcd" {
				want = full.Addr
			}
			if !strings.HasPrefix(c.ServedBy, want+"/") {
				t.Errorf("%s served by %s, want %s", c.Name, c.ServedBy, want)
			}
		}
	})

	t.Run("only mirror lacks it", func(t *testing.T) {
		cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, partial.Addr), nil)
		rep, err := newProvider(t, trust(partial)).Verify(t.Context(), cfg, pub.release, nil, VerifyOptions{})
		if err != nil {
			t.Fatalf("Verify() = %v", err)
		}
		missing := rep.Missing()
		if len(missing) != 1 || missing[0].Name != "etcd" {
			t.Fatalf("missing = %v, want etcd only", names(missing))
		}
		m := missing[0]
		if m.Source != pub.componentRepo() || !m.SourceBlocked {
			t.Errorf("Source, SourceBlocked = %q, %v; want %q, true", m.Source, m.SourceBlocked, pub.componentRepo())
		}
		wantRef := partial.Addr + "/" + synthrelease.DefaultComponentsRepo + "@" + lacking
		type attempt struct {
			Ref  string
			Kind registry.Kind
		}
		var got []attempt
		for _, a := range m.Attempts() {
			got = append(got, attempt{a.Reference, a.Kind})
		}
		if diff := cmp.Diff([]attempt{{wantRef, registry.NotFound}}, got); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
		if !strings.Contains(m.Err.Error(), wantRef+": not found") {
			t.Errorf("error %q does not name the mirror reference and the kind", m.Err)
		}
	})
}

// TestVerifyReleaseUnreachable: when no mirror serves the release image the
// report says so (no error), listing each mirror, and the blocked source is
// never contacted.
func TestVerifyReleaseUnreachable(t *testing.T) {
	source := testreg.Unreachable(t)
	down := closedAddr(t)
	empty := testreg.Start(t)
	pub := &published{source: source}
	ref := pub.releaseRepo() + "@sha256:" + strings.Repeat("cd", 32)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, down, empty.Addr), nil)
	rep, err := newProvider(t, trust(down, empty)).Verify(t.Context(), cfg, ref, nil, VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if rep.Release != nil || len(rep.Checks) != 1 || rep.OK() {
		t.Fatalf("report = %+v, want one failed release check", rep)
	}
	c := rep.Checks[0]
	if len(c.Attempts()) != 2 || c.PullSources[0] != down+"/"+synthrelease.DefaultReleaseRepo+"@sha256:"+strings.Repeat("cd", 32) {
		t.Errorf("attempts, pull sources = %v, %v; want the two mirrors", c.Attempts(), c.PullSources)
	}
}

// TestVerifyFindings: tag references and uncovered repositories are
// flagged, and images shared by components are asked for once.
func TestVerifyFindings(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	elsewhere := testreg.Start(t)
	elsewhereRef := elsewhere.Addr + "/other/thing@sha256:" + strings.Repeat("ef", 32)
	var unpinned, shared string
	edit := func(files map[string][]byte) error {
		var refs release.ImageReferences
		if err := json.Unmarshal(files[release.ImageReferencesFile], &refs); err != nil {
			return err
		}
		byName := map[string]*release.TagReference{}
		for i := range refs.Spec.Tags {
			byName[refs.Spec.Tags[i].Name] = &refs.Spec.Tags[i]
		}
		unpinned = source + componentPath + ":4.16.3-hyperkube"
		byName["hyperkube"].From.Name = unpinned
		byName["oauth-server"].From.Name = elsewhereRef
		shared = byName["etcd"].From.Name
		byName["cli"].From.Name = shared
		b, err := json.Marshal(refs)
		files[release.ImageReferencesFile] = b
		files[release.BootImagesFile] = []byte(strings.Replace(string(files[release.BootImagesFile]),
			`"digest-ref": "`+source+componentPath, `"digest-ref": "`+elsewhere.Addr+"/other/kubevirt", 1))
		return err
	}
	pub := publish(t, source, publishOpts{edit: edit}, mirror)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)
	before := mirror.RequestsByPath()["/v2/"+synthrelease.DefaultComponentsRepo+"/manifests/"+digestOf(shared)]

	rep, err := newProvider(t, trust(mirror, elsewhere)).Verify(t.Context(), cfg, pub.release, nil, VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if rep.Release.Unpinned[0] != "hyperkube" {
		t.Errorf("Release.Unpinned = %q, want hyperkube", rep.Release.Unpinned)
	}
	got := map[string][]string{}
	for _, c := range rep.Checks {
		for _, n := range c.Notes {
			got[c.Name] = append(got[c.Name], n.Code)
		}
	}
	want := map[string][]string{"hyperkube": {"HCM017"}, "oauth-server": {"HCM009"}, "kubevirt": {"HCM030"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("note codes per image (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"hyperkube", "oauth-server", "kubevirt"}, names(rep.Missing())); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	var ue *UnpullableError
	for _, c := range rep.Missing() {
		if c.Name == "hyperkube" && !errors.As(c.Err, &ue) {
			t.Errorf("hyperkube: Err = %v, want an *UnpullableError (tag pull, NeverContactSource, digest mirrors only)", c.Err)
		}
	}
	if n := mirror.RequestsByPath()["/v2/"+synthrelease.DefaultComponentsRepo+"/manifests/"+digestOf(shared)] - before; n != 1 {
		t.Errorf("%d requests for the image etcd and cli share, want 1", n)
	}
}

func TestVerifyBadConcurrency(t *testing.T) {
	if _, err := newProvider(t).Verify(t.Context(), nil, "quay.io/a/b:1", nil, VerifyOptions{Concurrency: -1}); err == nil {
		t.Error("Verify(concurrency -1) = nil error")
	}
}

func names(checks []*Check) []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.Name)
	}
	return out
}

// TestVerifyUnmirroredFails: an image served by its source because no mirror
// set covers it is reachable from where verify runs, not from a disconnected
// data center (HCM009, an error): the report is not OK.
func TestVerifyUnmirroredFails(t *testing.T) {
	rep := &VerifyReport{Checks: []Check{
		{Kind: CheckComponent, Name: "etcd", Image: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:x"},
		{Kind: CheckComponent, Name: "oauth-server", Image: "quay.io/other/oauth@sha256:y",
			Notes: []Note{{Code: "HCM009", Message: "repository quay.io/other/oauth is not mirrored"}}},
		{Kind: CheckComponent, Name: "hyperkube", Image: "quay.io/a/b:v1", Notes: []Note{{Code: "HCM017", Message: "tag"}}},
	}}
	if len(rep.Missing()) != 0 {
		t.Fatalf("Missing() = %v, want none", names(rep.Missing()))
	}
	if diff := cmp.Diff([]string{"oauth-server"}, names(rep.Unmirrored())); diff != "" {
		t.Errorf("Unmirrored() (-want +got):\n%s", diff)
	}
	if rep.OK() {
		t.Error("OK() = true with an unmirrored image")
	}
	rep.Checks[1].Notes = nil
	if !rep.OK() {
		t.Error("OK() = false: a warning (HCM017) alone must not fail verify")
	}
}

// TestVerifyTagReleaseUnserved: a release asked for by tag, whose tag
// mirror is down, is missing, and its note does not claim that the tag
// mirrors serve it.
func TestVerifyTagReleaseUnserved(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, mirror)
	down := closedAddr(t)
	itms := []entry{{source: pub.releaseRepo(), mirrors: []string{down + "/" + synthrelease.DefaultReleaseRepo}, policy: mirrorset.NeverContactSource}}
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), itms)
	rep, err := newProvider(t, trust(mirror)).Verify(t.Context(), cfg, pub.releaseTag, nil, VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if len(rep.Checks) != 1 || rep.Checks[0].OK() {
		t.Fatalf("checks = %+v, want the release image alone, missing", rep.Checks)
	}
	for _, n := range rep.Checks[0].Notes {
		if strings.Contains(n.Message, "serve it") && !strings.Contains(n.Message, "no tag mirror served it") {
			t.Errorf("note %q says the tag mirrors serve a release nothing served", n.Message)
		}
	}
	if len(rep.Checks[0].Notes) != 1 || !strings.Contains(rep.Checks[0].Notes[0].Message, "no tag mirror served it") {
		t.Errorf("notes = %v, want one saying no tag mirror served it", rep.Checks[0].Notes)
	}
}
