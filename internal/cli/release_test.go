package cli

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// releaseComponents keeps CLI test releases small.
const releaseComponents = "20"

// cliEnv isolates a command from the machine's credential files, so the
// outcome depends only on the flags.
func cliEnv(t *testing.T) {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
}

// downAddr is a loopback address nothing listens on: a mirror that is down.
func downAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// publishedRelease is a release pushed with `release publish`, and the
// mirror-set file it wrote.
type publishedRelease struct {
	mirrors string // path of the mirror-set file
	release string // canonical digest reference
	tag     string // canonical tag reference
}

// publishWithCLI pushes a 20-component release to reg, as `hcpmirror-lab
// release publish --insecure` does (the lab's own tests cover that command),
// and writes its mirror sets. The payload names quay.io; the mirror sets say
// NeverContactSource, so no test can reach quay.io.
func publishWithCLI(t *testing.T, reg *testreg.Registry) publishedRelease {
	t.Helper()
	n, err := strconv.Atoi(releaseComponents)
	if err != nil {
		t.Fatal(err)
	}
	return publishTo(t, reg, n, registry.WithInsecureRegistry(reg.Addr))
}

// publishTo publishes a release of n components to reg through a registry
// client built with opts, and writes its NeverContactSource mirror sets.
func publishTo(t *testing.T, reg *testreg.Registry, n int, opts ...registry.Option) publishedRelease {
	t.Helper()
	client, err := registry.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
		Destination: reg.Addr, Components: n, RemoteOptions: client.RemoteOptions(t.Context()),
	})
	if err != nil {
		t.Fatalf("publishing a release to %s: %v", reg.Addr, err)
	}
	out := filepath.Join(t.TempDir(), "mirrorsets.yaml")
	if err := os.WriteFile(out, []byte(publishedMirrorSets(pub, mirrorset.NeverContactSource)), 0o644); err != nil {
		t.Fatal(err)
	}
	return publishedRelease{mirrors: out, release: pub.Release, tag: pub.ReleaseTag}
}

// publishedMirrorSets is the mirror sets of pub as YAML, as `hcpmirror-lab
// release publish` writes them.
func publishedMirrorSets(pub *synthrelease.Published, policy mirrorset.Policy) string {
	b, err := pub.MirrorSetsYAML("hcpmirror-release", configv1.MirrorSourcePolicy(policy))
	if err != nil {
		panic(err) // typed objects always encode
	}
	return string(b)
}

func TestReleaseInfoCommand(t *testing.T) {
	cliEnv(t)
	reg := testreg.Start(t)
	pub := publishWithCLI(t, reg)
	// A second release without boot images or metadata, in its own
	// repositories, with its own mirror sets.
	noBoot, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
		Destination:    reg.Addr,
		Components:     3,
		Seed:           3,
		ComponentsRepo: "bare/release",
		ReleaseRepo:    "bare/release-images",
		EditManifests: func(files map[string][]byte) error {
			delete(files, release.BootImagesFile)
			delete(files, release.MetadataFile)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bareSets := filepath.Join(dir, "bare.yaml")
	if err := os.WriteFile(bareSets, []byte(publishedMirrorSets(noBoot, mirrorset.NeverContactSource)), 0o644); err != nil {
		t.Fatal(err)
	}
	down := downAddr(t)
	downSets := filepath.Join(dir, "down.yaml")
	data, err := os.ReadFile(pub.mirrors)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(downSets, []byte(strings.ReplaceAll(string(data), reg.Addr, down)), 0o644); err != nil {
		t.Fatal(err)
	}
	replace := map[string]string{reg.Addr: "MIRROR", down: "DOWN", filepath.Dir(pub.mirrors): "TMP", dir: "TMP"}
	access := []string{"--insecure-registry", reg.Addr}

	tests := []struct {
		name     string
		args     []string
		wantExit int
	}{
		{name: "by-digest", args: append([]string{"-f", pub.mirrors, pub.release}, access...)},
		{name: "by-tag-pullspecs-commits", args: append([]string{"-f", pub.mirrors, "--pullspecs", "--commits", pub.tag}, access...)},
		{name: "json", args: append([]string{"-f", pub.mirrors, "-o", "json", pub.release}, access...)},
		{name: "no-boot-images", args: append([]string{"-f", bareSets, noBoot.Release}, access...)},
		{name: "mirror-down", args: append([]string{"-f", downSets, pub.release}, "--insecure-registry", down), wantExit: 1},
		{name: "unpullable-tag", args: append([]string{"-f", bareSets, "quay.io/openshift-release-dev/ocp-v4.0-art-dev:latest"}, access...), wantExit: 1},
		{name: "bad-output", args: []string{"-f", pub.mirrors, "-o", "wide", pub.release}, wantExit: 2},
		{name: "platform-ignored", args: append([]string{"-f", pub.mirrors, "--platform", "linux/arm64", "-o", "json", pub.release}, access...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := runHcpmirror(t, append([]string{"release", "info"}, tt.args...), replace)
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			checkGolden(t, "release", "info-"+tt.name, got)
		})
	}
}

// TestLintRelease: with --release, lint reads the payload through the sets
// and checks every image a cluster will pull. The published sets cover the
// release; dropping the components entry leaves every component uncovered
// (HCM009, an error, and HCM031 from the sets alone).
func TestLintRelease(t *testing.T) {
	cliEnv(t)
	reg := testreg.Start(t)
	pub := publishWithCLI(t, reg)
	code, got := runHcpmirror(t, []string{"lint", "-f", pub.mirrors, "--release", pub.tag, "--insecure-registry", reg.Addr}, nil)
	if code != 0 || !strings.Contains(got, "0 errors") {
		t.Fatalf("lint --release on complete sets: exit %d\n%s", code, got)
	}
	data, err := os.ReadFile(pub.mirrors)
	if err != nil {
		t.Fatal(err)
	}
	// Keep only the release-image entry of the digest set.
	var kept []string
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var idms configv1.ImageDigestMirrorSet
		if err := yaml.Unmarshal([]byte(doc), &idms); err != nil {
			t.Fatal(err)
		}
		if idms.Kind == "ImageDigestMirrorSet" {
			idms.Spec.ImageDigestMirrors = slices.DeleteFunc(idms.Spec.ImageDigestMirrors, func(m configv1.ImageDigestMirrors) bool {
				return m.Source == release.CanonicalComponentRepository
			})
			b, err := manifest.EncodeYAML(&idms)
			if err != nil {
				t.Fatal(err)
			}
			doc = string(b)
		}
		kept = append(kept, doc)
	}
	partial := filepath.Join(t.TempDir(), "partial.yaml")
	if err := os.WriteFile(partial, []byte(strings.Join(kept, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, got = runHcpmirror(t, []string{"lint", "-f", partial, "--release", pub.tag, "--insecure-registry", reg.Addr}, nil)
	if code != 1 || !strings.Contains(got, "HCM009") {
		t.Fatalf("lint --release without the components entry: exit %d, want 1 with HCM009\n%s\n--- sets:\n%s", code, got, strings.Join(kept, "\n"))
	}
}

// TestCertDir: a TLS mirror is trusted through a certs.d-style directory
// (<host:port>/ca.crt), and not without it.
func TestCertDir(t *testing.T) {
	cliEnv(t)
	reg := testreg.Start(t, testreg.WithTLS())
	out := publishTo(t, reg, 5, registry.WithCAFile(reg.CAFile)).mirrors
	certs := filepath.Join(t.TempDir(), "certs.d")
	if err := os.MkdirAll(filepath.Join(certs, reg.Addr), 0o755); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(reg.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certs, reg.Addr, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	img := "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64"
	if code, got := runHcpmirror(t, []string{"release", "info", "-f", out, "--cert-dir", certs, img}, nil); code != 0 {
		t.Errorf("release info with --cert-dir: %s", got)
	}
	if code, got := runHcpmirror(t, []string{"release", "info", "-f", out, img}, nil); code == 0 || !strings.Contains(got, "tls") && !strings.Contains(got, "TLS") {
		t.Errorf("release info without a trusted CA must fail with a TLS error: exit %d\n%s", code, got)
	}
}

func TestReleaseInfoBadPlatform(t *testing.T) {
	code, got := runHcpmirror(t, []string{"release", "info", "--platform", "linux", "quay.io/a/b:1"}, nil)
	if code != 1 || !strings.Contains(got, `platform "linux": want os/architecture`) {
		t.Errorf("exit %d, want 1 naming the platform\n%s", code, got)
	}
}
