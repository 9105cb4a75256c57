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
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// TestVerifyImageSetCatalogs mirrors a catalog with the command, stops the
// upstream, and runs verify -c against the workspace as it runs in a
// disconnected data centre: the catalog is read from the CatalogSource's
// image and the report says so (text and json); with the rebuilt catalog
// gone every place tried is named and the exit status is 1; Ctrl-C while
// reading stops it as interrupted.
func TestVerifyImageSetCatalogs(t *testing.T) {
	hold := &testreg.Switch{}
	up, dest := testreg.Start(t), testreg.Start(t, testreg.WithHandler(hold.Wrap))
	catalogtest.Publish(t, up)
	dir := t.TempDir()
	isc := filepath.Join(dir, "isc.yaml")
	if err := os.WriteFile(isc, []byte(`apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  operators:
  - catalog: `+up.Addr+"/"+catalogtest.CatalogRepo+":"+catalogtest.CatalogTag+`
    packages:
    - name: gamma-operator
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(dir, "ws")
	access := []string{"--insecure-registry", up.Addr, "--insecure-registry", dest.Addr}
	if code, out := runHcpmirror(t, append([]string{"mirror", "-c", isc, "--workspace", ws, "-q", "docker://" + dest.Addr + "/m"}, access...), nil); code != 0 {
		t.Fatalf("mirror: exit %d\n%s", code, out)
	}
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	verify := append([]string{"verify", "-c", isc, "-f", ws}, access...)
	mirrored := dest.Addr + "/m/" + catalogtest.CatalogRepo + "@sha256:"

	code, out := runHcpmirror(t, verify, nil)
	for _, want := range []string{
		"Catalog " + up.Addr + "/" + catalogtest.CatalogRepo + ":" + catalogtest.CatalogTag + " (mirror.operators[0])",
		"read from the CatalogSource's image: " + mirrored,
		`CatalogSource "cs-redhat-operator-index-v4-16"`,
		"1 bundle: the only one this copy offers to OLM",
		"Checked 4 images (1 catalog, 3 bundle and related images): 4 reachable, 0 missing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify -c output lacks %q\n%s", want, out)
		}
	}
	if code != 0 || strings.Contains(out, "skipping") {
		t.Errorf("verify -c with the upstream stopped: exit %d (want 0, no CatalogSource skipped)\n%s", code, out)
	}

	code, out = runHcpmirror(t, append(verify, "-o", "json"), nil)
	var res verifyResult
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):strings.LastIndex(out, "}")+1]), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if code != 0 || len(res.Catalogs) != 1 || res.Catalogs[0].ReadFrom != "catalogSource" || !strings.HasPrefix(res.Catalogs[0].Read[0].ServedBy, mirrored) {
		t.Errorf("-o json: exit %d, catalogs %+v", code, res.Catalogs)
	}

	// Ctrl-C while the catalog is being read: interrupted, not a success.
	hold.Set(testreg.Hold(make(chan struct{})))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		var o, e bytes.Buffer
		done <- Execute(ctx, verify, strings.NewReader(""), &o, &e)
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != 130 {
			t.Errorf("interrupted verify -c: exit %d, want 130", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("verify -c did not stop within 10s of the interrupt")
	}
	hold.Set(nil)

	// The rebuilt catalog gone from the mirror: nothing readable.
	r, err := name.ParseReference(res.Catalogs[0].Read[0].ServedBy, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(r); err != nil {
		t.Fatal(err)
	}
	code, out = runHcpmirror(t, verify, nil)
	for _, want := range []string{
		"not read: no copy could be read, so no bundle was checked (details below); tried:",
		`the CatalogSource's image (` + ws,
		"not found",
		"the catalog at its source (no mirror set covers it) " + up.Addr + "/" + catalogtest.CatalogRepo + ":" + catalogtest.CatalogTag + "\n",
		"      " + up.Addr + "/" + catalogtest.CatalogRepo + ":" + catalogtest.CatalogTag + ": unreachable\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify -c with no copy readable: output lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("verify -c with no copy readable: exit %d, want 1\n%s", code, out)
	}
}
