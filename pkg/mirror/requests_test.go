package mirror

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// TestColdRequests: a cold copy asks each tag once (no second HEAD after
// the up-front check) and uploads each blob in one PUT (no PATCH), the
// requests a local registry's CPU is bound by.
func TestColdRequests(t *testing.T) {
	var mu sync.Mutex
	counts := map[string]int{}
	wrap := func(next http.Handler) http.Handler {
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
			mu.Lock()
			counts[r.Method+" "+kind]++
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	l := newLabWith(t, nil, []testreg.Option{testreg.WithHandler(wrap)}, 24, "4.16.3")
	ws := t.TempDir()
	rep, err := Run(t.Context(), l.isc(t, ws, iscHead), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d images, copied %d: %v", len(rep.Results), rep.Copied, counts)
	if got := counts["HEAD manifest"]; got != len(rep.Results) {
		t.Errorf("%d manifest HEADs for %d images, want one each", got, len(rep.Results))
	}
	if got := counts["PATCH upload"]; got != 0 {
		t.Errorf("%d PATCH uploads, want every blob in one PUT", got)
	}
	if counts["PUT upload"] == 0 || counts["POST upload"] < counts["PUT upload"] || counts["HEAD blob"] < counts["PUT upload"] {
		t.Errorf("uploads: %v", counts)
	}
}
