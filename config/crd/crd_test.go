package crd

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	imagev1 "github.com/hcpmirror/hcpmirror/api/image/v1"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
)

// TestGenerated regenerates the CRDs and deepcopy functions from the types in
// a scratch copy of the module and compares them with the checked-in files,
// so a type change without `make generate` fails here rather than on a
// cluster.
func TestGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs controller-gen; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	root := moduleRoot(t, goBin)

	// controller-gen writes deepcopy files next to the types, so it runs on a
	// copy: the checkout is never modified by a test.
	work := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "hack/boilerplate.go.txt"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(work, f))
	}
	copyTree(t, filepath.Join(root, "api"), filepath.Join(work, "api"), func(name string) bool {
		// Old output is left out so that a deepcopy file for a deleted
		// package or type shows up as stale.
		return name != "zz_generated.deepcopy.go"
	})
	crdOut := filepath.Join(t.TempDir(), "crd")

	cmd := exec.Command(goBin, "tool", "controller-gen",
		"object:headerFile=hack/boilerplate.go.txt",
		"crd",
		"paths=./api/...",
		"output:crd:artifacts:config="+crdOut,
	)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}

	t.Run("crds", func(t *testing.T) {
		compareTrees(t, "CRDs are stale: run make generate",
			filepath.Join(root, "config", "crd"), crdOut,
			func(name string) bool { return strings.HasSuffix(name, ".yaml") })
	})
	t.Run("deepcopy", func(t *testing.T) {
		compareTrees(t, "deepcopy functions are stale: run make generate",
			filepath.Join(root, "api"), filepath.Join(work, "api"),
			func(name string) bool { return name == "zz_generated.deepcopy.go" })
	})
}

// TestDefinitions checks the embedded CRDs against the names OpenShift and
// HyperShift serve, since a typo in a group, plural or scope would make our
// CRD a different resource from theirs.
func TestDefinitions(t *testing.T) {
	type want struct {
		group, version, kind, plural string
		shortNames                   []string
		scope                        apiextensionsv1.ResourceScope
	}
	wants := map[string]want{
		"imagecontentsourcepolicies.operator.openshift.io": {
			"operator.openshift.io", "v1alpha1", "ImageContentSourcePolicy", "imagecontentsourcepolicies",
			nil, apiextensionsv1.ClusterScoped,
		},
		"imagedigestmirrorsets.config.openshift.io": {
			"config.openshift.io", "v1", "ImageDigestMirrorSet", "imagedigestmirrorsets",
			[]string{"idms"}, apiextensionsv1.ClusterScoped,
		},
		"imagetagmirrorsets.config.openshift.io": {
			"config.openshift.io", "v1", "ImageTagMirrorSet", "imagetagmirrorsets",
			[]string{"itms"}, apiextensionsv1.ClusterScoped,
		},
		"hostedclusters.hypershift.openshift.io": {
			"hypershift.openshift.io", "v1beta1", "HostedCluster", "hostedclusters",
			[]string{"hc", "hcs"}, apiextensionsv1.NamespaceScoped,
		},
		"hostedcontrolplanes.hypershift.openshift.io": {
			"hypershift.openshift.io", "v1beta1", "HostedControlPlane", "hostedcontrolplanes",
			[]string{"hcp", "hcps"}, apiextensionsv1.NamespaceScoped,
		},
		"imagestreams.image.openshift.io": {
			"image.openshift.io", "v1", "ImageStream", "imagestreams",
			[]string{"is"}, apiextensionsv1.NamespaceScoped,
		},
		"nodepools.hypershift.openshift.io": {
			"hypershift.openshift.io", "v1beta1", "NodePool", "nodepools",
			[]string{"np", "nps"}, apiextensionsv1.NamespaceScoped,
		},
	}

	defs, err := Definitions()
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != len(CRDs()) {
		t.Fatalf("Definitions() returned %d CRDs, CRDs() %d", len(defs), len(CRDs()))
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		configv1.AddToScheme, operatorv1alpha1.AddToScheme, hypershiftv1beta1.AddToScheme, imagev1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}

	var got []string
	for _, d := range defs {
		got = append(got, d.Name)
		w, ok := wants[d.Name]
		if !ok {
			t.Errorf("unexpected CRD %s", d.Name)
			continue
		}
		if d.Spec.Group != w.group || d.Spec.Names.Kind != w.kind || d.Spec.Names.Plural != w.plural ||
			d.Spec.Scope != w.scope || !slices.Equal(d.Spec.Names.ShortNames, w.shortNames) {
			t.Errorf("CRD %s: group %s kind %s plural %s scope %s shortNames %v, want %s %s %s %s %v",
				d.Name, d.Spec.Group, d.Spec.Names.Kind, d.Spec.Names.Plural, d.Spec.Scope, d.Spec.Names.ShortNames,
				w.group, w.kind, w.plural, w.scope, w.shortNames)
		}
		if len(d.Spec.Versions) != 1 || d.Spec.Versions[0].Name != w.version {
			t.Errorf("CRD %s: versions %v, want only %s", d.Name, d.Spec.Versions, w.version)
		}
		for _, kind := range []string{w.kind, w.kind + "List"} {
			gvk := schema.GroupVersionKind{Group: w.group, Version: w.version, Kind: kind}
			if !scheme.Recognizes(gvk) {
				t.Errorf("%s is not registered by the api packages' AddToScheme", gvk)
			}
		}
	}
	for name := range wants {
		if !slices.Contains(got, name) {
			t.Errorf("CRD %s is missing", name)
		}
	}
}

// TestPatterns checks that the kubebuilder markers on the mirror-set types
// carry the same regular expressions as the Go constants that hcpmirror uses
// to validate kinds without a schema, and that ICSP stays unvalidated.
func TestPatterns(t *testing.T) {
	defs, err := Definitions()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, d := range defs {
		byName[d.Name] = d
	}
	for _, tt := range []struct{ crd, list string }{
		{"imagedigestmirrorsets.config.openshift.io", "imageDigestMirrors"},
		{"imagetagmirrorsets.config.openshift.io", "imageTagMirrors"},
	} {
		t.Run(tt.list, func(t *testing.T) {
			d := byName[tt.crd]
			if d == nil {
				t.Fatalf("CRD %s is missing", tt.crd)
			}
			entry := d.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties[tt.list].Items.Schema
			if got := entry.Properties["source"].Pattern; got != configv1.SourcePattern {
				t.Errorf("source pattern = %s\nwant %s", got, configv1.SourcePattern)
			}
			if got := entry.Properties["mirrors"].Items.Schema.Pattern; got != configv1.MirrorPattern {
				t.Errorf("mirrors pattern = %s\nwant %s", got, configv1.MirrorPattern)
			}
		})
	}
	t.Run("repositoryDigestMirrors", func(t *testing.T) {
		b, err := fs.ReadFile(files, "operator.openshift.io_imagecontentsourcepolicies.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("pattern:")) {
			t.Error("ImageContentSourcePolicy CRD has a pattern; upstream validates nothing")
		}
	})
}

func moduleRoot(t *testing.T, goBin string) string {
	t.Helper()
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside a Go module")
	}
	return filepath.Dir(gomod)
}

// compareTrees reports every file under want or got, selected by keep, whose
// content differs or that exists on one side only.
func compareTrees(t *testing.T, stale, want, got string, keep func(name string) bool) {
	t.Helper()
	wantFiles, gotFiles := readTree(t, want, keep), readTree(t, got, keep)
	var names []string
	for name := range wantFiles {
		names = append(names, name)
	}
	for name := range gotFiles {
		if _, ok := wantFiles[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		w, inWant := wantFiles[name]
		g, inGot := gotFiles[name]
		switch {
		case !inGot:
			t.Errorf("%s: %s is checked in but no longer generated", stale, filepath.Join(want, name))
		case !inWant:
			t.Errorf("%s: %s would be generated but is not checked in", stale, filepath.Join(want, name))
		case w != g:
			t.Errorf("%s: %s differs (-checked in +generated):\n%s", stale, filepath.Join(want, name), cmp.Diff(w, g))
		}
	}
}

func readTree(t *testing.T, dir string, keep func(name string) bool) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(d.Name()) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func copyTree(t *testing.T, from, to string, keep func(name string) bool) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(d.Name()) {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		copyFile(t, path, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
