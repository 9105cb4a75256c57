package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// PackageFilter selects what to keep of one package, as an
// ImageSetConfiguration's mirror.operators[].packages[] entry does.
type PackageFilter struct {
	// Name is the package (olm.package name) to keep.
	Name string
	// Channels restricts the package to these channels; empty keeps all.
	Channels []ChannelFilter
	// MinVersion and MaxVersion select, in every kept channel, the bundles
	// in this inclusive semver range (either may be empty). They cannot be
	// combined with channel-level ranges. Versions compare by semver
	// precedence, so a pre-release such as 1.2.0-opr.1 is inside a range
	// that spans it (oc-mirror's constraint library leaves pre-releases out
	// of ranges whose bounds have none, which empties channels of
	// operators that version every build as a pre-release).
	MinVersion, MaxVersion string
	// DefaultChannel replaces the package's default channel; it is needed
	// when the filter drops the catalog's default channel.
	DefaultChannel string
}

// ChannelFilter selects one channel of a package and, optionally, a
// version range within it.
type ChannelFilter struct {
	Name                   string
	MinVersion, MaxVersion string
}

// Filter returns the part of cfg an ImageSetConfiguration operator entry
// asks for, with oc-mirror v2's selection rules:
//
//   - no packages, full false: every package, every channel, only each
//     channel's head (the newest bundle, the one nothing replaces or skips);
//     oc-mirror's documentation says the default channel's head, its filter
//     code (which this follows) keeps the head of every channel;
//   - no packages, full true: the whole catalog (cfg itself is returned);
//   - packages listed: only those packages; per package its listed
//     channels, or all its channels when none is listed; per channel every
//     entry when full, the bundles of the channel's (or else the package's)
//     version range when one is given (see below), else only the head.
//
// A version range keeps every in-range bundle that the channel's replaces
// chain reaches, and the chain entries between them (even out of range),
// so that the kept part of the channel stays one upgrade graph with a
// single head; min == max keeps exactly that version. A channel left empty
// is dropped. The package's default channel (DefaultChannel when given)
// must be among the kept channels, else Filter fails naming package and
// channel.
//
// The result keeps, for each kept package, its olm.package (with the
// default channel set), the kept channels with only their kept entries, the
// kept bundles (sorted by package and name), the olm.deprecations entries
// that refer to kept objects, and the other objects of the package; objects
// of no package are always kept. Entries keep their replaces, skips and
// skipRange as written, even when they name dropped bundles: those edges
// say which installed versions may upgrade to a kept bundle (a cluster may
// run a bundle mirrored earlier), and OLM only ever offers bundles the
// catalog contains, so a dropped bundle is never offered.
//
// Mistakes in pkgs are all reported together: an unknown package or
// channel, a package or channel listed twice, an invalid version, full
// together with a range, package-level and channel-level ranges together.
func Filter(cfg *Config, full bool, pkgs []PackageFilter) (*Config, error) {
	idx := newIndex(cfg)
	plans, err := idx.plan(full, pkgs)
	if err != nil {
		return nil, err
	}
	if plans == nil {
		return cfg, nil // full, no packages: everything
	}

	var errs []error
	keptPkgs := map[string]*Package{}
	keptChannels := map[*Channel][]ChannelEntry{}
	keptBundles := map[bundleKey]*Bundle{}
	for _, pl := range plans {
		var channels []string
		broken := false
		for _, cp := range pl.channels {
			ch := cp.ch
			entries, err := idx.selectEntries(ch, full, cp.rng)
			if err != nil {
				errs = append(errs, fmt.Errorf("package %q: channel %q: %w", ch.Package, ch.Name, err))
				broken = true
				continue
			}
			if len(entries) == 0 {
				continue
			}
			for _, e := range entries {
				b, ok := idx.bundles[bundleKey{ch.Package, e.Name}]
				if !ok {
					errs = append(errs, fmt.Errorf("package %q: channel %q: entry %q has no %s", ch.Package, ch.Name, e.Name, SchemaBundle))
					continue
				}
				keptBundles[bundleKey{ch.Package, e.Name}] = b
			}
			keptChannels[ch] = entries
			channels = append(channels, ch.Name)
		}
		if broken {
			continue // whether the default channel survives is unknown
		}
		p := *pl.pkg
		def := p.DefaultChannel
		if pl.defaultChannel != "" {
			def = pl.defaultChannel
		}
		if !slices.Contains(channels, def) {
			errs = append(errs, defaultChannelError(pl, def, channels))
			continue
		}
		p.DefaultChannel = def
		keptPkgs[p.Name] = &p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return assemble(cfg, keptPkgs, keptChannels, keptBundles), nil
}

func defaultChannelError(pl *packagePlan, def string, kept []string) error {
	slices.Sort(kept)
	have := "none"
	if len(kept) > 0 {
		have = strings.Join(kept, ", ")
	}
	switch {
	case pl.defaultChannel != "":
		return fmt.Errorf("package %q: defaultChannel %q is not among the kept channels (%s)", pl.pkg.Name, def, have)
	case def == "":
		return fmt.Errorf("package %q: the catalog sets no default channel; set defaultChannel to one of the kept channels (%s)", pl.pkg.Name, have)
	}
	return fmt.Errorf("package %q: the default channel %q is filtered out; keep it, or set defaultChannel to one of the kept channels (%s)", pl.pkg.Name, def, have)
}

// assemble builds the filtered catalog from what was kept, in the catalog's
// order (bundles sorted by package and name).
func assemble(cfg *Config, pkgs map[string]*Package, channels map[*Channel][]ChannelEntry, bundles map[bundleKey]*Bundle) *Config {
	out := &Config{}
	for _, p := range cfg.Packages {
		if kp, ok := pkgs[p.Name]; ok {
			out.Packages = append(out.Packages, *kp)
		}
	}
	keptChannel := map[bundleKey]bool{} // {package, channel name}
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		entries, ok := channels[ch]
		if !ok || pkgs[ch.Package] == nil {
			continue
		}
		c := *ch
		c.Entries = entries
		out.Channels = append(out.Channels, c)
		keptChannel[bundleKey{ch.Package, ch.Name}] = true
	}
	out.Bundles = make([]Bundle, 0, len(bundles))
	for _, b := range bundles {
		if pkgs[b.Package] != nil {
			out.Bundles = append(out.Bundles, *b)
		}
	}
	slices.SortFunc(out.Bundles, func(a, b Bundle) int {
		return cmp.Or(strings.Compare(a.Package, b.Package), strings.Compare(a.Name, b.Name))
	})
	for _, d := range cfg.Deprecations {
		if pkgs[d.Package] == nil {
			continue
		}
		var entries []DeprecationEntry
		for _, e := range d.Entries {
			switch e.Reference.Schema {
			case SchemaBundle:
				if bundles[bundleKey{d.Package, e.Reference.Name}] == nil {
					continue
				}
			case SchemaChannel:
				if !keptChannel[bundleKey{d.Package, e.Reference.Name}] {
					continue
				}
			}
			entries = append(entries, e)
		}
		if len(entries) > 0 {
			d.Entries = entries
			out.Deprecations = append(out.Deprecations, d)
		}
	}
	for _, m := range cfg.Others {
		if m.Package == "" || pkgs[m.Package] != nil {
			out.Others = append(out.Others, m)
		}
	}
	return out
}

type bundleKey struct{ pkg, name string }

// index finds a catalog's objects by name.
type index struct {
	packages map[string]*Package
	channels map[string][]*Channel // by package, in catalog order
	bundles  map[bundleKey]*Bundle
	versions map[*Bundle]*version // parsed on demand
}

func newIndex(cfg *Config) *index {
	idx := &index{
		packages: make(map[string]*Package, len(cfg.Packages)),
		channels: make(map[string][]*Channel, len(cfg.Packages)),
		bundles:  make(map[bundleKey]*Bundle, len(cfg.Bundles)),
		versions: map[*Bundle]*version{},
	}
	for i := range cfg.Packages {
		idx.packages[cfg.Packages[i].Name] = &cfg.Packages[i]
	}
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		idx.channels[ch.Package] = append(idx.channels[ch.Package], ch)
	}
	for i := range cfg.Bundles {
		b := &cfg.Bundles[i]
		idx.bundles[bundleKey{b.Package, b.Name}] = b
	}
	return idx
}

// packagePlan is what to do with one package.
type packagePlan struct {
	pkg            *Package
	defaultChannel string
	channels       []channelPlan
}

type channelPlan struct {
	ch  *Channel
	rng *versionRange // nil: head only, or everything when full
}

// plan checks pkgs against the catalog and turns them into plans; nil
// plans (and no error) mean "keep everything".
func (idx *index) plan(full bool, pkgs []PackageFilter) ([]*packagePlan, error) {
	if len(pkgs) == 0 {
		if full {
			return nil, nil
		}
		var plans []*packagePlan
		for _, p := range idx.sortedPackages() {
			pl := &packagePlan{pkg: p}
			for _, ch := range idx.channels[p.Name] {
				pl.channels = append(pl.channels, channelPlan{ch: ch})
			}
			plans = append(plans, pl)
		}
		return plans, nil
	}
	var plans []*packagePlan
	var errs []error
	seen := map[string]bool{}
	for i, pf := range pkgs {
		where := fmt.Sprintf("packages[%d] %q", i, pf.Name)
		if pf.Name == "" {
			errs = append(errs, fmt.Errorf("packages[%d]: name is empty", i))
			continue
		}
		if seen[pf.Name] {
			errs = append(errs, fmt.Errorf("%s: package listed more than once", where))
			continue
		}
		seen[pf.Name] = true
		p, ok := idx.packages[pf.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no such package in the catalog", where))
			continue
		}
		pkgRange, err := newRange(pf.MinVersion, pf.MaxVersion)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if full && pkgRange != nil {
			errs = append(errs, fmt.Errorf("%s: full: true cannot be combined with minVersion/maxVersion", where))
			continue
		}
		pl := &packagePlan{pkg: p, defaultChannel: pf.DefaultChannel}
		if len(pf.Channels) == 0 {
			for _, ch := range idx.channels[p.Name] {
				pl.channels = append(pl.channels, channelPlan{ch: ch, rng: pkgRange})
			}
			plans = append(plans, pl)
			continue
		}
		byName := map[string]*Channel{}
		for _, ch := range idx.channels[p.Name] {
			byName[ch.Name] = ch
		}
		seenCh := map[string]bool{}
		bad := false
		for j, cf := range pf.Channels {
			cwhere := fmt.Sprintf("%s: channels[%d] %q", where, j, cf.Name)
			ch, ok := byName[cf.Name]
			switch {
			case cf.Name == "":
				errs = append(errs, fmt.Errorf("%s: channels[%d]: name is empty", where, j))
			case seenCh[cf.Name]:
				errs = append(errs, fmt.Errorf("%s: channel listed more than once", cwhere))
			case !ok:
				errs = append(errs, fmt.Errorf("%s: no such channel in package %q (channels: %s)", cwhere, p.Name, strings.Join(idx.channelNames(p.Name), ", ")))
			default:
				seenCh[cf.Name] = true
				rng, err := newRange(cf.MinVersion, cf.MaxVersion)
				switch {
				case err != nil:
					errs = append(errs, fmt.Errorf("%s: %w", cwhere, err))
				case rng != nil && pkgRange != nil:
					errs = append(errs, fmt.Errorf("%s: a channel version range cannot be combined with the package's minVersion/maxVersion", cwhere))
				case rng != nil && full:
					errs = append(errs, fmt.Errorf("%s: full: true cannot be combined with minVersion/maxVersion", cwhere))
				default:
					if rng == nil {
						rng = pkgRange
					}
					pl.channels = append(pl.channels, channelPlan{ch: ch, rng: rng})
					continue
				}
			}
			bad = true
		}
		if !bad {
			plans = append(plans, pl)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return plans, nil
}

func (idx *index) sortedPackages() []*Package {
	ps := make([]*Package, 0, len(idx.packages))
	for _, p := range idx.packages {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *Package) int { return strings.Compare(a.Name, b.Name) })
	return ps
}

func (idx *index) channelNames(pkg string) []string {
	var names []string
	for _, ch := range idx.channels[pkg] {
		names = append(names, ch.Name)
	}
	slices.Sort(names)
	return names
}

// selectEntries returns the entries of ch to keep, in channel order.
func (idx *index) selectEntries(ch *Channel, full bool, rng *versionRange) ([]ChannelEntry, error) {
	if full {
		return ch.Entries, nil
	}
	g, err := newGraph(ch)
	if err != nil {
		return nil, err
	}
	if rng == nil {
		return []ChannelEntry{ch.Entries[g.head]}, nil
	}
	versions := make([]*version, len(ch.Entries))
	for i, e := range ch.Entries {
		versions[i] = idx.version(ch.Package, e.Name)
	}
	keep := g.selectRange(rng, versions)
	var out []ChannelEntry
	for i, e := range ch.Entries {
		if keep[i] {
			out = append(out, e)
		}
	}
	return out, nil
}

// version is the parsed olm.package version of a bundle, nil when it has
// none or it is not semver.
func (idx *index) version(pkg, name string) *version {
	b, ok := idx.bundles[bundleKey{pkg, name}]
	if !ok {
		return nil
	}
	if v, ok := idx.versions[b]; ok {
		return v
	}
	var vp *version
	if v, err := parseVersion(b.Version()); err == nil {
		vp = &v
	}
	idx.versions[b] = vp
	return vp
}
