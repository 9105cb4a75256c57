package olmcatalogs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestCandidates(t *testing.T) {
	img := "registry.redhat.io/redhat/redhat-operator-index:v4.18"
	for _, tc := range []struct {
		name, value string
		want        []string
		wantErr     string
	}{
		{name: "none", value: "", want: []string{img}},
		{name: "registry key keeps the path", value: "registry.redhat.io=c.example.com/x",
			want: []string{"c.example.com/x/redhat/redhat-operator-index:v4.18"}},
		{name: "longest prefix wins", value: "registry.redhat.io=broad.example.com,registry.redhat.io/redhat=narrow.example.com/rh",
			want: []string{"narrow.example.com/rh/redhat-operator-index:v4.18"}},
		{name: "no substring match", value: "registry.redhat.io/red=evil.example.com", want: []string{img}},
		{name: "no host substring match", value: "redhat.io=evil.example.com", want: []string{img}},
		{name: "repeated keys are ordered candidates", value: "registry.redhat.io/redhat=m2.example.com,registry.redhat.io/redhat=m1.example.com",
			want: []string{"m2.example.com/redhat-operator-index:v4.18", "m1.example.com/redhat-operator-index:v4.18"}},
		{name: "bad pair named", value: "registry.redhat.io=a.example.com,oops", wantErr: `pair 2 "oops": no "="`},
		{name: "bad source named", value: "registry.redhat.io/=a.example.com", wantErr: `pair 1 "registry.redhat.io/=a.example.com": source`},
		{name: "empty replacement named", value: "registry.redhat.io=", wantErr: `pair 1 "registry.redhat.io=": replacement ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOverrides(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := o.Candidates(img)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("candidates (-want +got):\n%s", d)
			}
		})
	}
}

func pins(except string, bad map[string]string) map[string]string {
	ann := map[string]string{}
	for _, c := range Catalogs {
		if c.Name == except {
			continue
		}
		ann[c.PinAnnotation()] = "mirror.example.com/olm/" + c.Index + "@" + digest
		if v, ok := bad[c.Name]; ok {
			ann[c.PinAnnotation()] = v
		}
	}
	return ann
}

func TestPins(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ann     map[string]string
		pinned  bool
		wantErr []string
	}{
		{name: "none", ann: map[string]string{}},
		{name: "all four", ann: pins("", nil), pinned: true},
		{name: "three of four", ann: pins("redhat-marketplace", nil),
			wantErr: []string{"hypershift.openshift.io/redhat-marketplace-catalog-image is missing", "3 of 4"}},
		{name: "a tag instead of a digest", ann: pins("", map[string]string{"community-operators": "mirror.example.com/olm/x:v4.18"}),
			wantErr: []string{"hypershift.openshift.io/community-operators-catalog-image", "has no digest"}},
		{name: "a short digest", ann: pins("", map[string]string{"redhat-operators": "mirror.example.com/olm/x@sha256:0123456789abcdef0123456789abcdef"}),
			wantErr: []string{"hypershift.openshift.io/redhat-operators-catalog-image", "not a valid image reference"}},
		{name: "substring is not enough", ann: pins("", map[string]string{"redhat-operators": "x@sha256:"}),
			wantErr: []string{"redhat-operators-catalog-image"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Resolve(tc.ann, 18)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Pinned != tc.pinned || len(d.Images) != 4 {
				t.Fatalf("desired %+v, pinned want %v", d, tc.pinned)
			}
			if !tc.pinned && d.Images["redhat-operators"] != "registry.redhat.io/redhat/redhat-operator-index:v4.18" {
				t.Errorf("default image %q", d.Images["redhat-operators"])
			}
		})
	}
}

func TestMinor(t *testing.T) {
	for _, tc := range []struct {
		image string
		want  int
		ok    bool
	}{
		{"quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64", 18, true},
		{"quay.io/openshift-release-dev/ocp-release:4.9.0-multi", 9, true},
		{"quay.io/openshift-release-dev/ocp-release@" + digest, 0, false},
		{"quay.io/openshift-release-dev/ocp-release:latest", 0, false},
	} {
		got, err := MinorFromReleaseImage(tc.image)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: %d, %v; want %d ok=%v", tc.image, got, err, tc.want, tc.ok)
		}
	}
	if got := Catalogs[0].DefaultImage(30); got != "registry.redhat.io/redhat/certified-operator-index:v4.22" {
		t.Errorf("capped default %q", got)
	}
}

func TestOverridesFromConfig(t *testing.T) {
	cfg, err := mirrorset.Compile([]mirrorset.Set{{Kind: mirrorset.KindIDMS, Name: "a", Entries: []mirrorset.Entry{
		{Source: "registry.redhat.io", Mirrors: []string{"broad.example.com"}},
		{Source: "registry.redhat.io/redhat/redhat-operator-index", Mirrors: []string{"m1.example.com/rh/roi", "m2.example.com/roi"}},
		{Source: "quay.io/openshift-release-dev", Mirrors: []string{"mirror.example.com/ocp"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	got := OverridesFromConfig(cfg)
	want := "registry.redhat.io=broad.example.com,registry.redhat.io/redhat/redhat-operator-index=m1.example.com/rh/roi,registry.redhat.io/redhat/redhat-operator-index=m2.example.com/roi"
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	// Round trip: the annotation sends each catalog where the sets do.
	o, err := ParseOverrides(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Catalogs {
		img := c.DefaultImage(18)
		cands, _ := o.Candidates(img)
		// Digest mirrors do not serve tag pulls: compare the locations
		// the sets give a digest pull of the same repository.
		dres, _ := cfg.Resolve(c.Repository() + "@" + digest)
		for i, p := range dres.PullSources {
			if p.IsSource {
				continue
			}
			if !strings.HasPrefix(cands[i], p.Reference.Name()+":") {
				t.Errorf("%s: candidate %d %s, sets give %s", c.Name, i, cands[i], p.Reference.Name())
			}
		}
	}
}
