package catalog_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// testCatalog loads catalogtest's catalog from its files.
func testCatalog(t testing.TB) (*catalogtest.Catalog, *catalog.Config) {
	t.Helper()
	c, err := catalogtest.Build("registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for p, b := range c.Files {
		fsys[p] = &fstest.MapFile{Data: b}
	}
	cfg, err := catalog.LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

func TestFilterTestCatalog(t *testing.T) {
	for _, tc := range []struct {
		name     string
		full     bool
		pkgs     []catalog.PackageFilter
		channels []string // want, as "package/channel: entries"
		defaults map[string]string
		bundles  []string // want; nil: the bundles of channels
	}{{
		name: "no packages: head of every channel",
		channels: []string{
			"alpha-operator/fast: alpha-operator.v2.0.0",
			"alpha-operator/stable: alpha-operator.v1.2.0",
			"beta-operator/stable-v1: beta-operator.v1.0.1",
			"beta-operator/stable-v2: beta-operator.v2.0.0",
			"gamma-operator/alpha: gamma-operator.v0.1.0",
		},
		defaults: map[string]string{"alpha-operator": "stable", "beta-operator": "stable-v1", "gamma-operator": "alpha"},
		bundles:  catalogtest.HeadBundles,
	}, {
		name:    "full: everything",
		full:    true,
		bundles: catalogtest.AllBundles,
		channels: []string{
			"alpha-operator/fast: alpha-operator.v1.2.0 alpha-operator.v2.0.0",
			"alpha-operator/stable: alpha-operator.v1.0.0 alpha-operator.v1.1.0 alpha-operator.v1.2.0",
			"beta-operator/stable-v1: beta-operator.v0.9.0 beta-operator.v1.0.0 beta-operator.v1.0.1",
			"beta-operator/stable-v2: beta-operator.v2.0.0",
			"gamma-operator/alpha: gamma-operator.v0.1.0",
		},
	}, {
		name: "package: heads of its channels",
		pkgs: []catalog.PackageFilter{{Name: "alpha-operator"}},
		channels: []string{
			"alpha-operator/fast: alpha-operator.v2.0.0",
			"alpha-operator/stable: alpha-operator.v1.2.0",
		},
		defaults: map[string]string{"alpha-operator": "stable"},
	}, {
		name: "package full",
		full: true,
		pkgs: []catalog.PackageFilter{{Name: "beta-operator"}},
		channels: []string{
			"beta-operator/stable-v1: beta-operator.v0.9.0 beta-operator.v1.0.0 beta-operator.v1.0.1",
			"beta-operator/stable-v2: beta-operator.v2.0.0",
		},
	}, {
		name:     "channel with the default kept",
		pkgs:     []catalog.PackageFilter{{Name: "alpha-operator", Channels: []catalog.ChannelFilter{{Name: "stable"}}}},
		channels: []string{"alpha-operator/stable: alpha-operator.v1.2.0"},
	}, {
		name:     "other channel with defaultChannel",
		pkgs:     []catalog.PackageFilter{{Name: "alpha-operator", DefaultChannel: "fast", Channels: []catalog.ChannelFilter{{Name: "fast"}}}},
		channels: []string{"alpha-operator/fast: alpha-operator.v2.0.0"},
		defaults: map[string]string{"alpha-operator": "fast"},
	}, {
		name: "package minVersion",
		pkgs: []catalog.PackageFilter{{Name: "alpha-operator", MinVersion: "1.1.0"}},
		channels: []string{
			"alpha-operator/fast: alpha-operator.v1.2.0 alpha-operator.v2.0.0",
			"alpha-operator/stable: alpha-operator.v1.1.0 alpha-operator.v1.2.0",
		},
	}, {
		name: "channel range",
		pkgs: []catalog.PackageFilter{{Name: "beta-operator", Channels: []catalog.ChannelFilter{
			{Name: "stable-v1", MinVersion: "0.9.0", MaxVersion: "1.0.0"},
			{Name: "stable-v2"},
		}}},
		channels: []string{
			"beta-operator/stable-v1: beta-operator.v0.9.0 beta-operator.v1.0.0",
			"beta-operator/stable-v2: beta-operator.v2.0.0",
		},
	}, {
		name: "range empties a channel that is not the default: dropped",
		pkgs: []catalog.PackageFilter{{Name: "beta-operator", MaxVersion: "1.0.1"}},
		channels: []string{
			"beta-operator/stable-v1: beta-operator.v0.9.0 beta-operator.v1.0.0 beta-operator.v1.0.1",
		},
	}, {
		name:     "pinned version",
		pkgs:     []catalog.PackageFilter{{Name: "beta-operator", Channels: []catalog.ChannelFilter{{Name: "stable-v1", MinVersion: "1.0.0", MaxVersion: "1.0.0"}}}},
		channels: []string{"beta-operator/stable-v1: beta-operator.v1.0.0"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg := testCatalog(t)
			got, err := catalog.Filter(cfg, tc.full, tc.pkgs)
			if err != nil {
				t.Fatalf("Filter: %v", err)
			}
			if diff := cmp.Diff(tc.channels, kept(got)); diff != "" {
				t.Errorf("channels (-want +got):\n%s", diff)
			}
			want := tc.bundles
			if want == nil {
				for _, ch := range got.Channels {
					for _, en := range ch.Entries {
						want = append(want, en.Name)
					}
				}
				slices.Sort(want)
				want = slices.Compact(want)
			}
			if diff := cmp.Diff(want, bundleNames(got)); diff != "" {
				t.Errorf("bundles (-want +got):\n%s", diff)
			}
			for _, p := range got.Packages {
				if d, ok := tc.defaults[p.Name]; ok && p.DefaultChannel != d {
					t.Errorf("package %s: default channel %q, want %q", p.Name, p.DefaultChannel, d)
				}
			}
			checkOLM(t, got)
		})
	}
}

func TestFilterKeepsDeprecationsAndOthers(t *testing.T) {
	_, cfg := testCatalog(t)
	cfg.Others = append(cfg.Others,
		catalog.Meta{Schema: "vendor.example.global", Name: "g", Blob: []byte(`{"schema":"vendor.example.global","name":"g"}`)},
		catalog.Meta{Schema: "vendor.example.pkg", Package: "alpha-operator", Blob: []byte(`{"schema":"vendor.example.pkg","package":"alpha-operator"}`)},
	)
	got, err := catalog.Filter(cfg, false, []catalog.PackageFilter{{Name: "beta-operator"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Deprecations) != 1 {
		t.Fatalf("deprecations = %+v, want beta-operator's", got.Deprecations)
	}
	// v0.9.0 is dropped (only heads), so is its deprecation; the channel's stays.
	var refs []string
	for _, en := range got.Deprecations[0].Entries {
		refs = append(refs, en.Reference.Schema+" "+en.Reference.Name)
	}
	if diff := cmp.Diff([]string{"olm.channel stable-v1"}, refs); diff != "" {
		t.Errorf("deprecation entries (-want +got):\n%s", diff)
	}
	var others []string
	for _, m := range got.Others {
		others = append(others, m.Schema)
	}
	if diff := cmp.Diff([]string{"vendor.example.global"}, others); diff != "" {
		t.Errorf("others (-want +got):\n%s", diff)
	}
}

func TestFilterErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		full bool
		pkgs []catalog.PackageFilter
		want []string // substrings of the error
	}{
		{"unknown package", false, []catalog.PackageFilter{{Name: "nope"}}, []string{`packages[0] "nope": no such package`}},
		{"unknown channel", false, []catalog.PackageFilter{{Name: "alpha-operator", Channels: []catalog.ChannelFilter{{Name: "beta"}}}},
			[]string{`channels[0] "beta": no such channel in package "alpha-operator" (channels: fast, stable)`}},
		{"default channel dropped", false, []catalog.PackageFilter{{Name: "alpha-operator", Channels: []catalog.ChannelFilter{{Name: "fast"}}}},
			[]string{`package "alpha-operator": the default channel "stable" is filtered out; keep it, or set defaultChannel to one of the kept channels (fast)`}},
		{"override not kept", false, []catalog.PackageFilter{{Name: "alpha-operator", DefaultChannel: "fast", Channels: []catalog.ChannelFilter{{Name: "stable"}}}},
			[]string{`package "alpha-operator": defaultChannel "fast" is not among the kept channels (stable)`}},
		{"range empties the default channel", false, []catalog.PackageFilter{{Name: "beta-operator", MinVersion: "2.0.0"}},
			[]string{`package "beta-operator": the default channel "stable-v1" is filtered out`}},
		{"full with range", true, []catalog.PackageFilter{{Name: "beta-operator", MinVersion: "1.0.0"}}, []string{"full: true cannot be combined"}},
		{"package and channel ranges", false, []catalog.PackageFilter{{Name: "beta-operator", MinVersion: "1.0.0", Channels: []catalog.ChannelFilter{{Name: "stable-v1", MaxVersion: "1.0.1"}}}},
			[]string{"cannot be combined with the package's minVersion/maxVersion"}},
		{"bad version", false, []catalog.PackageFilter{{Name: "beta-operator", MinVersion: "one"}}, []string{`packages[0] "beta-operator": minVersion: version "one"`}},
		{"twice, all reported", false, []catalog.PackageFilter{{Name: "beta-operator"}, {Name: "beta-operator"}, {Name: ""}},
			[]string{`packages[1] "beta-operator": package listed more than once`, "packages[2]: name is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg := testCatalog(t)
			_, err := catalog.Filter(cfg, tc.full, tc.pkgs)
			if err == nil {
				t.Fatal("Filter: no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Filter error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFilterRanges(t *testing.T) {
	linear := channel("stable",
		e("p.v1.0.0", ""), e("p.v1.1.0", "p.v1.0.0"), e("p.v1.2.0", "p.v1.1.0"), e("p.v1.3.0", "p.v1.2.0"))
	// The head skips the bundles it replaces the chain around, as most
	// Red Hat operators do.
	skipping := channel("stable",
		e("p.v1.0.0", ""), e("p.v1.1.0", ""), e("p.v1.2.0", ""), e("p.v1.3.0", ""), e("p.v1.4.0", ""),
		e("p.v1.5.0", "p.v1.0.0"),
		e("p.v2.0.0", "p.v1.5.0", "p.v1.1.0", "p.v1.2.0", "p.v1.3.0", "p.v1.4.0"))
	// Out-of-range v1.1.5-rc.1 connects the in-range bundles below and above it.
	gap := channel("stable",
		e("p.v1.0.0", ""), e("p.v1.1.5-rc.1", "p.v1.0.0"), e("p.v1.2.0", "p.v1.1.5-rc.1"), e("p.v1.3.0", "p.v1.2.0"))
	for _, tc := range []struct {
		name     string
		ch       catalog.Channel
		min, max string
		want     string
	}{
		{"min", linear, "1.1.0", "", "p.v1.1.0 p.v1.2.0 p.v1.3.0"},
		{"max", linear, "", "1.2.0", "p.v1.0.0 p.v1.1.0 p.v1.2.0"},
		{"min and max", linear, "1.1.0", "1.2.0", "p.v1.1.0 p.v1.2.0"},
		{"pinned", linear, "1.2.0", "1.2.0", "p.v1.2.0"},
		{"above everything", linear, "", "0.1.0", ""},
		{"skips in range, head out of range kept as connector", skipping, "1.2.0", "1.3.0", "p.v1.2.0 p.v1.3.0 p.v2.0.0"},
		{"whole skip list", skipping, "1.0.0", "", "p.v1.0.0 p.v1.1.0 p.v1.2.0 p.v1.3.0 p.v1.4.0 p.v1.5.0 p.v2.0.0"},
		{"tail of the chain", skipping, "", "1.0.0", "p.v1.0.0"},
		{"out-of-range connector", gap, "1.2.0", "1.3.0", "p.v1.2.0 p.v1.3.0"},
		{"connector between", gap, "1.0.0", "1.0.0", "p.v1.0.0"},
		{"connector kept", gap, "1.0.0", "1.3.0", "p.v1.0.0 p.v1.1.5-rc.1 p.v1.2.0 p.v1.3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := catalogOf("p", "other", tc.ch, channel("other", e("p.v9.0.0", "")))
			got, err := catalog.Filter(cfg, false, []catalog.PackageFilter{{Name: "p", Channels: []catalog.ChannelFilter{
				{Name: "stable", MinVersion: tc.min, MaxVersion: tc.max}, {Name: "other"},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			var entries string
			for _, ch := range got.Channels {
				if ch.Name == "stable" {
					var names []string
					for _, en := range ch.Entries {
						names = append(names, en.Name)
					}
					entries = strings.Join(names, " ")
				}
			}
			if entries != tc.want {
				t.Errorf("kept %q, want %q", entries, tc.want)
			}
			checkOLM(t, got)
		})
	}
}

func TestFilterBadGraphs(t *testing.T) {
	for _, tc := range []struct {
		name string
		ch   catalog.Channel
		want string
	}{
		{"two heads", channel("stable", e("p.v1.0.0", ""), e("p.v2.0.0", "")), `package "p": channel "stable": multiple channel heads: p.v1.0.0, p.v2.0.0`},
		{"cycle", channel("stable", e("p.v1.0.0", "p.v2.0.0"), e("p.v2.0.0", "p.v1.0.0")), `channel "stable": no channel head`},
		{"cycle below the head", channel("stable", e("p.v1.0.0", "p.v1.1.0"), e("p.v1.1.0", "p.v1.0.0"), e("p.v2.0.0", "p.v1.1.0")),
			`channel "stable": cycle in the upgrade graph through p.v1.0.0, p.v1.1.0`},
		{"skips itself", channel("stable", e("p.v1.0.0", "", "p.v1.0.0")), "no channel head"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := catalogOf("p", "stable", tc.ch)
			_, err := catalog.Filter(cfg, false, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Filter error = %v, want it to contain %q", err, tc.want)
			}
			// full needs no graph: the catalog is copied as it is.
			if _, err := catalog.Filter(cfg, true, []catalog.PackageFilter{{Name: "p"}}); err != nil {
				t.Errorf("Filter full: %v", err)
			}
		})
	}
}

// TestFilterKeepsUpgradeEdges: a kept entry still replaces and skips the
// bundles it upgrades from, though they are dropped, so a cluster running
// one of them (mirrored by an earlier run) can upgrade; the catalog still
// offers only kept bundles.
func TestFilterKeepsUpgradeEdges(t *testing.T) {
	cfg := catalogOf("p", "stable", channel("stable",
		e("p.v1.0.0", ""), e("p.v1.1.0", "p.v1.0.0"), e("p.v1.2.0", "p.v1.1.0", "p.v1.0.0")))
	got, err := catalog.Filter(cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.ChannelEntry{e("p.v1.2.0", "p.v1.1.0", "p.v1.0.0")}
	if diff := cmp.Diff(want, got.Channels[0].Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"p.v1.2.0"}, bundleNames(got)); diff != "" {
		t.Errorf("bundles (-want +got):\n%s", diff)
	}
}

func TestFilterEntryWithoutBundle(t *testing.T) {
	cfg := catalogOf("p", "stable", channel("stable", e("p.v1.0.0", "")))
	cfg.Bundles = nil
	_, err := catalog.Filter(cfg, false, nil)
	if err == nil || !strings.Contains(err.Error(), `package "p": channel "stable": entry "p.v1.0.0" has no olm.bundle`) {
		t.Errorf("Filter error = %v", err)
	}
}
