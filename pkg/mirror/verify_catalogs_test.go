package mirror

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// TestVerifyCatalogsDisconnected mirrors two packages of a catalog, then
// denies the upstream registry and runs verify -c as it runs inside a
// disconnected data centre: with the workspace's cluster resources the
// catalog is read from its CatalogSource's image, with mirror sets alone
// through them, and the upstream is never contacted; a bundle deleted from
// the destination fails naming it; with no copy readable the failure
// names every place tried.
func TestVerifyCatalogsDisconnected(t *testing.T) {
	deny := &testreg.Switch{}
	l := newLabWith(t, []testreg.Option{testreg.WithHandler(deny.Wrap)}, nil, 2, "4.16.3")
	cat := catalogtest.Publish(t, l.upstream)
	ws := t.TempDir()
	body := iscOperators + "    - name: gamma-operator\n"
	rep, err := Run(t.Context(), l.isc(t, ws, body), l.options(MirrorToMirror, ws))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete() {
		t.Fatalf("mirror run not complete: %+v", rep.Results)
	}
	kept := []string{"alpha-operator.v1.2.0", "gamma-operator.v0.1.0"}
	loaded, err := mirrorset.Load(t.Context(), nil, ws)
	if err != nil {
		t.Fatal(err)
	}
	cats, _ := CatalogObjects(loaded.Others)
	if len(cats) != 2 {
		t.Fatalf("CatalogObjects(workspace) = %+v, want its CatalogSource and ClusterCatalog", cats)
	}
	onlySets, err := mirrorset.Compile(loaded.Sets)
	if err != nil {
		t.Fatal(err)
	}
	// Mirror sets that also cover the catalog (as users write for the
	// catalog, or oc-mirror v1's namespace-scoped sets do): the mirror
	// holds the rebuilt catalog under the catalog's tag.
	catalogSource := l.upstream.Addr + "/" + catalogtest.CatalogRepo
	catalogMirror := l.dest.Addr + "/mirror/" + catalogtest.CatalogRepo
	withCatalog, err := mirrorset.Compile(append(loaded.Sets, mirrorset.Set{Kind: mirrorset.KindITMS, Name: "catalog",
		Entries: []mirrorset.Entry{{Source: catalogSource, Mirrors: []string{catalogMirror}}}}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := releaseinfo.New(releaseinfo.WithClient(l.client))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, cfg *mirrorset.Config, cats []CatalogObject, isc string) *ImageSetReport {
		t.Helper()
		vr, err := VerifyImageSet(t.Context(), p, l.client, cfg, l.isc(t, ws, isc), VerifyImageSetOptions{GraphURL: l.graphURL, Catalogs: cats})
		if err != nil {
			t.Fatal(err)
		}
		return vr
	}
	missing := func(vr *ImageSetReport) string {
		var s []string
		for _, c := range vr.Missing() {
			s = append(s, c.Name+": "+c.Err.Error())
		}
		return strings.Join(s, "\n")
	}

	// Connected, no CatalogSource, no mirror set for the catalog: the
	// upstream catalog is read and filtered as the mirror run filtered it,
	// and flagged, since a disconnected cluster could not read it.
	vr := verify(t, onlySets, nil, body)
	if cr := vr.Catalogs[0]; len(cr.Read) != 1 || cr.Read[0].Copy != CopySource || !cr.Filtered || cr.Bundles != len(kept) {
		t.Errorf("upstream catalog read as %+v, want from its source, filtered to %d bundles", cr, len(kept))
	}
	if u := vr.Unmirrored(); len(vr.Missing()) != 0 || len(u) != 1 || u[0].Kind != CheckCatalog {
		t.Errorf("missing:\n%s\nunmirrored %+v; want only the catalog flagged HCM009", missing(vr), u)
	}

	deny.Set(testreg.DropConnections(-1))
	denied := l.upstream.Requests()
	for _, tc := range []struct {
		name     string
		cfg      *mirrorset.Config
		cats     []CatalogObject
		from     CatalogCopy
		servedBy string
	}{
		{"cluster resources", onlySets, cats, CopyCatalogSource, catalogMirror + "@sha256:"},
		{"mirror sets only", withCatalog, nil, CopyMirror, catalogMirror + ":" + catalogtest.CatalogTag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vr := verify(t, tc.cfg, tc.cats, body)
			if !vr.OK() {
				t.Errorf("verify -c not OK:\n%s", missing(vr))
			}
			if len(vr.Catalogs) != 1 || len(vr.Catalogs[0].Read) != 1 {
				t.Fatalf("catalogs = %+v, want one read", vr.Catalogs)
			}
			cr := vr.Catalogs[0]
			if r := cr.Read[0]; r.Copy != tc.from || !strings.HasPrefix(r.ServedBy, tc.servedBy) || len(cr.Failed) != 0 {
				t.Errorf("catalog read from %s at %s (failed %+v), want %s at %s…", r.Copy, r.ServedBy, cr.Failed, tc.from, tc.servedBy)
			}
			// The rebuilt catalog holds what was kept: all of it is
			// listed, the filter is not applied again.
			if cr.Filtered || cr.Bundles != len(kept) {
				t.Errorf("filtered %v, %d bundles; want every one of the rebuilt catalog's %d", cr.Filtered, cr.Bundles, len(kept))
			}
			operands := 0
			for _, c := range vr.Checks {
				if c.Kind == CheckOperator {
					operands++
					if !strings.HasPrefix(c.ServedBy, l.dest.Addr+"/mirror/") {
						t.Errorf("%s served by %q, not the mirror", c.Name, c.ServedBy)
					}
				}
			}
			if want := len(cat.Refs(kept)); operands != want {
				t.Errorf("%d bundle and related image checks, want %d", operands, want)
			}
			if n := l.upstream.Requests() - denied; n != 0 {
				t.Errorf("the upstream was contacted %d times", n)
			}
		})
	}

	t.Run("package the rebuilt catalog lacks", func(t *testing.T) {
		vr := verify(t, onlySets, cats, body+"    - name: beta-operator\n")
		m := vr.Missing()
		if len(m) != 1 || m[0].Kind != CheckCatalog || !strings.Contains(m[0].Err.Error(), "package beta-operator is not in the catalog") {
			t.Errorf("missing:\n%s\nwant only the beta-operator package", missing(vr))
		}
	})

	opts := l.client.RemoteOptions(t.Context())
	del := func(t *testing.T, ref string) {
		t.Helper()
		r, err := name.ParseReference(ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Delete(r, opts...); err != nil {
			t.Fatalf("deleting %s: %v", ref, err)
		}
	}
	t.Run("bundle deleted from the destination", func(t *testing.T) {
		bundle := cat.BundleImages["gamma-operator.v0.1.0"][0]
		del(t, l.dest.Addr+"/mirror/"+strings.TrimPrefix(bundle, l.upstream.Addr+"/"))
		vr := verify(t, onlySets, cats, body)
		m := vr.Missing()
		if len(m) != 1 || m[0].Kind != CheckOperator || m[0].Name != "bundle gamma-operator/gamma-operator.v0.1.0" || m[0].Image != bundle {
			t.Errorf("missing:\n%s\nwant only the gamma-operator bundle, named", missing(vr))
		}
	})

	t.Run("nothing readable", func(t *testing.T) {
		del(t, cats[0].Image)
		vr := verify(t, withCatalog, cats, body)
		cr := vr.Catalogs[0]
		if vr.OK() || len(cr.Read) != 0 || len(cr.Failed) != 2 {
			t.Fatalf("OK=%v, catalog read %+v, failed %+v; want nothing read, two places failed", vr.OK(), cr.Read, cr.Failed)
		}
		if f := cr.Failed[0]; f.Copy != CopyCatalogSource || len(f.Objects) != 2 || f.Image != cats[0].Image || !strings.Contains(f.Err.Error(), "not found") {
			t.Errorf("first place = %+v, want the CatalogSource's (and ClusterCatalog's) image, not found", f)
		}
		f := cr.Failed[1]
		if f.Copy != CopyMirror || len(f.PullSources) != 2 {
			t.Fatalf("second place = %+v, want the catalog through its mirror, then its source", f)
		}
		for _, want := range []string{catalogMirror + ":" + catalogtest.CatalogTag + ": not found", l.upstream.Addr + "/" + catalogtest.CatalogRepo + ":" + catalogtest.CatalogTag + ": unreachable"} {
			if !strings.Contains(f.Err.Error(), want) {
				t.Errorf("second place's error %q lacks %q", f.Err, want)
			}
		}
		var catalogChecks int
		for _, c := range vr.Missing() {
			if c.Kind == CheckCatalog {
				catalogChecks++
			}
			if c.Kind == CheckOperator {
				t.Errorf("bundle check %s without a catalog read", c.Name)
			}
		}
		if catalogChecks != 2 {
			t.Errorf("missing:\n%s\nwant one failed check per place", missing(vr))
		}
		// Mirror sets only, covering nothing of the catalog: its source
		// alone is tried.
		vr = verify(t, onlySets, nil, body)
		cr = vr.Catalogs[0]
		if len(cr.Failed) != 1 || cr.Failed[0].Copy != CopySource || !strings.Contains(cr.Failed[0].Err.Error(), "unreachable") {
			t.Errorf("failed = %+v, want the source, unreachable", cr.Failed)
		}
	})
}
