package mirror

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

const iscDiskWide = `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  platform:
    channels:
    - name: stable-4.16
      minVersion: 4.16.2
      maxVersion: 4.16.3
  additionalImages:
  - name: UPSTREAM/karmab/origin-keepalived-ipfailover:latest
  operators:
  - catalog: UPSTREAM/redhat/redhat-operator-index:v4.16
    packages:
    - name: alpha-operator
      channels:
      - name: stable
    - name: gamma-operator
`

const iscDiskNarrow = `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  platform:
    channels:
    - name: stable-4.16
  operators:
  - catalog: UPSTREAM/redhat/redhat-operator-index:v4.16
    packages:
    - name: gamma-operator
`

// TestDiskNarrows: a directory filled with a wide configuration feeds a
// disk-to-mirror run with a narrower one, with the upstream and the update
// service stopped: only what the narrow one asks for is copied (the channel
// head from the saved graph, one package, a catalog rebuilt again to hold
// only it), and a configuration asking for something not held fails,
// naming it.
func TestDiskNarrows(t *testing.T) {
	const comps = 4
	l := newLab(t, comps, "4.16.2", "4.16.3")
	cat := catalogtest.Publish(t, l.upstream)
	dir := filepath.Join(t.TempDir(), "archive")
	o := l.options(MirrorToDisk, dir)
	o.Dir = dir
	rep, err := Run(t.Context(), l.isc(t, t.TempDir(), iscDiskWide), o)
	if err != nil {
		t.Fatal(err)
	}
	wide := []string{"alpha-operator.v1.2.0", "gamma-operator.v0.1.0"}
	if want := 2*(comps+1) + 1 + 1 + len(cat.Refs(wide)); !rep.Complete() || rep.Copied != want {
		t.Fatalf("mirror to disk: complete=%v, copied %d, want %d", rep.Complete(), rep.Copied, want)
	}

	// The layout's index holds the graph, for verify -c -f DIR offline.
	if recorded, err := ReadRecordedGraphs([]string{dir}); err != nil || recorded.Len() != 1 {
		t.Errorf("ReadRecordedGraphs(%s) = %d graphs, %v; want 1", dir, recorded.Len(), err)
	}
	l.upstream.Close()
	d2m := l.options(DiskToMirror, dir)
	d2m.Dir, d2m.GraphURL = dir, "http://127.0.0.1:1/graph"
	narrow := []string{"gamma-operator.v0.1.0"}
	rep, err = Run(t.Context(), l.isc(t, t.TempDir(), iscDiskNarrow), d2m)
	if err != nil {
		t.Fatal(err)
	}
	if want := comps + 1 + 1 + len(cat.Refs(narrow)); !rep.Complete() || rep.Copied != want {
		t.Errorf("disk to mirror, narrow: complete=%v, copied %d, want %d: %+v", rep.Complete(), rep.Copied, want, rep.Results)
	}
	if len(rep.Releases) != 1 || rep.Releases[0].Version != "4.16.3" {
		t.Errorf("releases = %+v, want the head 4.16.3 only", rep.Releases)
	}
	for _, r := range rep.Results {
		if strings.Contains(r.Image.Tag, "4.16.2") || strings.Contains(r.Image.Source, "karmab") {
			t.Errorf("copied %s, which the narrow configuration does not ask for", r.Image.Source)
		}
	}
	ref, err := name.ParseReference(l.dest.Addr + "/mirror/" + catalogtest.CatalogRepo + ":" + catalogtest.CatalogTag)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref, l.client.RemoteOptions(t.Context())...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := catalog.LoadIndex(t.Context(), idx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Bundles) != 1 || cfg.Bundles[0].Name != narrow[0] {
		t.Errorf("pushed catalog serves %d bundles, want only %s", len(cfg.Bundles), narrow[0])
	}

	more := strings.Replace(iscDiskNarrow, "    - name: gamma-operator\n", "    - name: gamma-operator\n    - name: beta-operator\n", 1)
	_, err = Run(t.Context(), l.isc(t, t.TempDir(), more), d2m)
	if err == nil || !strings.Contains(err.Error(), "beta-operator") {
		t.Errorf("disk to mirror asking for a package not held: %v, want an error naming it", err)
	}
}
