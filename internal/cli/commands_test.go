package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	resolveSets = "testdata/resolve/sets.yaml"
	digest      = "sha256:922dd705c2e05c88dc328b7ad4651d5af053851ea6a47dc52840d1abdde3926e"
)

// TestMirrorSetCommands runs the commands that only read mirror sets, as a
// user would, against golden transcripts.
func TestMirrorSetCommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantExit int
	}{
		{"resolve-text", []string{"resolve", "-f", resolveSets,
			"quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64",
			"quay.io/openshift-release-dev/ocp-release@" + digest,
			"quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + digest,
			"busybox"}, 0},
		{"resolve-json", []string{"resolve", "-f", resolveSets, "-o", "json",
			"quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + digest, "busybox"}, 0},
		// Unpullable (blocked source, tag pull, digest-only mirrors), a rewrite
		// the runtime refuses, and a reference that does not parse: exit 1,
		// each reported in its place.
		{"resolve-failures", []string{"resolve", "-f", resolveSets, "-o", "json",
			"quay.io/openshift-release-dev/ocp-v4.0-art-dev:latest", "quay.io/a/b@" + digest, "quay.io/NS/x", "quay.io/a/b/c@" + digest}, 1},
		{"resolve-failures-text", []string{"resolve", "-f", resolveSets,
			"quay.io/openshift-release-dev/ocp-v4.0-art-dev:latest", "quay.io/a/b@" + digest}, 1},
		{"resolve-invalid-sets", []string{"resolve", "-f", "testdata/resolve/bad.yaml", "quay.io/a/b"}, 1},
		{"resolve-no-file", []string{"resolve", "-f", "testdata/resolve/missing.yaml", "quay.io/a/b"}, 1},
		{"resolve-yaml", []string{"resolve", "-f", resolveSets, "-o", "yaml", "quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + digest}, 0},
		// Usage errors: exit 2, the usage line and where to read more.
		{"resolve-bad-output", []string{"resolve", "-f", resolveSets, "-o", "wide", "quay.io/a/b"}, 2},
		{"resolve-no-reference", []string{"resolve", "-f", resolveSets}, 2},
		{"resolve-unknown-flag", []string{"resolve", "--bogus", "quay.io/a/b"}, 2},
		{"overrides-flag", []string{"overrides", "-f", resolveSets}, 0},
		{"overrides-env", []string{"overrides", "-f", resolveSets, "--format", "env"}, 0},
		{"overrides-bad-format", []string{"overrides", "-f", resolveSets, "--format", "yaml"}, 2},
		{"overrides-json", []string{"overrides", "-f", resolveSets, "-o", "json"}, 0},
		{"overrides-env-yaml", []string{"overrides", "-f", resolveSets, "--format", "env", "-o", "yaml"}, 0},
		{"sync-ics", []string{"sync-ics", "-f", resolveSets}, 0},
		{"sync-ics-json", []string{"sync-ics", "-f", resolveSets, "-o", "json"}, 0},
		{"sync-ics-text", []string{"sync-ics", "-f", resolveSets, "-o", "text"}, 2},
		// A node's registries.conf, with what runtimes would silently ignore.
		{"resolve-registries-conf", []string{"resolve", "--registries-conf", "testdata/resolve/registries.conf",
			"quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64", "registry.redhat.io/rhel9/x@" + digest, "example.com/foo/app:1"}, 0},
		// Input holding no mirror set says so; two objects of one kind and
		// name resolve as a cluster holding the last one would.
		{"resolve-empty-file", []string{"resolve", "-f", "testdata/lint/empty.yaml", "quay.io/a/b"}, 0},
		{"resolve-kind-typo", []string{"resolve", "-f", "testdata/lint/kind-typo.yaml", "quay.io/openshift-release-dev/ocp-release@" + digest}, 0},
		{"resolve-same-name", []string{"resolve", "-f", "testdata/lint/same-name", "quay.io/openshift-release-dev/ocp-release@" + digest}, 0},
		{"resolve-registries-conf-and-f", []string{"resolve", "--registries-conf", "testdata/resolve/registries.conf", "-f", resolveSets, "quay.io/a/b"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := runHcpmirror(t, tt.args, nil)
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			checkGolden(t, "resolve", tt.name, got)
		})
	}
}

// TestRender checks that `render` is one YAML stream holding the CRDs and a
// complete, least-privilege installation.
func TestRender(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Execute(context.Background(), []string{"render", "--crds", "-n", "mirrors", "--image", "registry.sample.lab:5000/hcpmirror:v1"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("render exit %d: %s", code, errOut.String())
	}
	kinds := map[string]int{}
	for _, doc := range strings.Split(out.String(), "\n---\n") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("document does not parse: %v\n%s", err, doc)
		}
		if obj.Kind == "" {
			continue
		}
		kinds[obj.Kind]++
	}
	want := map[string]int{"CustomResourceDefinition": 7, "Namespace": 1, "ServiceAccount": 1, "ClusterRole": 4, // the operator's and the three components'
		"ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1, "Deployment": 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("render has %d %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	for _, w := range []string{"image: registry.sample.lab:5000/hcpmirror:v1", "--leader-elect", "namespace: mirrors", "path: /healthz", "path: /readyz"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("render output lacks %q", w)
		}
	}
	if strings.Contains(out.String(), "- '*'") || strings.Contains(out.String(), `- "*"`) {
		t.Errorf("render grants a wildcard: least privilege means naming every resource and verb")
	}
	out.Reset()
	if code := Execute(context.Background(), []string{"render"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("render exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "CustomResourceDefinition") {
		t.Errorf("render without --crds must not print CRDs: applied over HyperShift's they would prune its fields")
	}
}

// TestResolveStdin: -f - reads the stdin the command is given.
func TestResolveStdin(t *testing.T) {
	sets := "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: a\nspec:\n  imageDigestMirrors:\n  - source: quay.io/a\n    mirrors: [m.example.com/a]\n"
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), []string{"resolve", "-f", "-", "quay.io/a/b@" + digest}, strings.NewReader(sets), &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "m.example.com/a/b@"+digest) {
		t.Errorf("resolve -f - = exit %d\n%s%s; want the mirror from stdin", code, stdout.String(), stderr.String())
	}
}

// TestInterruptedLoad: a command whose context ends while it reads a large
// input stops and says why, instead of answering.
func TestInterruptedLoad(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "---\napiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: s%d\nspec:\n  imageDigestMirrors:\n  - source: quay.io/a%d\n    mirrors: [m.example.com/a]\n", i, i)
	}
	for _, args := range [][]string{
		{"resolve", "-f", "-", "quay.io/a/b"},
		{"overrides", "-f", "-"},
		{"lint", "-f", "-"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := Execute(ctx, args, strings.NewReader(b.String()), &stdout, &stderr)
		cancel()
		if code == 0 || stdout.Len() > 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want a failure and no answer", args, code, stdout.String(), stderr.String())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v, want it to stop soon after its context ended", args, d)
		}
	}
}

// TestCompileOptionalNotesNone: verify and release info without -f say that
// they answer as a node without mirror sets, since contacting the sources is
// a surprise in a disconnected data centre.
func TestCompileOptionalNotesNone(t *testing.T) {
	var stderr bytes.Buffer
	var f setFlags
	cfg, err := f.compileOptional(&stderr)
	if cfg != nil || err != nil || !strings.Contains(stderr.String(), "no mirror sets given (-f)") {
		t.Errorf("compileOptional() = %v, %v, stderr %q; want nil, nil and a note", cfg, err, stderr.String())
	}
}

// TestSymlinkOnlyDirectory: a directory holding only a link to a directory
// reads as empty, and both the link and the emptiness are said.
func TestSymlinkOnlyDirectory(t *testing.T) {
	dir := t.TempDir()
	target, err := filepath.Abs("testdata/lint/clean")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "sets")); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	var stdout, stderr bytes.Buffer
	Execute(context.Background(), []string{"resolve", "-f", dir, "quay.io/a/b"}, strings.NewReader(""), &stdout, &stderr)
	for _, want := range []string{"skipping symbolic link to a directory", "no mirror sets found in the inputs"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q, want it to say %q", stderr.String(), want)
		}
	}
}
