package catalog_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// e is a channel entry: e("p.v1.1.0", "p.v1.0.0", "p.v0.9.0") replaces
// p.v1.0.0 and skips p.v0.9.0.
func e(name, replaces string, skips ...string) catalog.ChannelEntry {
	return catalog.ChannelEntry{Name: name, Replaces: replaces, Skips: skips}
}

// bundle is a bundle of package pkg whose version follows ".v" in name.
func bundle(pkg, name string) catalog.Bundle {
	version := name[strings.LastIndex(name, ".v")+2:]
	value, _ := json.Marshal(map[string]string{"packageName": pkg, "version": version})
	return catalog.Bundle{
		Package:    pkg,
		Name:       name,
		Image:      "registry.example.com/" + pkg + "/bundle:" + version,
		Properties: []catalog.Property{{Type: catalog.PropertyPackage, Value: value}},
		RelatedImages: []catalog.RelatedImage{
			{Name: "operator", Image: "registry.example.com/" + pkg + "/operator:" + version},
		},
	}
}

// oneChannelPackage is a catalog of package p whose channels are given as
// name → entries; the default channel is def. A bundle exists for every
// entry of every channel.
func catalogOf(pkg, def string, channels ...catalog.Channel) *catalog.Config {
	cfg := &catalog.Config{Packages: []catalog.Package{{Name: pkg, DefaultChannel: def}}}
	seen := map[string]bool{}
	for _, ch := range channels {
		ch.Package = pkg
		cfg.Channels = append(cfg.Channels, ch)
		for _, en := range ch.Entries {
			if !seen[en.Name] {
				seen[en.Name] = true
				cfg.Bundles = append(cfg.Bundles, bundle(pkg, en.Name))
			}
		}
	}
	return cfg
}

func channel(name string, entries ...catalog.ChannelEntry) catalog.Channel {
	return catalog.Channel{Name: name, Entries: entries}
}

// checkOLM fails the test unless cfg is a catalog opm would serve, by the
// rules of its model validation: every package's default channel exists;
// every channel has entries, each with a bundle, exactly one head, no cycle
// along replaces, and no stranded entry (one neither on the replaces chain
// from the head nor skipped by any entry).
func checkOLM(t testing.TB, cfg *catalog.Config) {
	t.Helper()
	bundles := map[string]bool{}
	for _, b := range cfg.Bundles {
		bundles[b.Package+"/"+b.Name] = true
	}
	chans := map[string]bool{}
	for _, ch := range cfg.Channels {
		chans[ch.Package+"/"+ch.Name] = true
		if err := olmChannelErr(ch, bundles); err != nil {
			t.Errorf("package %q channel %q: %v", ch.Package, ch.Name, err)
		}
	}
	for _, p := range cfg.Packages {
		if !chans[p.Name+"/"+p.DefaultChannel] {
			t.Errorf("package %q: default channel %q does not exist", p.Name, p.DefaultChannel)
		}
	}
	inChannel := map[string]bool{}
	for _, ch := range cfg.Channels {
		for _, en := range ch.Entries {
			inChannel[ch.Package+"/"+en.Name] = true
		}
	}
	for b := range bundles {
		if !inChannel[b] {
			t.Errorf("bundle %s is in no channel", b)
		}
	}
}

func olmChannelErr(ch catalog.Channel, bundles map[string]bool) error {
	if len(ch.Entries) == 0 {
		return fmt.Errorf("no entries")
	}
	byName := map[string]catalog.ChannelEntry{}
	incoming := map[string]bool{}
	skipped := map[string]bool{}
	for _, en := range ch.Entries {
		if !bundles[ch.Package+"/"+en.Name] {
			return fmt.Errorf("entry %q has no bundle", en.Name)
		}
		byName[en.Name] = en
		if en.Replaces != "" {
			incoming[en.Replaces] = true
		}
		for _, s := range en.Skips {
			incoming[s] = true
			skipped[s] = true
		}
	}
	var heads []string
	for _, en := range ch.Entries {
		if !incoming[en.Name] {
			heads = append(heads, en.Name)
		}
	}
	if len(heads) != 1 {
		return fmt.Errorf("heads %v, want one", heads)
	}
	chain := map[string]bool{heads[0]: true}
	for cur, ok := byName[heads[0]]; ok; cur, ok = byName[cur.Replaces] {
		if skipped[cur.Replaces] {
			break
		}
		if chain[cur.Replaces] {
			return fmt.Errorf("cycle at %q", cur.Replaces)
		}
		chain[cur.Replaces] = true
	}
	var stranded []string
	for _, en := range ch.Entries {
		if !chain[en.Name] && !skipped[en.Name] {
			stranded = append(stranded, en.Name)
		}
	}
	if len(stranded) > 0 {
		slices.Sort(stranded)
		return fmt.Errorf("stranded entries %v", stranded)
	}
	return nil
}

// kept lists "package/channel: entries" of cfg, for compact comparisons.
func kept(cfg *catalog.Config) []string {
	var out []string
	for _, ch := range cfg.Channels {
		var names []string
		for _, en := range ch.Entries {
			names = append(names, en.Name)
		}
		out = append(out, ch.Package+"/"+ch.Name+": "+strings.Join(names, " "))
	}
	slices.Sort(out)
	return out
}

func bundleNames(cfg *catalog.Config) []string {
	var out []string
	for _, b := range cfg.Bundles {
		out = append(out, b.Name)
	}
	return out
}
