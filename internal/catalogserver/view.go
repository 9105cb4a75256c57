package catalogserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/blang/semver/v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
)

// Property types the API view interprets (operator-registry's names).
const (
	propPackage         = "olm.package"
	propPackageRequired = "olm.package.required"
	propGVK             = "olm.gvk"
	propGVKRequired     = "olm.gvk.required"
	propBundleObject    = "olm.bundle.object"
	propCSVMetadata     = "olm.csv.metadata"
	propChannel         = "olm.channel"
)

// gvk is a GroupVersionKind of the API (plural is never set from a
// file-based catalog).
type gvk struct{ group, version, kind string }

// typedValue is a Property or a Dependency of the API.
type typedValue struct{ typ, value string }

// bundle is one API Bundle: a bundle as one channel lists it.
type bundle struct {
	name, pkg, channel string
	csvJSON            string
	objects            []string
	bundlePath         string
	provided, required []gvk
	version            string
	skipRange          string
	dependencies       []typedValue
	properties         []typedValue
	replaces           string
	skips              []string
	deprecation        *string
}

type channel struct {
	name        string
	head        string
	bundles     map[string]*bundle
	names       []string // bundle names, sorted
	deprecation *string
}

type pkg struct {
	name           string
	defaultChannel string
	channels       map[string]*channel
	names          []string // channel names, sorted
	deprecation    *string
}

// view is a loaded catalog, immutable once built: every answer is read from
// it without locks.
type view struct {
	pkgs  map[string]*pkg
	names []string // package names, sorted
	// bundles is every (channel, bundle) pair in package, channel, bundle
	// name order: ListBundles' stream.
	bundles []*bundle
}

// bundleIndex is what operator-registry's model keeps of one olm.bundle
// before it is copied into each channel that lists it.
type bundleInfo struct {
	b          *catalog.Bundle
	props      parsedProps
	version    semver.Version
	objects    []string
	csvJSON    string
	properties []typedValue
	deps       []typedValue
	deprecated *string
}

// parsedProps are the properties operator-registry's property.Parse types.
type parsedProps struct {
	packages     []propPackageValue
	gvks         []gvk
	gvksRequired []gvk
	csvMetadata  []json.RawMessage
	objects      [][]byte
}

type propPackageValue struct {
	PackageName string `json:"packageName"`
	Version     string `json:"version"`
	Release     string `json:"release,omitzero"`
}

type propGVKValue struct {
	Group   string `json:"group"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

type propPackageRequiredValue struct {
	PackageName  string `json:"packageName"`
	VersionRange string `json:"versionRange"`
}

// icon is an olm.package icon.
type icon struct {
	Data      []byte `json:"base64data"`
	MediaType string `json:"mediatype"`
}

// packageMeta is what the CSV built from olm.csv.metadata takes from the
// olm.package object.
type packageMeta struct {
	description string
	icon        *icon
}

// buildView converts a catalog into the API view, refusing what
// operator-registry's model would refuse (so both servers serve the same
// catalogs). All problems are reported together.
func buildView(cfg *catalog.Config) (*view, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	v := &view{pkgs: map[string]*pkg{}}
	metas := map[string]packageMeta{}
	for _, p := range cfg.Packages {
		if msgs := validation.IsDNS1123Label(p.Name); len(msgs) > 0 {
			fail("olm.package %q: invalid name: %s", p.Name, strings.Join(msgs, "; "))
			continue
		}
		v.pkgs[p.Name] = &pkg{name: p.Name, defaultChannel: p.DefaultChannel, channels: map[string]*channel{}}
		var m packageMeta
		if raw, ok := field(p.Extra, "description"); ok {
			if err := json.Unmarshal(raw, &m.description); err != nil {
				fail("olm.package %q: description: %w", p.Name, err)
			}
		}
		if raw, ok := field(p.Extra, "icon"); ok && !bytes.Equal(raw, []byte("null")) {
			m.icon = &icon{}
			if err := json.Unmarshal(raw, m.icon); err != nil {
				fail("olm.package %q: icon: %w", p.Name, err)
			}
		}
		metas[p.Name] = m
	}
	for _, c := range cfg.Channels {
		p, ok := v.pkgs[c.Package]
		if !ok {
			fail("olm.channel %q: unknown package %q", c.Name, c.Package)
			continue
		}
		ch := &channel{name: c.Name, bundles: map[string]*bundle{}}
		for _, e := range c.Entries {
			ch.bundles[e.Name] = &bundle{name: e.Name, pkg: p.name, channel: c.Name, replaces: e.Replaces, skips: e.Skips, skipRange: e.SkipRange}
		}
		p.channels[c.Name] = ch
	}

	infos := map[[2]string]*bundleInfo{}
	for i := range cfg.Bundles {
		b := &cfg.Bundles[i]
		where := fmt.Sprintf("package %q: olm.bundle %q", b.Package, b.Name)
		p, ok := v.pkgs[b.Package]
		if !ok {
			fail("%s: unknown package", where)
			continue
		}
		info, err := bundleInfoOf(b, metas[p.name])
		if err != nil {
			fail("%s: %w", where, err)
			continue
		}
		infos[[2]string{b.Package, b.Name}] = info
		found := false
		for _, ch := range p.channels {
			if cb, ok := ch.bundles[b.Name]; ok {
				found = true
				cb.bundlePath = b.Image
				cb.csvJSON, cb.objects = info.csvJSON, info.objects
				cb.provided, cb.required = info.props.gvks, info.props.gvksRequired
				cb.version = info.props.packages[0].Version
				cb.dependencies, cb.properties = info.deps, info.properties
			}
		}
		if !found {
			fail("%s: in no channel", where)
		}
		if b.Image == "" && len(info.objects) == 0 {
			fail("%s: no bundle image", where)
		}
	}
	for _, p := range v.pkgs {
		for _, ch := range p.channels {
			for name := range ch.bundles {
				if infos[[2]string{p.name, name}] == nil {
					fail("package %q: olm.channel %q: entry %q has no olm.bundle", p.name, ch.name, name)
				}
			}
		}
	}
	applyDeprecations(v, cfg.Deprecations, infos, fail)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	for _, p := range v.pkgs {
		if p.defaultChannel == "" {
			fail("olm.package %q: no defaultChannel", p.name)
		} else if p.channels[p.defaultChannel] == nil {
			fail("olm.package %q: defaultChannel %q has no bundle", p.name, p.defaultChannel)
		}
		for _, ch := range p.channels {
			if err := ch.validate(); err != nil {
				fail("package %q: olm.channel %q: %w", p.name, ch.name, err)
			}
			for _, cb := range ch.bundles {
				if slices.Contains(cb.skips, "") {
					fail("package %q: olm.channel %q: entry %q: an empty skip", p.name, ch.name, cb.name)
				}
				if cb.skipRange != "" {
					if _, err := semver.ParseRange(cb.skipRange); err != nil {
						fail("package %q: olm.channel %q: entry %q: skipRange %q: %w", p.name, ch.name, cb.name, cb.skipRange, err)
					}
				}
			}
			ch.names = sortedKeys(ch.bundles)
		}
		if len(p.channels) == 0 {
			fail("olm.package %q: no channel", p.name)
		}
		p.names = sortedKeys(p.channels)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	v.names = sortedKeys(v.pkgs)
	for _, pn := range v.names {
		p := v.pkgs[pn]
		for _, cn := range p.names {
			ch := p.channels[cn]
			for _, bn := range ch.names {
				v.bundles = append(v.bundles, ch.bundles[bn])
			}
		}
	}
	return v, nil
}

// bundleInfoOf reads what every channel's copy of b shares: typed
// properties, version, manifests, CSV, API properties and dependencies.
func bundleInfoOf(b *catalog.Bundle, meta packageMeta) (*bundleInfo, error) {
	info := &bundleInfo{b: b}
	props := make([]catalog.Property, len(b.Properties))
	for i, p := range b.Properties {
		v, err := reencode(p.Value)
		if err != nil {
			return nil, fmt.Errorf("properties[%d] (%s): %w", i, p.Type, err)
		}
		props[i] = catalog.Property{Type: p.Type, Value: v}
	}
	if err := parseProps(props, &info.props); err != nil {
		return nil, err
	}
	if n := len(info.props.packages); n != 1 {
		return nil, fmt.Errorf("want exactly one %s property, found %d", propPackage, n)
	}
	pp := info.props.packages[0]
	if pp.PackageName != b.Package {
		return nil, fmt.Errorf("%s property names package %q", propPackage, pp.PackageName)
	}
	ver, err := semver.Parse(pp.Version)
	if err != nil {
		return nil, fmt.Errorf("version %q: %w", pp.Version, err)
	}
	info.version = ver
	// Pull specs are checked as opm checks them (the runtime's grammar).
	if b.Image != "" {
		if _, err := imageref.Parse(b.Image); err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
	}
	for i, ri := range b.RelatedImages {
		if ri.Image == "" {
			continue
		}
		if _, err := imageref.Parse(ri.Image); err != nil {
			return nil, fmt.Errorf("relatedImages[%d].image: %w", i, err)
		}
	}
	if n := len(info.props.csvMetadata); n > 1 {
		return nil, fmt.Errorf("want at most one %s property, found %d", propCSVMetadata, n)
	}
	for i, data := range info.props.objects {
		obj, err := yaml.ToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", propBundleObject, i, err)
		}
		info.objects = append(info.objects, string(obj))
	}
	info.csvJSON = extractCSV(info.objects)
	if info.csvJSON == "" && len(info.props.csvMetadata) == 1 {
		csv, err := csvFromMetadata(info.props.csvMetadata[0], b, ver, meta)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", propCSVMetadata, err)
		}
		info.csvJSON = csv
		if len(info.objects) == 0 {
			info.objects = []string{csv}
		}
	}
	for _, p := range props {
		value := string(p.Value)
		switch p.Type {
		case propGVKRequired:
			info.deps = append(info.deps, typedValue{typ: propGVK, value: value})
		case propPackageRequired:
			var req propPackageRequiredValue
			if err := json.Unmarshal(p.Value, &req); err != nil {
				return nil, fmt.Errorf("%s: %w", propPackageRequired, err)
			}
			info.deps = append(info.deps, typedValue{typ: propPackage, value: marshalNoEscape(propPackageValue{PackageName: req.PackageName, Version: req.VersionRange})})
		}
		// The manifests are not repeated as properties: clients copy
		// properties into CSV annotations, stored in etcd.
		if p.Type != propBundleObject && p.Type != propCSVMetadata {
			info.properties = append(info.properties, typedValue{typ: p.Type, value: value})
		}
	}
	return info, nil
}

// parseProps types the properties operator-registry types, refusing a
// value that does not decode as its type.
func parseProps(props []catalog.Property, out *parsedProps) error {
	for i, p := range props {
		var err error
		switch p.Type {
		case propPackage:
			var v propPackageValue
			if err = json.Unmarshal(p.Value, &v); err == nil {
				out.packages = append(out.packages, v)
			}
		case propPackageRequired:
			var v propPackageRequiredValue
			err = json.Unmarshal(p.Value, &v)
		case propGVK, propGVKRequired:
			var v propGVKValue
			if err = json.Unmarshal(p.Value, &v); err == nil {
				g := gvk{group: v.Group, version: v.Version, kind: v.Kind}
				if p.Type == propGVK {
					out.gvks = append(out.gvks, g)
				} else {
					out.gvksRequired = append(out.gvksRequired, g)
				}
			}
		case propBundleObject:
			var v struct {
				Data []byte `json:"data"`
			}
			if err = json.Unmarshal(p.Value, &v); err == nil {
				out.objects = append(out.objects, v.Data)
			}
		case propCSVMetadata:
			var v csvMetadata
			if err = json.Unmarshal(p.Value, &v); err == nil {
				out.csvMetadata = append(out.csvMetadata, p.Value)
			}
		case propChannel:
			var v struct {
				ChannelName string `json:"channelName"`
				Priority    int    `json:"priority"`
			}
			err = json.Unmarshal(p.Value, &v)
		default:
			var v json.RawMessage
			err = json.Unmarshal(p.Value, &v)
		}
		if err != nil {
			return fmt.Errorf("properties[%d] (%s): %w", i, p.Type, err)
		}
	}
	return nil
}

// extractCSV returns the first manifest whose kind is ClusterServiceVersion.
func extractCSV(objects []string) string {
	for _, o := range objects {
		var u unstructured.Unstructured
		if err := u.UnmarshalJSON([]byte(o)); err != nil {
			continue
		}
		if u.GetKind() == "ClusterServiceVersion" {
			return o
		}
	}
	return ""
}

// applyDeprecations marks packages, channels and bundles deprecated.
func applyDeprecations(v *view, deps []catalog.Deprecation, infos map[[2]string]*bundleInfo, fail func(string, ...any)) {
	seen := map[string]bool{}
	for _, d := range deps {
		p, ok := v.pkgs[d.Package]
		if !ok {
			fail("olm.deprecations: unknown package %q", d.Package)
			continue
		}
		if seen[d.Package] {
			fail("olm.deprecations: package %q: more than one", d.Package)
			continue
		}
		seen[d.Package] = true
		refs := map[[2]string]bool{}
		for j, e := range d.Entries {
			msg := e.Message
			ref := [2]string{e.Reference.Schema, e.Reference.Name}
			if refs[ref] {
				fail("olm.deprecations: package %q: entries[%d]: duplicate reference", d.Package, j)
				continue
			}
			refs[ref] = true
			switch e.Reference.Schema {
			case catalog.SchemaBundle:
				if infos[[2]string{d.Package, e.Reference.Name}] == nil {
					fail("olm.deprecations: package %q: entries[%d]: bundle %q not found", d.Package, j, e.Reference.Name)
					continue
				}
				for _, ch := range p.channels {
					if b, ok := ch.bundles[e.Reference.Name]; ok {
						b.deprecation = &msg
					}
				}
			case catalog.SchemaChannel:
				ch, ok := p.channels[e.Reference.Name]
				if !ok {
					fail("olm.deprecations: package %q: entries[%d]: channel %q not found", d.Package, j, e.Reference.Name)
					continue
				}
				ch.deprecation = &msg
			case catalog.SchemaPackage:
				if e.Reference.Name != "" {
					fail("olm.deprecations: package %q: entries[%d]: a package reference has no name", d.Package, j)
					continue
				}
				p.deprecation = &msg
			default:
				fail("olm.deprecations: package %q: entries[%d]: schema %q", d.Package, j, e.Reference.Schema)
			}
		}
	}
}

// validate checks what operator-registry checks of a channel's graph: one
// head, and a replaces chain from it that has no cycle and reaches every
// entry no other entry skips.
func (ch *channel) validate() error {
	if len(ch.bundles) == 0 {
		return errors.New("no entries")
	}
	incoming := map[string]bool{}
	skipped := map[string]bool{}
	for _, b := range ch.bundles {
		if b.replaces != "" {
			incoming[b.replaces] = true
		}
		for _, s := range b.skips {
			incoming[s] = true
			skipped[s] = true
		}
	}
	var heads []string
	for name := range ch.bundles {
		if !incoming[name] {
			heads = append(heads, name)
		}
	}
	slices.Sort(heads)
	switch len(heads) {
	case 0:
		return errors.New("no channel head")
	case 1:
	default:
		return fmt.Errorf("several channel heads: %s", strings.Join(heads, ", "))
	}
	ch.head = heads[0]
	chain := map[string]bool{ch.head: true}
	for cur := ch.bundles[ch.head]; cur != nil; cur = ch.bundles[cur.replaces] {
		if skipped[cur.replaces] {
			break
		}
		if chain[cur.replaces] {
			return fmt.Errorf("replaces cycle through %q", cur.replaces)
		}
		chain[cur.replaces] = true
	}
	var stranded []string
	for name := range ch.bundles {
		if !chain[name] && !skipped[name] {
			stranded = append(stranded, name)
		}
	}
	if len(stranded) > 0 {
		slices.Sort(stranded)
		return fmt.Errorf("entries not reached from the head: %s", strings.Join(stranded, ", "))
	}
	return nil
}

// field returns a member of an object's unknown fields, matched as
// encoding/json matches struct fields (exactly, else ignoring case).
func field(f catalog.Fields, name string) (json.RawMessage, bool) {
	if v, ok := f[name]; ok {
		return v, true
	}
	for k, v := range f {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// reencode returns a JSON value as operator-registry holds it: opm reads
// every catalog object into generic JSON values and encodes it again, so
// object members are sorted, numbers are float64s, and <, > and & are not
// escaped.
func reencode(raw json.RawMessage) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// marshalNoEscape encodes v as operator-registry builds property values:
// compact, with <, > and & as they are.
func marshalNoEscape(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// iconData is the icon as the CSV carries it.
func (i *icon) base64() string { return base64.StdEncoding.EncodeToString(i.Data) }
