package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// componentDigest reads a component's digest from `release info -o json`.
func componentDigest(t *testing.T, pub publishedRelease, access []string, name string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{"release", "info", "-o", "json", "-f", pub.mirrors, pub.release}, access...)
	if code := Execute(context.Background(), args, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("release info: exit %d: %s", code, stderr.String())
	}
	var info releaseInfo
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	for _, c := range info.Components {
		if c.Name == name {
			_, d, _ := strings.Cut(c.Image, "@")
			return d
		}
	}
	t.Fatalf("no component %s", name)
	return ""
}

func TestVerifyCommand(t *testing.T) {
	cliEnv(t)
	var faults testreg.Switch
	reg := testreg.Start(t, testreg.WithHandler(faults.Wrap))
	pub := publishWithCLI(t, reg)
	access := []string{"--insecure-registry", reg.Addr}
	down := downAddr(t)
	dir := t.TempDir()
	downSets := filepath.Join(dir, "down.yaml")
	data, err := os.ReadFile(pub.mirrors)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(downSets, []byte(strings.ReplaceAll(string(data), reg.Addr, down)), 0o644); err != nil {
		t.Fatal(err)
	}
	replace := map[string]string{reg.Addr: "MIRROR", down: "DOWN", filepath.Dir(pub.mirrors): "TMP", dir: "TMP"}
	etcd := componentDigest(t, pub, access, "etcd")
	lackEtcd := testreg.When(func(r *http.Request) bool {
		return testreg.ManifestRequests(r) && strings.HasSuffix(r.URL.Path, "/"+etcd)
	}, testreg.Respond(-1, http.StatusNotFound, nil))

	lackComponents := testreg.When(func(r *http.Request) bool {
		return strings.Contains(r.URL.Path, "/v2/openshift/release/manifests/")
	}, testreg.Respond(-1, http.StatusNotFound, nil))

	tests := []struct {
		name     string
		args     []string
		fault    testreg.Middleware
		wantExit int
	}{
		{name: "many-missing", args: append([]string{"-f", pub.mirrors, "--release", pub.release}, access...), fault: lackComponents, wantExit: 1},
		{name: "many-missing-quiet", args: append([]string{"-f", pub.mirrors, "--release", pub.release, "-q"}, access...), fault: lackComponents, wantExit: 1},
		{name: "all-reachable", args: append([]string{"-f", pub.mirrors, "--release", pub.release}, access...)},
		{name: "all-reachable-by-tag-quiet", args: append([]string{"-f", pub.mirrors, "--release", pub.tag, "-q"}, access...)},
		{name: "missing-component", args: append([]string{"-f", pub.mirrors, "--release", pub.release, "--concurrency", "4"}, access...), fault: lackEtcd, wantExit: 1},
		{name: "missing-component-quiet", args: append([]string{"-f", pub.mirrors, "--release", pub.release, "-q"}, access...), fault: lackEtcd, wantExit: 1},
		{name: "missing-component-json", args: append([]string{"-f", pub.mirrors, "--release", pub.release, "-o", "json"}, access...), fault: lackEtcd, wantExit: 1},
		{name: "release-unreachable", args: []string{"-f", downSets, "--release", pub.release, "--insecure-registry", down}, wantExit: 1},
		{name: "no-release", args: []string{"-f", pub.mirrors}, wantExit: 2},
		{name: "bad-concurrency", args: []string{"-f", pub.mirrors, "--release", pub.release, "--concurrency", "0"}, wantExit: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faults.Set(tt.fault)
			defer faults.Set(nil)
			code, got := runHcpmirror(t, append([]string{"verify"}, tt.args...), replace)
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			checkGolden(t, "verify", tt.name, got)
		})
	}
}

// TestVerifyNeverContactsBlockedSource runs verify on a payload whose
// canonical names point at a source that must never be dialled; with
// NeverContactSource and a mirror missing one component, the source still
// gets no connection, and verify names the component and the source.
func TestVerifyNeverContactsBlockedSource(t *testing.T) {
	cliEnv(t)
	source := testreg.Unreachable(t)
	var faults testreg.Switch
	reg := testreg.Start(t, testreg.WithHandler(faults.Wrap))
	pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
		Destination: reg.Addr,
		Components:  5,
		EditManifests: func(files map[string][]byte) error {
			for _, f := range []string{release.ImageReferencesFile, release.BootImagesFile} {
				files[f] = []byte(strings.ReplaceAll(string(files[f]), "quay.io/", source+"/"))
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, etcd, _ := strings.Cut(pub.Components["etcd"], "@")
	faults.Set(testreg.When(func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/manifests/"+etcd) },
		testreg.Respond(-1, http.StatusNotFound, nil)))
	sets := strings.ReplaceAll(publishedMirrorSets(pub, "NeverContactSource"), "quay.io/", source+"/")
	setsFile := filepath.Join(t.TempDir(), "sets.yaml")
	if err := os.WriteFile(setsFile, []byte(sets), 0o644); err != nil {
		t.Fatal(err)
	}
	relRef := strings.Replace(pub.Release, "quay.io/", source+"/", 1)

	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), []string{"verify", "-f", setsFile, "--insecure-registry", reg.Addr, "--release", relRef},
		strings.NewReader(""), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit status = %d, want 1\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"MISSING component etcd",
		"source: " + source + "/openshift-release-dev/ocp-v4.0-art-dev (NeverContactSource: never contacted)",
		reg.Addr + "/openshift/release@" + etcd + ": not found",
		"6 reachable, 1 missing",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output does not contain %q:\n%s", want, stdout.String())
		}
	}
}

// TestVerifyCommandFlags covers the findings verify adds: a component
// referenced by tag whose source has digest mirrors only (HCM017) and a
// KubeVirt boot image no mirror set covers (HCM030). The tag pull has no
// pull source at all (NeverContactSource), so nothing reaches quay.io.
func TestVerifyCommandFlags(t *testing.T) {
	cliEnv(t)
	reg := testreg.Start(t)
	elsewhere := testreg.Start(t)
	pub, err := synthrelease.Publish(t.Context(), synthrelease.PublishOptions{
		Destination: reg.Addr,
		Components:  3,
		EditManifests: func(files map[string][]byte) error {
			var refs release.ImageReferences
			if err := json.Unmarshal(files[release.ImageReferencesFile], &refs); err != nil {
				return err
			}
			for i := range refs.Spec.Tags {
				if refs.Spec.Tags[i].Name == "hyperkube" {
					refs.Spec.Tags[i].From.Name = release.CanonicalComponentRepository + ":4.16.3-hyperkube"
				}
			}
			b, err := json.Marshal(refs)
			files[release.ImageReferencesFile] = b
			files[release.BootImagesFile] = []byte(strings.Replace(string(files[release.BootImagesFile]),
				`"digest-ref": "`+release.CanonicalComponentRepository, `"digest-ref": "`+elsewhere.Addr+"/rhcos/kubevirt", 1))
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sets := filepath.Join(dir, "sets.yaml")
	if err := os.WriteFile(sets, []byte(publishedMirrorSets(pub, "NeverContactSource")), 0o644); err != nil {
		t.Fatal(err)
	}
	// The payload names ELSEWHERE's random port, so the release digest
	// changes from run to run.
	_, relDigest, _ := strings.Cut(pub.Release, "@")
	replace := map[string]string{reg.Addr: "MIRROR", elsewhere.Addr: "ELSEWHERE", dir: "TMP", relDigest: "sha256:RELEASE-DIGEST"}
	code, got := runHcpmirror(t, []string{"verify", "-f", sets, "--release", pub.Release,
		"--insecure-registry", reg.Addr, "--insecure-registry", elsewhere.Addr}, replace)
	if code != 1 {
		t.Errorf("exit status = %d, want 1\n%s", code, got)
	}
	checkGolden(t, "verify", "flagged", got)
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	bar := &progressBar{w: &buf}
	bar.update(0, 192)
	bar.update(96, 192)
	bar.clear()
	want := "\rverifying [" + strings.Repeat(" ", 30) + "] 0/192" +
		"\rverifying [" + strings.Repeat("#", 15) + strings.Repeat(" ", 15) + "] 96/192" +
		"\r\033[K"
	if got := buf.String(); got != want {
		t.Errorf("progress output = %q, want %q", got, want)
	}
	var none *progressBar
	none.reading(nil, "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64")
	none.clear() // not a terminal: nothing drawn, nothing to clear
	buf.Reset()
	bar = &progressBar{w: &buf}
	bar.reading(nil, "quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64")
	bar.update(1, 2)
	want = "\rreading release image from quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64" +
		"\r\033[K\rverifying [" + strings.Repeat("#", 15) + strings.Repeat(" ", 15) + "] 1/2"
	if got := buf.String(); got != want {
		t.Errorf("progress output after reading = %q, want %q", got, want)
	}
	if isTerminal(&buf) {
		t.Error("isTerminal(buffer) = true")
	}
}
