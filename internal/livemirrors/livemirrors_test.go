package livemirrors

import (
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

func registriesCM(rv, conf string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: hostedcluster.RegistriesConfigMap, ResourceVersion: rv},
		Data: map[string]string{hostedcluster.RegistriesConfKey: conf}}
}

// TestRefresh walks the ConfigMap through its states: absent (the
// environment's overrides), present, unchanged (no new generation),
// unparsable (an error, no configuration), deleted.
func TestRefresh(t *testing.T) {
	m, err := New("quay.io/a=env.local/a", []string{"quay.io/b=flag.local/b"}, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if cfg, gen, err := m.Get(); cfg != nil || gen != 0 || err != nil {
		t.Fatalf("before a refresh: %v %d %v", cfg, gen, err)
	}
	set, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindIDMS, Name: "x", Entries: []mirrorset.Entry{{Source: "quay.io/c", Mirrors: []string{"cm.local/c"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	good := string(set.RegistriesConf())
	steps := []struct {
		name      string
		cm        *corev1.ConfigMap
		changed   bool
		wantFirst string // first pull source of quay.io/<repo>@digest
		repo      string
		wantErr   bool
	}{
		{"absent: environment", nil, true, "env.local/a", "a", false},
		{"absent again", nil, false, "flag.local/b", "b", false},
		{"present", registriesCM("1", good), true, "cm.local/c", "c", false},
		{"same resourceVersion", registriesCM("1", good), false, "cm.local/c", "c", false},
		{"does not parse", registriesCM("2", "[[registry]\nlocation = "), true, "", "", true},
		{"deleted", nil, true, "env.local/a", "a", false},
	}
	var lastGen uint64
	for _, s := range steps {
		if got := m.Refresh(func() *corev1.ConfigMap { return s.cm }); got != s.changed {
			t.Errorf("%s: Refresh = %v, want %v", s.name, got, s.changed)
		}
		cfg, gen, err := m.Get()
		if (gen != lastGen) != s.changed {
			t.Errorf("%s: generation %d after %d, changed %v", s.name, gen, lastGen, s.changed)
		}
		lastGen = gen
		if (err != nil) != s.wantErr {
			t.Errorf("%s: error %v, want error %v", s.name, err, s.wantErr)
		}
		if s.wantErr {
			continue
		}
		res, err := cfg.Resolve("quay.io/" + s.repo + "@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		if err != nil {
			t.Fatal(err)
		}
		if refs := res.References(); len(refs) == 0 || refs[0] != s.wantFirst+"@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
			t.Errorf("%s: pull sources %v, want %s first", s.name, refs, s.wantFirst)
		}
	}
}
