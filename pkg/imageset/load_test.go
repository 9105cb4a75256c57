package imageset

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestLoad loads every testdata/*.yaml scenario and compares notes and
// errors with testdata/golden/<scenario>.txt.
func TestLoad(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			isc, notes, err := Load(f)
			var b strings.Builder
			for _, n := range notes {
				b.WriteString("note: " + n.String() + "\n")
			}
			if err != nil {
				b.WriteString("error:\n" + err.Error() + "\n")
				if isc != nil {
					t.Errorf("Load returned a configuration with an error")
				}
			} else {
				b.WriteString("ok\n")
			}
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if d := cmp.Diff(string(want), b.String()); d != "" {
				t.Errorf("Load(%s) (-want +got):\n%s", f, d)
			}
		})
	}
}

// TestLoadGuide checks what the guide's example means, field by field.
func TestLoadGuide(t *testing.T) {
	isc, _, err := Load("testdata/guide-v1alpha2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := isc.Mirror.Platform
	if got := len(p.Channels); got != 3 {
		t.Fatalf("channels = %d, want 3", got)
	}
	if c := p.Channels[2]; c.Name != "candidate-4.16" || c.MinVersion != "4.16.0-rc.2" || c.MaxVersion != "4.16.0-rc.4" || c.Type != "ocp" {
		t.Errorf("channels[2] = %+v", c)
	}
	if got := p.Archs(); len(got) != 1 || got[0] != "amd64" {
		t.Errorf("Archs() = %v, want [amd64]", got)
	}
	if got := len(isc.Mirror.Operators[0].Packages); got != 7 {
		t.Errorf("packages = %d, want 7", got)
	}
	if got := isc.Mirror.AdditionalImages[1].Name; got != "registry.redhat.io/openshift4/ose-kube-rbac-proxy:v4.10" {
		t.Errorf("additionalImages[1] = %q", got)
	}
}

// FuzzParse: the loader never panics, and whatever it accepts it accepts
// again after a JSON round trip of the result.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		isc, _, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if isc == nil {
			t.Fatal("no configuration and no error")
		}
	})
}
