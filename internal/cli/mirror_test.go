package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirror"
)

// TestMirrorCommand runs registry to registry through the command line and
// reads the workspace with resolve, lint and merge, as users will.
func TestMirrorCommand(t *testing.T) {
	up, dest := testreg.Start(t), testreg.Start(t)
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	src := up.Addr + "/ns/app:1.0"
	r, _ := name.ParseReference(src)
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	isc := filepath.Join(dir, "isc.yaml")
	if err := os.WriteFile(isc, []byte(`apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
  - name: `+src+`
  - name: `+up.Addr+`/ns/missing:1
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(dir, "ws")
	access := []string{"--insecure-registry", up.Addr, "--insecure-registry", dest.Addr}
	base := append([]string{"mirror", "-c", isc, "--workspace", ws, "docker://" + dest.Addr + "/mirror"}, access...)

	// Dry run: the mapping and resources it would write, nothing copied.
	// The missing image is found by the dry run already.
	code, out := runHcpmirror(t, append(base, "--dry-run"), nil)
	if code != 1 || !strings.Contains(out, "FAILED: "+up.Addr+"/ns/missing:1") || !strings.Contains(out, "1 planned") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(ws, "working-dir", "dry-run", mirror.MappingFile)); err != nil {
		t.Errorf("dry run wrote no mapping: %v", err)
	}
	if dest.Requests() > 0 {
		t.Errorf("dry run made %d requests to the destination", dest.Requests())
	}

	// The missing image fails the run (exit 1), naming it and the side.
	code, out = runHcpmirror(t, base, nil)
	if code != 1 || !strings.Contains(out, "FAILED: "+up.Addr+"/ns/missing:1") || !strings.Contains(out, "source side [not found]") {
		t.Fatalf("run with a missing image: exit %d\n%s", code, out)
	}
	// Not a terminal: plain progress lines on stderr, one per image.
	if !strings.Contains(out, "mirroring 2 images\n") || !strings.Contains(out, "] copied "+src+" -> ns/app:1.0") {
		t.Errorf("no plain progress lines:\n%s", out)
	}
	code, out = runHcpmirror(t, append(base, "-o", "json"), nil)
	var rep mirror.Report
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):strings.LastIndex(out, "}")+1]), &rep); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if code != 1 || rep.Present != 1 || rep.Failed != 1 {
		t.Errorf("second run: exit %d, %d present, %d failed", code, rep.Present, rep.Failed)
	}

	// The workspace reads as oc-mirror v2 output.
	code, out = runHcpmirror(t, []string{"resolve", "-f", ws, src}, nil)
	if code != 0 || !strings.Contains(out, "1. "+dest.Addr+"/mirror/ns/app:1.0") {
		t.Errorf("resolve -f workspace: exit %d\n%s", code, out)
	}
	code, out = runHcpmirror(t, append([]string{"verify", "-c", isc, "-f", ws}, access...), nil)
	if code != 1 || !strings.Contains(out, "ns/missing:1") {
		t.Errorf("verify -c with an unmirrored image: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"lint", "-f", ws}, {"merge", "-f", ws, "-o", filepath.Join(dir, "merged")}} {
		if code, out := runHcpmirror(t, args, nil); code != 0 {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

func TestMirrorCommandUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mirror", "docker://m.local"}, "-c ISC.yaml is required"},
		{[]string{"mirror", "-c", "x", "docker://m.local"}, "--workspace DIR is required"},
		{[]string{"mirror", "-c", "x", "--from", "file://" + dir, "file://" + dir}, "--from needs a docker:// destination"},
		{[]string{"mirror", "-c", "x", "--from", dir, "docker://m.local"}, "want file://DIR"},
		{[]string{"mirror", "-c", "x", "--workspace", dir, "file://" + dir}, "--workspace is the file:// directory"},
		{[]string{"mirror", "-c", "x", "--workspace", dir, "m.local:5000"}, "want docker://HOST[:PORT][/PATH] or file://DIR"},
		{[]string{"mirror", "-c", "x", "--workspace", dir, "docker://m.local", "--parallel", "0"}, "--parallel 0"},
		{[]string{"mirror", "-c", "x", "--workspace", dir, "docker://m.local", "-o", "wide"}, `-o "wide": want text, json, yaml`},
	} {
		code, out := runHcpmirror(t, tc.args, nil)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, out)
		}
	}
}

// TestMirrorCommandInterrupt: cancelling the command (Ctrl-C) ends it within
// seconds with status 130, and running it again finishes the job.
func TestMirrorCommandInterrupt(t *testing.T) {
	up := testreg.Start(t)
	release := make(chan struct{})
	var hold testreg.Switch
	dest := testreg.Start(t, testreg.WithHandler(hold.Wrap))
	dir := t.TempDir()
	body := "apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n"
	for i := range 6 {
		img, err := random.Image(4096, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref := up.Addr + "/ns/app-" + string(rune('a'+i)) + ":1"
		r, _ := name.ParseReference(ref)
		if err := remote.Write(r, img); err != nil {
			t.Fatal(err)
		}
		body += "  - name: " + ref + "\n"
	}
	isc := filepath.Join(dir, "isc.yaml")
	if err := os.WriteFile(isc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"mirror", "-c", isc, "--workspace", filepath.Join(dir, "ws"), "-q", "--insecure-registry", up.Addr, "--insecure-registry", dest.Addr, "docker://" + dest.Addr + "/m"}
	hold.Set(testreg.Hold(release))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		var out, errOut bytes.Buffer
		done <- Execute(ctx, args, strings.NewReader(""), &out, &errOut)
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case code := <-done:
		if code != 130 {
			t.Errorf("interrupted: exit %d, want 130", code)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v to stop", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop within 10s of the interrupt")
	}
	close(release)
	hold.Set(nil)
	if code, out := runHcpmirror(t, args, nil); code != 0 {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
}

// TestMirrorWorkspaceLints: the release resources a mirror run writes pass
// lint (both release repositories covered, no root-only source) and merge
// to themselves.
func TestMirrorWorkspaceLints(t *testing.T) {
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	root := "registry.sample.lab:5000/ocp"
	recs := []mirror.Record{
		{Image: mirror.Image{Source: "quay.io/openshift-release-dev/ocp-release@" + d("a"), Repo: mirror.ReleaseImagesRepo, Tag: "4.16.3-x86_64", Kind: mirror.KindRelease, DigestPull: true, TagPull: true}, Root: root, Digest: d("a")},
		{Image: mirror.Image{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + d("b"), Repo: mirror.ComponentsRepo, Tag: "4.16.3-x86_64-etcd", Kind: mirror.KindComponent, DigestPull: true}, Root: root, Digest: d("b")},
		{Image: mirror.Image{Source: "quay.io/karmab/origin-keepalived-ipfailover:latest", Repo: "karmab/origin-keepalived-ipfailover", Tag: "latest", Kind: mirror.KindAdditional, TagPull: true}, Root: root, Digest: d("c")},
	}
	ws := t.TempDir()
	if _, err := (mirror.Workspace{Dir: ws}).WriteResources(recs, mirror.ResourceOptions{ICSP: true}); err != nil {
		t.Fatal(err)
	}
	if code, out := runHcpmirror(t, []string{"lint", "-f", ws}, nil); code != 0 || strings.Contains(out, " E ") {
		t.Errorf("lint -f workspace: exit %d\n%s", code, out)
	}
	out := filepath.Join(t.TempDir(), "merged")
	if code, o := runHcpmirror(t, []string{"merge", "-f", ws, "-o", out}, nil); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, o)
	}
	for _, f := range []string{"idms-hcpmirror.yaml", "itms-hcpmirror.yaml"} {
		a, _ := os.ReadFile(filepath.Join(ws, "working-dir", "cluster-resources", f))
		b, _ := os.ReadFile(filepath.Join(out, f))
		if string(a) != string(b) {
			t.Errorf("merge of the workspace changes %s:\n%s\nvs\n%s", f, a, b)
		}
	}
	code, o := runHcpmirror(t, []string{"resolve", "-f", ws, "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"}, nil)
	if code != 0 || !strings.Contains(o, "1. "+root+"/openshift/release-images:4.16.3-x86_64") {
		t.Errorf("resolve the release tag: exit %d\n%s", code, o)
	}
}

// TestMirrorProgress drives both displays: the live one (as on a terminal)
// ends cleanly and shows images and bytes; the plain one prints a line per
// image, failures with their side.
func TestMirrorProgress(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		var buf bytes.Buffer
		p := newMirrorProgress(&buf, terminal)
		p.Start(2)
		im := mirror.Image{Source: "quay.io/a/b:1", Repo: "a/b", Tag: "1"}
		p.ImageStarted(im)
		p.Bytes(3 << 20)
		p.ImageDone(mirror.Result{Image: im, Status: mirror.StatusCopied})
		p.ImageStarted(im)
		p.ImageDone(mirror.Result{Image: im, Status: mirror.StatusFailed, Side: mirror.SideDestination, Error: "denied"})
		p.wait()
		out := buf.String()
		want := []string{"images", "2/2", "MiB"}
		if !terminal {
			want = []string{"mirroring 2 images\n", "[1/2] copied quay.io/a/b:1 -> a/b:1\n", "[2/2] failed quay.io/a/b:1 -> a/b:1 (destination: denied)\n"}
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("terminal=%v: output lacks %q:\n%s", terminal, w, out)
			}
		}
	}
}
