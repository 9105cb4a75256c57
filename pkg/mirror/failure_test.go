package mirror

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// TestFailures: a missing source image and a destination refusing one
// repository fail those images only, each naming its side; 503s on source
// blobs are retried away.
func TestFailures(t *testing.T) {
	var up, down testreg.Switch
	l := newLabWith(t, []testreg.Option{testreg.WithHandler(up.Wrap)}, []testreg.Option{testreg.WithHandler(down.Wrap)}, 8, "4.16.3")
	up.Set(testreg.When(testreg.BlobRequests, testreg.Respond(3, http.StatusServiceUnavailable, nil)))
	down.Set(testreg.When(func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/karmab/") && strings.Contains(r.URL.Path, "/manifests/")
	}, testreg.Respond(-1, http.StatusForbidden, nil)))
	ws := t.TempDir()
	isc := l.isc(t, ws, strings.Replace(iscHead, "  blockedImages:\n", "  - name: UPSTREAM/gone/missing:1\n  blockedImages:\n", 1))
	rep, err := Run(t.Context(), isc, l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete() {
		t.Fatal("complete despite failures")
	}
	got := map[string]Result{}
	for _, r := range rep.Results {
		if r.Status == StatusFailed {
			got[r.Image.Repo] = r
		}
	}
	if len(got) != 2 || rep.Copied != 8+2 {
		t.Fatalf("failed %v, copied %d; want 2 failed and the release copied", got, rep.Copied)
	}
	if r := got["gone/missing"]; r.Side != SideSource || r.Kind != "not found" || !strings.Contains(r.Error, "gone/missing:1") {
		t.Errorf("missing source image: %+v", r)
	}
	if r := got["karmab/origin-keepalived-ipfailover"]; r.Side != SideDestination || r.Kind != "unauthorized" {
		t.Errorf("refused destination: %+v", r)
	}
	// What failed is not recorded, so not in the mirror sets.
	b, err := os.ReadFile(filepath.Join(ws, WorkingDir, ClusterResources, "itms-hcpmirror.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "karmab") || strings.Contains(string(b), "gone/") {
		t.Errorf("failed images in the ITMS:\n%s", b)
	}
}

// cancelAfter cancels a context after n images finished.
type cancelAfter struct {
	n      int64
	done   atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Start(int)          {}
func (c *cancelAfter) ImageStarted(Image) {}
func (c *cancelAfter) Bytes(int64)        {}
func (c *cancelAfter) ImageDone(Result) {
	if c.done.Add(1) == c.n {
		c.cancel()
	}
}

// TestInterrupted: a run cancelled part-way leaves only complete images
// under any tag, and the next run finishes the job.
func TestInterrupted(t *testing.T) {
	l := newLab(t, testComponents, "4.16.3")
	ws := t.TempDir()
	isc := l.isc(t, ws, iscHead)
	ctx, cancel := context.WithCancel(t.Context())
	o := l.options(MirrorToMirror, ws)
	o.Parallel = 2
	o.Progress = &cancelAfter{n: 5, cancel: cancel}
	rep, err := Run(ctx, isc, o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Complete() {
		t.Fatalf("interrupted run: interrupted=%v complete=%v", rep.Interrupted, rep.Complete())
	}
	if rep.Copied < 5 || rep.Copied >= len(rep.Results) {
		t.Fatalf("interrupted run copied %d of %d", rep.Copied, len(rep.Results))
	}
	// Every tag that exists is a whole image.
	for _, r := range rep.Results {
		ref, err := name.ParseReference(r.Image.Dest(o.Destination))
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(ref)
		if err != nil {
			if r.Status == StatusCopied {
				t.Errorf("%s: copied but not pullable: %v", ref, err)
			}
			continue
		}
		if err := validate.Image(img, validate.Fast); err != nil {
			t.Errorf("%s: half-written: %v", ref, err)
		}
	}
	rep2, err := Run(t.Context(), isc, l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	if !rep2.Complete() || rep2.Copied+rep2.Present != len(rep2.Results) || rep2.Present < rep.Copied {
		t.Errorf("second run: complete=%v copied=%d present=%d of %d", rep2.Complete(), rep2.Copied, rep2.Present, len(rep2.Results))
	}
}

// TestDisk: mirror to disk, again (nothing new), then disk to mirror with
// the upstream stopped; a damaged blob is refused, naming the file.
func TestDisk(t *testing.T) {
	l := newLab(t, testComponents, "4.16.3")
	dir := filepath.Join(t.TempDir(), "archive")
	isc := l.isc(t, t.TempDir(), iscHead)
	o := l.options(MirrorToDisk, dir)
	o.Dir = dir
	rep, err := Run(t.Context(), isc, o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete() || rep.Copied != len(rep.Results) {
		t.Fatalf("mirror to disk: complete=%v copied=%d of %d", rep.Complete(), rep.Copied, len(rep.Results))
	}
	rep2, err := Run(t.Context(), isc, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Present != len(rep2.Results) || rep2.Bytes != 0 {
		t.Errorf("second mirror to disk: %d present of %d, %d bytes written", rep2.Present, len(rep2.Results), rep2.Bytes)
	}
	for _, f := range []string{"index.json", "oci-layout", LayoutIndexFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}

	l.upstream.Close()
	d2m := l.options(DiskToMirror, dir)
	d2m.Dir = dir
	rep3, err := Run(t.Context(), isc, d2m)
	if err != nil {
		t.Fatal(err)
	}
	if !rep3.Complete() || rep3.Copied != len(rep.Results) {
		t.Fatalf("disk to mirror: complete=%v copied=%d of %d: %+v", rep3.Complete(), rep3.Copied, len(rep.Results), rep3.Results)
	}
	if _, err := os.Stat(filepath.Join(dir, WorkingDir, ClusterResources, "idms-hcpmirror.yaml")); err != nil {
		t.Error(err)
	}

	// Truncate the largest blob: refused before anything is pushed.
	var victim string
	var size int64
	_ = filepath.Walk(filepath.Join(dir, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && fi.Size() > size {
			victim, size = p, fi.Size()
		}
		return nil
	})
	if err := os.Truncate(victim, size/2); err != nil {
		t.Fatal(err)
	}
	_, err = Run(t.Context(), isc, d2m)
	if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("damaged archive: error = %v, want it to name %s", err, victim)
	}
}

// TestReleaseNeedsItsComponents: when component images fail to reach the
// destination, the release image that names them is not pushed (clusters
// would select it and fail to install), and it is reported failed.
func TestReleaseNeedsItsComponents(t *testing.T) {
	var down testreg.Switch
	l := newLabWith(t, nil, []testreg.Option{testreg.WithHandler(down.Wrap)}, 4, "4.16.3")
	down.Set(testreg.When(func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/"+ComponentsRepo+"/manifests/")
	}, testreg.Respond(-1, http.StatusForbidden, nil)))
	ws := t.TempDir()
	rep, err := Run(t.Context(), l.isc(t, ws, iscHead), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	var release *Result
	for i, r := range rep.Results {
		if r.Image.Kind == KindRelease {
			release = &rep.Results[i]
		}
	}
	if release == nil || release.Status != StatusFailed || !strings.Contains(release.Error, "component images failed") {
		t.Fatalf("release result = %+v, want failed for its components", release)
	}
	ref, err := name.ParseReference(l.dest.Addr+"/"+ReleaseImagesRepo+":"+release.Image.Tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref, remote.WithContext(t.Context())); err == nil {
		t.Errorf("%s is in the destination although its components are not", ref)
	}
}

// TestOneDestinationTwoSources: two source repositories that would land in
// one destination repository and tag are refused before anything is
// copied, naming both (the second would overwrite the first, and the
// mirror sets would send one source's pulls to the other's image).
func TestOneDestinationTwoSources(t *testing.T) {
	l := newLab(t, testComponents, "4.16.3")
	ws := t.TempDir()
	isc := l.isc(t, ws, strings.Replace(iscHead, "  blockedImages:\n", "  - name: 127.0.0.1:1/karmab/origin-keepalived-ipfailover:latest\n  blockedImages:\n", 1))
	_, err := Run(t.Context(), isc, l.options(MirrorToMirror, ws))
	if err == nil || !strings.Contains(err.Error(), "would both be mirrored to karmab/origin-keepalived-ipfailover:latest") {
		t.Fatalf("Run = %v, want the two sources named", err)
	}
	if n := l.dest.Requests(); n != 0 {
		t.Errorf("%d requests to the destination, want none", n)
	}
}
