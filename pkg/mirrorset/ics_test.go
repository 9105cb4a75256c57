package mirrorset

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestImageContentSources(t *testing.T) {
	cfg, err := Compile([]Set{
		idms("art", ncs(rr+"/ocp-v4.0-art-dev", "m.example.com/art")),
		idms("rel", ent(rr+"/ocp-release", "m2.example.com/rel", "m1.example.com/rel")),
		itms("rel", ent(rr+"/ocp-release", "t.example.com/rel")),
		itms("tags-only", ent("quay.io/tags", "t.example.com/tags")),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.ImageContentSources()
	want := []Entry{
		{Source: rr + "/ocp-release", Mirrors: []string{"m2.example.com/rel", "m1.example.com/rel"}},
		{Source: rr + "/ocp-v4.0-art-dev", Mirrors: []string{"m.example.com/art"}},
	}
	if diff := cmp.Diff(want, got.Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	lost := strings.Join(got.Lost, "\n")
	for _, w := range []string{rr + "/ocp-v4.0-art-dev: NeverContactSource", rr + "/ocp-release: tag mirrors", "quay.io/tags: tag mirrors"} {
		if !strings.Contains(lost, w) {
			t.Errorf("Lost lacks %q:\n%s", w, lost)
		}
	}
	// The derived list, read back as a HostedCluster's sets, gives guest
	// nodes the management answer for every digest pull.
	back, err := Compile([]Set{{Kind: KindImageContentSources, Name: "hc", Entries: got.Entries}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{rr + "/ocp-release@" + dg} {
		a, _ := cfg.Resolve(ref)
		b, _ := back.Resolve(ref)
		if diff := cmp.Diff(a.References(), b.References()); diff != "" {
			t.Errorf("%s: management and derived imageContentSources disagree (-mgmt +ics):\n%s", ref, diff)
		}
	}
}
