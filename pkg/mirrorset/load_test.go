package mirrorset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// loadPath is a file under testdata/load.
func loadPath(name string) string { return filepath.Join("testdata", "load", name) }

func loadOrigin(name string, doc, line int) manifest.Origin {
	return manifest.Origin{File: loadPath(name), Document: doc, Line: line}
}

// loadErrLines splits a joined error into its messages.
func loadErrLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name        string
		files       []string
		want        []Set
		wantSkipped []string // Describe() of each skipped object
		wantErr     []string
	}{
		{
			name:  "ICSP keeps duplicates and entries without mirrors",
			files: []string{"icsp.yaml"},
			want: []Set{{
				Kind: KindICSP, Name: "legacy", Origin: loadOrigin("icsp.yaml", 1, 1),
				Entries: []Entry{
					{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{"mirror.example.com/ocp/release", "mirror.example.com/ocp/release"}},
					{Source: "registry.redhat.io"},
				},
			}},
		},
		{
			name:  "IDMS and ITMS with policies, labels and annotations",
			files: []string{"idms-and-itms.yaml"},
			want: []Set{
				{
					Kind: KindIDMS, Name: "ocp-art", Origin: loadOrigin("idms-and-itms.yaml", 1, 1),
					Labels:      map[string]string{"team": "platform"},
					Annotations: map[string]string{"note": "payload components"},
					Entries: []Entry{
						{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{"mirror.example.com/ocp/release"}, Policy: NeverContactSource},
						{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"mirror.example.com/ocp/release-images"}},
					},
				},
				{
					Kind: KindITMS, Name: "ocp-release-tags", Origin: loadOrigin("idms-and-itms.yaml", 2, 19),
					Entries: []Entry{
						{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"mirror.example.com/ocp/release-images"}, Policy: AllowContactingSource},
					},
				},
			},
		},
		{
			name:  "other kinds are skipped, in order",
			files: []string{"mixed-kinds.yaml"},
			want: []Set{{
				Kind: KindIDMS, Name: "only-set", Origin: loadOrigin("mixed-kinds.yaml", 2, 6),
				Entries: []Entry{{Source: "docker.io", Mirrors: []string{"mirror.example.com/dockerhub"}}},
			}},
			wantSkipped: []string{
				loadPath("mixed-kinds.yaml") + `: document 1: ConfigMap "default/unrelated"`,
				loadPath("mixed-kinds.yaml") + `: document 3: HostedCluster "clusters/example"`,
			},
		},
		{
			name:  "list items",
			files: []string{"list.json"},
			want: []Set{
				{
					Kind: KindIDMS, Name: "from-list", Origin: manifest.Origin{File: loadPath("list.json"), Item: 1, Line: 1},
					Entries: []Entry{{Source: "*.redhat.io", Mirrors: []string{"mirror.example.com/rh"}}},
				},
				{
					Kind: KindICSP, Name: "also-from-list", Origin: manifest.Origin{File: loadPath("list.json"), Item: 2, Line: 1},
					Entries: []Entry{{Source: "quay.io/a", Mirrors: []string{"m.example.com/a"}}},
				},
			},
		},
		{
			name:  "values are not validated here",
			files: []string{"not-validated.yaml"},
			want: []Set{{
				Kind: KindIDMS, Name: "bad-values", Origin: loadOrigin("not-validated.yaml", 1, 2),
				Entries: []Entry{{
					Source:  "quay.io/NS/repo:tag",
					Mirrors: []string{"https://mirror.example.com/", "*.example.com", "m.example.com", "m.example.com"},
					Policy:  "Sometimes",
				}},
			}},
		},
		{
			name:  "empty spec",
			files: []string{"empty-spec.yaml"},
			want:  []Set{{Kind: KindIDMS, Name: "nothing-yet", Origin: loadOrigin("empty-spec.yaml", 1, 1)}},
		},
		{
			name:        "mirror-set kind under another apiVersion",
			files:       []string{"wrong-apiversion.yaml"},
			wantSkipped: []string{loadPath("wrong-apiversion.yaml") + `: document 3: imagedigestmirrorset "lowercase-kind-is-another-kind"`},
			wantErr: []string{
				loadPath("wrong-apiversion.yaml") + `: document 1: ImageDigestMirrorSet "too-old": unsupported apiVersion "config.openshift.io/v1alpha1" for ImageDigestMirrorSet: want "config.openshift.io/v1"`,
				loadPath("wrong-apiversion.yaml") + `: document 2: ImageContentSourcePolicy "wrong-group-version": unsupported apiVersion "operator.openshift.io/v1" for ImageContentSourcePolicy: want "operator.openshift.io/v1alpha1"`,
			},
		},
		{
			name:  "unknown field rejects only its object",
			files: []string{"unknown-field.yaml"},
			want: []Set{{
				Kind: KindITMS, Name: "fine", Origin: loadOrigin("unknown-field.yaml", 2, 11),
				Entries: []Entry{{Source: "quay.io/a", Mirrors: []string{"m.example.com/a"}}},
			}},
			wantErr: []string{
				loadPath("unknown-field.yaml") + `: document 1: ImageDigestMirrorSet "ocp": unknown field "spec.imageDigestMirrors[1].mirorrs"`,
			},
		},
		{
			name:  "wrong type",
			files: []string{"wrong-type.yaml"},
			wantErr: []string{
				loadPath("wrong-type.yaml") + `: document 1: ImageContentSourcePolicy "mirrors-as-string": spec.repositoryDigestMirrors[0].mirrors: expected array, got string`,
			},
		},
		{
			name:  "errors from every file, sets from the rest",
			files: []string{"wrong-type.yaml", "missing.yaml", "empty-spec.yaml"},
			want:  []Set{{Kind: KindIDMS, Name: "nothing-yet", Origin: loadOrigin("empty-spec.yaml", 1, 1)}},
			wantErr: []string{
				loadPath("missing.yaml") + `: no such file or directory`,
				loadPath("wrong-type.yaml") + `: document 1: ImageContentSourcePolicy "mirrors-as-string": spec.repositoryDigestMirrors[0].mirrors: expected array, got string`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			for _, f := range tt.files {
				paths = append(paths, loadPath(f))
			}
			loaded, err := Load(context.Background(), nil, paths...)
			sets, skipped := loaded.Sets, loaded.Others
			if diff := cmp.Diff(tt.wantErr, loadErrLines(err)); diff != "" {
				t.Errorf("Load(%q) errors (-want +got):\n%s", paths, diff)
			}
			if diff := cmp.Diff(tt.want, sets); diff != "" {
				t.Errorf("Load(%q) sets (-want +got):\n%s", paths, diff)
			}
			var gotSkipped []string
			for _, o := range skipped {
				gotSkipped = append(gotSkipped, o.Describe())
			}
			if diff := cmp.Diff(tt.wantSkipped, gotSkipped); diff != "" {
				t.Errorf("Load(%q) skipped (-want +got):\n%s", paths, diff)
			}
		})
	}
}

func TestFromHostedCluster(t *testing.T) {
	hc := &hypershiftv1beta1.HostedCluster{
		ObjectMeta: metav1.ObjectMeta{
			Name: "example", Namespace: "clusters",
			Annotations: map[string]string{"hcpmirror.io/mirror-tags": "true"},
		},
		Spec: hypershiftv1beta1.HostedClusterSpec{
			ImageContentSources: []hypershiftv1beta1.ImageContentSource{
				{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{"m2.example.com/art", "m1.example.com/art"}},
				{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"m1.example.com/release"}},
				{Source: "registry.redhat.io"},
			},
		},
	}
	tests := []struct {
		name string
		hc   *hypershiftv1beta1.HostedCluster
		want Set
	}{
		{
			name: "entries in order, no policy",
			hc:   hc,
			want: Set{
				Kind: KindImageContentSources, Name: "clusters/example",
				Annotations: map[string]string{"hcpmirror.io/mirror-tags": "true"},
				Entries: []Entry{
					{Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev", Mirrors: []string{"m2.example.com/art", "m1.example.com/art"}},
					{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"m1.example.com/release"}},
					{Source: "registry.redhat.io"},
				},
			},
		},
		{
			name: "no imageContentSources",
			hc:   &hypershiftv1beta1.HostedCluster{ObjectMeta: metav1.ObjectMeta{Name: "bare"}},
			want: Set{Kind: KindImageContentSources, Name: "bare"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromHostedCluster(tt.hc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromHostedCluster() (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("shares nothing with the cluster object", func(t *testing.T) {
		got := FromHostedCluster(hc)
		got.Entries[0].Mirrors[0] = "changed"
		got.Annotations["x"] = "y"
		if hc.Spec.ImageContentSources[0].Mirrors[0] != "m2.example.com/art" || len(hc.Annotations) != 1 {
			t.Error("changing the Set changed the HostedCluster")
		}
	})
	t.Run("describes the cluster", func(t *testing.T) {
		got := FromHostedCluster(hc)
		if d, want := got.Describe(), `HostedCluster "clusters/example"`; d != want {
			t.Errorf("Describe() = %q, want %q", d, want)
		}
		if p, want := got.EntryPath(1), "spec.imageContentSources[1]"; p != want {
			t.Errorf("EntryPath(1) = %q, want %q", p, want)
		}
	})
}

func ExampleFromObjects() {
	objs, err := manifest.Read("sets.yaml", []byte(`apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
metadata:
  name: ocp
spec:
  imageDigestMirrors:
  - source: quay.io/openshift-release-dev/ocp-v4.0-art-dev
    mirrors: [mirror.example.com/ocp/release]
    mirrorSourcePolicy: NeverContactSource
---
apiVersion: v1
kind: Secret
metadata:
  name: pull-secret
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	sets, skipped, err := FromObjects(objs)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range sets {
		fmt.Println(s.Describe(), s.Entries)
	}
	for _, o := range skipped {
		fmt.Println("not a mirror set:", o.Describe())
	}
	// Output:
	// sets.yaml: document 1: ImageDigestMirrorSet "ocp" [{quay.io/openshift-release-dev/ocp-v4.0-art-dev [mirror.example.com/ocp/release] NeverContactSource}]
	// not a mirror set: sets.yaml: document 2: Secret "pull-secret"
}

// TestLoadReadsAsCommandsDo: a library caller of Load gets what every
// command reads for -f: an oc-mirror workspace's results, never its catalog
// caches, and stdin from the reader given.
func TestLoadReadsAsCommandsDo(t *testing.T) {
	root := t.TempDir()
	idms := "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: %s\nspec:\n  imageDigestMirrors:\n  - source: quay.io/a\n    mirrors: [m.example.com/a]\n"
	for f, name := range map[string]string{
		"oc-mirror-workspace/results-1/idms.yaml":       "run",
		"oc-mirror-workspace/src/catalogs/catalog.yaml": "catalog-cache",
	} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf(idms, name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	loaded, err := Load(context.Background(), strings.NewReader(fmt.Sprintf(idms, "stdin")), root, "-")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range loaded.Sets {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"run", "stdin"}, names); diff != "" {
		t.Errorf("Load(workspace, -) sets (-want +got):\n%s", diff)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, strings.NewReader(strings.Repeat("---\n"+fmt.Sprintf(idms, "x"), 2000)), "-"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestLikelyKind(t *testing.T) {
	tests := []struct {
		apiVersion, kind string
		want             Kind
	}{
		{"config.openshift.io/v1", "ImageDigestMirrorSets", KindIDMS},
		{"config.openshift.io/v1", "imagedigestmirrorset", KindIDMS},
		{"config.openshift.io/v1", "ImageDigestMirorSet", KindIDMS},
		{"config.openshift.io/v1", "ImageTagMirrorSetList", KindITMS},
		{"operator.openshift.io/v1alpha1", "ImageContentSourcePolicies", KindICSP},
		{"operator.openshift.io/v1alpha1", "ImageContentSourcePolicys", KindICSP},
		{"config.openshift.io/v1", "ImageDigestMirrorSet", ""}, // known: not a typo
		{"config.openshift.io/v1", "ClusterVersion", ""},
		{"v1", "ImageDigestMirrorSets", ""}, // other groups are not guessed at
	}
	for _, tt := range tests {
		got, ok := LikelyKind(manifest.Object{APIVersion: tt.apiVersion, Kind: tt.kind})
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("LikelyKind(%s %s) = %q, %t; want %q", tt.apiVersion, tt.kind, got, ok, tt.want)
		}
	}
}

func TestApplied(t *testing.T) {
	a1 := Set{Kind: KindIDMS, Name: "a", Origin: manifest.Origin{File: "1.yaml"}}
	b := Set{Kind: KindITMS, Name: "a"} // another kind: another object
	a2 := Set{Kind: KindIDMS, Name: "a", Origin: manifest.Origin{File: "2.yaml"}}
	unnamed := Set{Kind: KindIDMS}
	kept, replaced := Applied([]Set{a1, b, unnamed, unnamed, a2})
	if diff := cmp.Diff([]Set{b, unnamed, unnamed, a2}, kept); diff != "" {
		t.Errorf("Applied kept (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Replacement{{Replaced: a1, By: a2}}, replaced); diff != "" {
		t.Errorf("Applied replaced (-want +got):\n%s", diff)
	}
}
