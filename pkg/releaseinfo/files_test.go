package releaseinfo

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/ignition"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// TestImageFiles reads the machine-config-operator's node files through a
// mirror, for each child of its manifest list, with the source blocked and
// never dialled; the second read is cached.
func TestImageFiles(t *testing.T) {
	source := testreg.Unreachable(t)
	mirror := testreg.Start(t)
	pub := publish(t, source, publishOpts{}, mirror)
	cfg := compile(t, releaseMirrors(pub, mirrorset.NeverContactSource, mirror.Addr), nil)
	mco := pub.components["machine-config-operator"]
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			p := newProvider(t, trust(mirror), WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
			got, err := p.ImageFiles(t.Context(), cfg, mco, nil, ignition.MCOFilesDir)
			if err != nil {
				t.Fatalf("ImageFiles() = %v", err)
			}
			if want := "version=" + synthrelease.DefaultVersion + "\narch=" + arch + "\n"; string(got.Files["etc/hcpmirror/machine-config-operator"]) != want {
				t.Errorf("files = %q, want the %s child's", got.Files, arch)
			}
			if len(got.Files) != 3 || got.Platform != "linux/"+arch || !strings.HasPrefix(got.ServedBy, mirror.Addr+"/") {
				t.Errorf("ImageFiles() = %d files, platform %s, served by %s", len(got.Files), got.Platform, got.ServedBy)
			}
			before := mirror.Requests()
			if _, err := p.ImageFiles(t.Context(), cfg, mco, nil, "/"+ignition.MCOFilesDir); err != nil {
				t.Fatal(err)
			}
			if n := mirror.Requests() - before; n != 0 {
				t.Errorf("a cached read made %d requests", n)
			}
		})
	}
	t.Run("blocked without a mirror", func(t *testing.T) {
		blocked, _, err := mirrorset.ParseRegistriesConf([]byte("[[registry]]\nlocation = \"" + source + "\"\nblocked = true\n"))
		if err != nil {
			t.Fatal(err)
		}
		p := newProvider(t, trust(mirror))
		_, err = p.ImageFiles(t.Context(), blocked, mco, nil, ignition.MCOFilesDir)
		var ue *UnpullableError
		if !errors.As(err, &ue) {
			t.Fatalf("ImageFiles() = %v, want an *UnpullableError", err)
		}
	})
}
