package mirror

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

const testComponents = 24

const iscHead = `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  platform:
    kubeVirtContainer: true
    channels:
    - name: stable-4.16
  additionalImages:
  - name: UPSTREAM/karmab/origin-keepalived-ipfailover:latest
  - name: UPSTREAM/blocked/never:1
  blockedImages:
  - name: /blocked/
`

// TestMirrorToMirror mirrors the channel head, an additional image and the
// KubeVirt image, then checks that everything resolves through the written
// cluster resources with the upstream gone, and that a second run after the
// configuration grows copies only what is new and writes complete
// resources.
func TestMirrorToMirror(t *testing.T) {
	l := newLab(t, testComponents, "4.16.2", "4.16.3")
	ws := t.TempDir()
	rep, err := Run(t.Context(), l.isc(t, ws, iscHead), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status == StatusFailed {
			t.Errorf("failed: %+v", r)
		}
	}
	// head only: 4.16.3; components + kubevirt + release + 1 additional.
	if want := testComponents + 3; len(rep.Results) != want || rep.Copied != want {
		t.Fatalf("first run: %d results, %d copied, want %d", len(rep.Results), rep.Copied, want)
	}
	if len(rep.Releases) != 1 || rep.Releases[0].Version != "4.16.3" {
		t.Errorf("releases = %+v, want only the head 4.16.3", rep.Releases)
	}
	if len(rep.Blocked) != 1 || !strings.Contains(rep.Blocked[0].Image.Source, "/blocked/never") {
		t.Errorf("blocked = %+v", rep.Blocked)
	}
	if !rep.Complete() {
		t.Error("not complete")
	}

	// Same configuration again: one HEAD per image, nothing sent.
	before := l.dest.Requests()
	rep2, err := Run(t.Context(), l.isc(t, ws, iscHead), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Present != len(rep2.Results) || rep2.Bytes != 0 {
		t.Errorf("no-change run: %d present of %d, %d bytes sent", rep2.Present, len(rep2.Results), rep2.Bytes)
	}
	if got := l.dest.Requests() - before; got > len(rep2.Results)+4 {
		t.Errorf("no-change run made %d destination requests for %d images", got, len(rep2.Results))
	}

	// The configuration grows: 4.16.2 too (min and max: every release in range).
	grown := strings.Replace(iscHead, "    - name: stable-4.16\n", "    - name: stable-4.16\n      minVersion: 4.16.2\n      maxVersion: 4.16.3\n", 1)
	rep3, err := Run(t.Context(), l.isc(t, ws, grown), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep3.Releases) != 2 || rep3.Present != testComponents+3 || rep3.Copied != testComponents+2 || rep3.Failed != 0 {
		t.Errorf("grown run: %d releases, %d present, %d copied, %d failed", len(rep3.Releases), rep3.Present, rep3.Copied, rep3.Failed)
	}

	// Cluster resources: complete for both releases, read as v2 output.
	loaded, err := mirrorset.Load(t.Context(), nil, ws)
	if err != nil {
		t.Fatal(err)
	}
	sets := loaded.Sets
	cfg, err := mirrorset.Compile(sets)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		for _, e := range s.Entries {
			if !strings.Contains(strings.TrimPrefix(e.Source, l.upstream.Addr), "/") {
				t.Errorf("%s: root-only source %q", s.Describe(), e.Source)
			}
		}
	}
	l.upstream.Close()
	for _, r := range rep3.Results {
		if !r.Image.DigestPull {
			continue // tag pulls only: checked by tag below
		}
		ref := r.Image.SourceRepo() + "@" + r.Digest
		res, err := cfg.Resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		srcs := res.References()
		want := l.dest.Addr + "/mirror/" + r.Image.Repo + "@" + r.Digest
		if len(srcs) == 0 || srcs[0] != want {
			t.Errorf("resolve %s = %v, want %s first", ref, srcs, want)
		}
	}
	tagRef := l.additional
	res, err := cfg.Resolve(tagRef)
	if err != nil || len(res.References()) == 0 || res.References()[0] != l.dest.Addr+"/mirror/karmab/origin-keepalived-ipfailover:latest" {
		t.Errorf("resolve %s = %v, %v", tagRef, res.References(), err)
	}
	p, err := releaseinfo.New(releaseinfo.WithClient(l.client))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"4.16.2", "4.16.3"} {
		vr, err := p.Verify(t.Context(), cfg, l.releases[v].MirrorRelease, nil, releaseinfo.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !vr.OK() {
			for _, c := range vr.Missing() {
				t.Errorf("verify %s: missing %s: %v", v, c.Image, c.Err)
			}
		}
	}
	// verify -c: every image the configuration names, through the sets.
	vr, err := VerifyImageSet(t.Context(), p, l.client, cfg, l.isc(t, ws, grown), VerifyImageSetOptions{GraphURL: l.graphURL})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*(testComponents+2) + 1; len(vr.Checks) != want || !vr.OK() {
		t.Errorf("VerifyImageSet: %d checks (want %d), %d missing", len(vr.Checks), want, len(vr.Missing()))
	}
	// verify -c inside the data centre: the update service is out of
	// reach, the graphs the mirror runs recorded in the workspace answer.
	recorded, err := ReadRecordedGraphs([]string{ws, filepath.Join(ws, "no-such-file")})
	if err != nil || recorded.Len() != 1 {
		t.Fatalf("ReadRecordedGraphs(%s) = %d graphs, %v; want 1", ws, recorded.Len(), err)
	}
	offline := "http://" + closedAddr(t) + "/graph"
	vr, err = VerifyImageSet(t.Context(), p, l.client, cfg, l.isc(t, ws, grown), VerifyImageSetOptions{GraphURL: offline, Recorded: recorded})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*(testComponents+2) + 1; len(vr.Checks) != want || !vr.OK() {
		t.Errorf("VerifyImageSet offline: %d checks (want %d), %d missing", len(vr.Checks), want, len(vr.Missing()))
	}
	if len(vr.Notes) != 1 || !strings.Contains(vr.Notes[0], "resolved from the update graph recorded by the mirror run in "+filepath.Join(ws, WorkingDir, StateDir, GraphsFile)) {
		t.Errorf("VerifyImageSet offline notes = %q", vr.Notes)
	}
	for _, tc := range []struct {
		name     string
		recorded *RecordedGraphs
		want     string
	}{
		{"nothing recorded", nil, "connect"},
		{"no -f directory", &RecordedGraphs{}, "no update graph is recorded in the -f directories either"},
	} {
		_, err := VerifyImageSet(t.Context(), p, l.client, cfg, l.isc(t, ws, grown), VerifyImageSetOptions{GraphURL: offline, Recorded: tc.recorded})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mirror.platform.channels[0] (stable-4.16)") {
			t.Errorf("%s: VerifyImageSet offline = %v, want an error naming the channel and %q", tc.name, err, tc.want)
		}
	}
	empty, _ := mirrorset.Compile(nil)
	vr, err = VerifyImageSet(t.Context(), p, l.client, empty, l.isc(t, ws, grown), VerifyImageSetOptions{GraphURL: l.graphURL})
	if err != nil {
		t.Fatal(err)
	}
	if vr.OK() {
		t.Error("VerifyImageSet without mirror sets and with the upstream stopped: OK")
	}
	crFiles, _ := os.ReadDir(filepath.Join(ws, WorkingDir, ClusterResources))
	var names []string
	for _, f := range crFiles {
		names = append(names, f.Name())
	}
	for _, want := range []string{"idms-hcpmirror.yaml", "itms-hcpmirror.yaml", ICSFile, MappingFile} {
		if !slices.Contains(names, want) {
			t.Errorf("cluster-resources holds %v, want %s", names, want)
		}
	}
}
