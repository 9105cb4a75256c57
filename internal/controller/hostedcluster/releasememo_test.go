package hostedcluster

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

func TestReleaseMemo(t *testing.T) {
	cfg := func(mirror string) *mirrorset.Config {
		c, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindITMS, Name: "x", Entries: []mirrorset.Entry{
			{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{mirror}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	hc := &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{UID: "u", Generation: 1},
		Spec: hypershiftv1beta1.HostedClusterSpec{Release: hypershiftv1beta1.Release{Image: "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"}}}
	nudged := hc.DeepCopy()
	nudged.Annotations = map[string]string{"nudge": "1"}
	edited := hc.DeepCopy()
	edited.Generation = 2
	statusOnly := hc.DeepCopy()
	statusOnly.ResourceVersion = "99"
	rel := &Release{Version: "4.16.3"}
	t0 := time.Unix(1000, 0)

	tests := []struct {
		name string
		hc   *hypershiftv1beta1.HostedCluster
		cfg  *mirrorset.Config
		at   time.Time
		hit  bool
	}{
		{"same cluster, same sources", hc, cfg("m1.lab/r"), t0.Add(time.Second), true},
		{"status changed only", statusOnly, cfg("m1.lab/r"), t0.Add(time.Second), true},
		{"an edit of an unrelated source", hc, mustAdd(t, "m1.lab/r"), t0.Add(time.Second), true},
		{"release pulled from elsewhere", hc, cfg("m2.lab/r"), t0.Add(time.Second), false},
		{"spec changed", edited, cfg("m1.lab/r"), t0.Add(time.Second), false},
		{"annotations changed", nudged, cfg("m1.lab/r"), t0.Add(time.Second), false},
		{"too old", hc, cfg("m1.lab/r"), t0.Add(releaseMemoTTL + time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m releaseMemo
			m.put(hc.UID, memoKey(hc, cfg("m1.lab/r")), rel, t0)
			if got := m.get(tt.hc.UID, memoKey(tt.hc, tt.cfg), tt.at) != nil; got != tt.hit {
				t.Errorf("memo hit = %v, want %v", got, tt.hit)
			}
		})
	}
}

// mustAdd is the release mirror set plus an entry for another source.
func mustAdd(t *testing.T, mirror string) *mirrorset.Config {
	c, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindITMS, Name: "x", Entries: []mirrorset.Entry{
		{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{mirror}},
		{Source: "quay.io/other", Mirrors: []string{"m9.lab/other"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
