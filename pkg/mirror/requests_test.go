package mirror

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// TestColdRequests: a cold copy asks each tag once (no second HEAD after
// the up-front check) and uploads each blob in one PUT (no PATCH), the
// requests a local registry's CPU is bound by; whether the blob is there,
// or can be mounted from another repository, is asked by the POST that
// opens the upload, never by a HEAD.
func TestColdRequests(t *testing.T) {
	counts := &requestKinds{}
	l := newLabWith(t, nil, []testreg.Option{testreg.WithHandler(counts.wrap)}, 24, "4.16.3")
	ws := t.TempDir()
	rep, err := Run(t.Context(), l.isc(t, ws, iscHead), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d images, copied %d: %v", len(rep.Results), rep.Copied, counts)
	c := counts.snapshot()
	if got := c["HEAD manifest"]; got != len(rep.Results) {
		t.Errorf("%d manifest HEADs for %d images, want one each", got, len(rep.Results))
	}
	if got := c["PATCH upload"]; got != 0 {
		t.Errorf("%d PATCH uploads, want every blob in one PUT", got)
	}
	if c["PUT upload"] == 0 || c["POST upload"] < c["PUT upload"] || c["HEAD blob"] > c["POST upload"]-c["PUT upload"] {
		t.Errorf("uploads: %v, want a POST (mount probe) and a PUT per blob, a HEAD only for cross-repository mounts", c)
	}
}

// requestKinds counts requests by method and kind (manifest, blob, upload)
// in front of a registry.
type requestKinds struct {
	mu     sync.Mutex
	counts map[string]int
	// With trace set, every request is also recorded in events.
	trace  bool
	events []requestEvent
}

// requestEvent is one request: when it arrived and ended, its kind and
// the body bytes it carried.
type requestEvent struct {
	start, end time.Time
	kind       string
	bytes      int64
}

func (k *requestKinds) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "other"
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			kind = "manifest"
		case strings.Contains(r.URL.Path, "/blobs/uploads"):
			kind = "upload"
		case strings.Contains(r.URL.Path, "/blobs/"):
			kind = "blob"
		}
		k.mu.Lock()
		if k.counts == nil {
			k.counts = map[string]int{}
		}
		k.counts[r.Method+" "+kind]++
		trace := k.trace
		k.mu.Unlock()
		if !trace {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		next.ServeHTTP(w, r)
		k.mu.Lock()
		k.events = append(k.events, requestEvent{start: start, end: time.Now(), kind: r.Method + " " + kind, bytes: max(0, r.ContentLength)})
		k.mu.Unlock()
	})
}

// timeline is, per step from start, the requests in flight (on average)
// and the MiB received in requests that ended in that step.
func (k *requestKinds) timeline(start time.Time, step time.Duration) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var busy []time.Duration
	var bytes []int64
	grow := func(i int) {
		for len(busy) <= i {
			busy = append(busy, 0)
			bytes = append(bytes, 0)
		}
	}
	for _, e := range k.events {
		if e.end.Before(start) {
			continue
		}
		grow(int(e.end.Sub(start) / step))
		bytes[int(e.end.Sub(start)/step)] += e.bytes
		t := e.start
		if t.Before(start) {
			t = start
		}
		for t.Before(e.end) {
			i := int(t.Sub(start) / step)
			next := start.Add(time.Duration(i+1) * step)
			if next.After(e.end) {
				next = e.end
			}
			busy[i] += next.Sub(t)
			t = next
		}
	}
	var b strings.Builder
	b.WriteString("seconds in-flight MiB-received\n")
	for i := range busy {
		fmt.Fprintf(&b, "%.1f %5.1f %6.1f\n", (time.Duration(i) * step).Seconds(), float64(busy[i])/float64(step), float64(bytes[i])/(1<<20))
	}
	return b.String()
}

// snapshot is the counts so far; reset forgets them.
func (k *requestKinds) snapshot() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.counts)
}

func (k *requestKinds) reset() {
	k.mu.Lock()
	k.counts = nil
	k.mu.Unlock()
}

func (k *requestKinds) String() string {
	c := k.snapshot()
	keys := slices.Sorted(maps.Keys(c))
	parts := make([]string, len(keys))
	for i, key := range keys {
		parts[i] = fmt.Sprintf("%s %d", key, c[key])
	}
	return strings.Join(parts, ", ")
}

// TestUploadProbe: a blob the repository holds is found by the POST that
// would open its upload, and nothing is sent; a new one is sent once.
func TestUploadProbe(t *testing.T) {
	dest := testreg.Start(t)
	c := mustClient(t, dest)
	tgt, err := NewRegistryTarget(t.Context(), c, dest.Addr+"/m")
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("a layer's bytes")
	d := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(blob))}, Size: int64(len(blob)), MediaType: types.OCILayer}
	opened := 0
	open := func() (io.ReadCloser, error) { opened++; return io.NopCloser(bytes.NewReader(blob)), nil }
	for i, want := range []int64{int64(len(blob)), 0} {
		n, err := tgt.PutBlob(t.Context(), "a/b", d, open)
		if err != nil || n != want {
			t.Errorf("put %d: %d bytes sent, %v; want %d", i+1, n, err, want)
		}
	}
	if opened != 1 {
		t.Errorf("source opened %d times, want 1", opened)
	}
}

// TestUploadMount: a blob this run put into one repository is mounted into
// another by the POST alone: nothing read from the source, nothing sent, no
// HEAD; a registry that refuses mount parameters gets the blob uploaded.
func TestUploadMount(t *testing.T) {
	refuseMounts := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Query().Has("mount") {
				http.Error(w, `{"errors":[{"code":"UNSUPPORTED","message":"no mounts here"}]}`, http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	blob := []byte("a base layer shared by two repositories")
	d := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(blob))}, Size: int64(len(blob)), MediaType: types.OCILayer}
	for _, tc := range []struct {
		name      string
		mw        []testreg.Middleware
		wantBytes int64 // sent for the second repository
		wantOpens int
		wantReqs  map[string]int // for the second repository
	}{
		{name: "mounted", wantBytes: 0, wantOpens: 1, wantReqs: map[string]int{"POST upload": 1}},
		{name: "mounts refused", mw: []testreg.Middleware{refuseMounts}, wantBytes: int64(len(blob)), wantOpens: 2, wantReqs: map[string]int{"POST upload": 2, "PUT upload": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kinds := &requestKinds{}
			dest := testreg.Start(t, testreg.WithHandler(append([]testreg.Middleware{kinds.wrap}, tc.mw...)...))
			tgt, err := NewRegistryTarget(t.Context(), mustClient(t, dest), dest.Addr+"/m")
			if err != nil {
				t.Fatal(err)
			}
			opens := 0
			open := func() (io.ReadCloser, error) { opens++; return io.NopCloser(bytes.NewReader(blob)), nil }
			if _, err := tgt.PutBlob(t.Context(), "a/b", d, open); err != nil {
				t.Fatal(err)
			}
			kinds.reset()
			n, err := tgt.PutBlob(t.Context(), "a/c", d, open)
			if err != nil || n != tc.wantBytes {
				t.Errorf("second repository: %d bytes sent, %v; want %d", n, err, tc.wantBytes)
			}
			if opens != tc.wantOpens {
				t.Errorf("source opened %d times, want %d", opens, tc.wantOpens)
			}
			got := kinds.snapshot()
			delete(got, "GET other") // the ping of a new repository's session
			if !maps.Equal(got, tc.wantReqs) {
				t.Errorf("requests for the second repository: %v, want %v", got, tc.wantReqs)
			}
			resp, err := http.Get(dest.URL() + "/v2/m/a/c/blobs/" + d.Digest.String())
			if err != nil {
				t.Fatal(err)
			}
			got2, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got2, blob) {
				t.Errorf("blob in the second repository: %s, %d bytes; want the blob", resp.Status, len(got2))
			}
		})
	}
}

// TestUploadAuth: one-request uploads authenticate like every other
// request: into a registry that requires basic auth, with an auth file.
func TestUploadAuth(t *testing.T) {
	dest := testreg.Start(t, testreg.WithBasicAuth("mirror", "s3cret"))
	c, err := registry.New(registry.WithAuthFile(dest.AuthFile), registry.WithInsecureRegistry(dest.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	tgt, err := NewRegistryTarget(t.Context(), c, dest.Addr+"/m")
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("an authenticated layer")
	d := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(blob))}, Size: int64(len(blob)), MediaType: types.OCILayer}
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil }
	if n, err := tgt.PutBlob(t.Context(), "a/b", d, open); err != nil || n != int64(len(blob)) {
		t.Fatalf("PutBlob with basic auth: %d bytes, %v", n, err)
	}
	anon := mustClient(t, dest)
	atgt, err := NewRegistryTarget(t.Context(), anon, dest.Addr+"/m")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := atgt.PutBlob(t.Context(), "a/c", d, open); err == nil {
		t.Error("PutBlob without credentials succeeded against a registry requiring them")
	}
}
