package catalog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// File is one file of a written catalog.
type File struct {
	// Path is slash separated and relative to the catalog directory:
	// "<package>/catalog.json", or GlobalFile.
	Path string
	Data []byte
}

// GlobalFile holds the objects that belong to no package.
const GlobalFile = "__global/catalog.json"

// Write renders cfg as a file-based catalog in JSON: one file per package,
// <package>/catalog.json, holding its olm.package, then its channels and
// bundles sorted by name, its olm.deprecations and its other objects; objects
// of no package go to GlobalFile. Members are written in a fixed order
// (schema and names first, then the rest sorted), indented by four spaces,
// so the same catalog always gives the same bytes, and unknown members are
// written back as they were read. Files are sorted by path.
func Write(cfg *Config) ([]File, error) {
	type group struct {
		pkg          *Package
		channels     []*Channel
		bundles      []*Bundle
		deprecations []*Deprecation
		others       []*Meta
	}
	groups := map[string]*group{}
	get := func(pkg string) *group {
		g, ok := groups[pkg]
		if !ok {
			g = &group{}
			groups[pkg] = g
		}
		return g
	}
	for i := range cfg.Packages {
		get(cfg.Packages[i].Name).pkg = &cfg.Packages[i]
	}
	for i := range cfg.Channels {
		g := get(cfg.Channels[i].Package)
		g.channels = append(g.channels, &cfg.Channels[i])
	}
	for i := range cfg.Bundles {
		g := get(cfg.Bundles[i].Package)
		g.bundles = append(g.bundles, &cfg.Bundles[i])
	}
	for i := range cfg.Deprecations {
		g := get(cfg.Deprecations[i].Package)
		g.deprecations = append(g.deprecations, &cfg.Deprecations[i])
	}
	for i := range cfg.Others {
		g := get(cfg.Others[i].Package)
		g.others = append(g.others, &cfg.Others[i])
	}

	var files []File
	for pkg, g := range groups {
		name := GlobalFile
		if pkg != "" {
			if strings.ContainsAny(pkg, `/\`) || pkg == "." || pkg == ".." || strings.HasPrefix(pkg, "__") {
				return nil, fmt.Errorf("package %q: name cannot be a directory name", pkg)
			}
			name = path.Join(pkg, "catalog.json")
		}
		slices.SortStableFunc(g.channels, func(a, b *Channel) int { return strings.Compare(a.Name, b.Name) })
		slices.SortStableFunc(g.bundles, func(a, b *Bundle) int { return strings.Compare(a.Name, b.Name) })
		slices.SortStableFunc(g.others, func(a, b *Meta) int {
			return cmp.Or(strings.Compare(a.Schema, b.Schema), strings.Compare(a.Name, b.Name))
		})
		var buf bytes.Buffer
		emit := func(compact []byte) error {
			if err := json.Indent(&buf, compact, "", "    "); err != nil {
				return err
			}
			buf.WriteByte('\n')
			return nil
		}
		var err error
		if g.pkg != nil {
			err = emit(encodePackage(g.pkg))
		}
		for _, c := range g.channels {
			if err == nil {
				err = emit(encodeChannel(c))
			}
		}
		for _, b := range g.bundles {
			if err == nil {
				err = emit(encodeBundle(b))
			}
		}
		for _, d := range g.deprecations {
			if err == nil {
				err = emit(encodeDeprecation(d))
			}
		}
		for _, m := range g.others {
			if err == nil {
				err = emit(m.Blob)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("package %q: %w", pkg, err)
		}
		files = append(files, File{Path: name, Data: buf.Bytes()})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// obj writes one JSON object: known members in the order added, then the
// extra ones sorted by name (skipping any that repeat a known one).
type obj struct {
	buf   bytes.Buffer
	known []string
}

func (o *obj) raw(key string, v []byte) {
	if o.buf.Len() == 0 {
		o.buf.WriteByte('{')
	} else {
		o.buf.WriteByte(',')
	}
	o.buf.Write(marshal(key))
	o.buf.WriteByte(':')
	o.buf.Write(v)
	o.known = append(o.known, strings.ToLower(key))
}

// str writes a string member; empty strings are left out unless always.
func (o *obj) str(key, v string, always bool) {
	if v != "" || always {
		o.raw(key, marshal(v))
	}
}

func (o *obj) end(extra Fields) []byte {
	for _, k := range sortedKeys(extra) {
		if !slices.Contains(o.known, strings.ToLower(k)) {
			o.raw(k, extra[k])
		}
	}
	if o.buf.Len() == 0 {
		return []byte("{}")
	}
	o.buf.WriteByte('}')
	return o.buf.Bytes()
}

func sortedKeys(f Fields) []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// marshal encodes a string or string slice as JSON without HTML escaping,
// as opm writes catalogs.
func marshal(v any) []byte {
	var buf bytes.Buffer
	switch v := v.(type) {
	case string:
		quote(&buf, v)
	case []string:
		buf.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			quote(&buf, s)
		}
		buf.WriteByte(']')
	}
	return buf.Bytes()
}

// quote writes s as a JSON string: quotes, backslashes and control
// characters escaped, and U+2028 and U+2029 (which JavaScript treats as
// line ends), as encoding/json escapes them; invalid UTF-8 becomes U+FFFD.
func quote(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteRune(r)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			buf.WriteString(`\u`)
			buf.WriteByte(hex[r>>12&0xf])
			buf.WriteByte(hex[r>>8&0xf])
			buf.WriteByte(hex[r>>4&0xf])
			buf.WriteByte(hex[r&0xf])
		default:
			buf.WriteRune(r) // utf8.RuneError for invalid bytes
		}
	}
	buf.WriteByte('"')
}

func array[T any](items []T, enc func(*T) []byte) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(enc(&items[i]))
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func encodePackage(p *Package) []byte {
	var o obj
	o.str("schema", SchemaPackage, true)
	o.str("name", p.Name, true)
	o.str("defaultChannel", p.DefaultChannel, false)
	return o.end(p.Extra)
}

func encodeChannel(c *Channel) []byte {
	var o obj
	o.str("schema", SchemaChannel, true)
	o.str("name", c.Name, true)
	o.str("package", c.Package, true)
	o.raw("entries", array(c.Entries, encodeEntry))
	return o.end(c.Extra)
}

func encodeEntry(e *ChannelEntry) []byte {
	var o obj
	o.str("name", e.Name, true)
	o.str("replaces", e.Replaces, false)
	if len(e.Skips) > 0 {
		o.raw("skips", marshal(e.Skips))
	}
	o.str("skipRange", e.SkipRange, false)
	return o.end(e.Extra)
}

func encodeBundle(b *Bundle) []byte {
	var o obj
	o.str("schema", SchemaBundle, true)
	o.str("name", b.Name, true)
	o.str("package", b.Package, true)
	o.str("image", b.Image, false)
	if len(b.Properties) > 0 {
		o.raw("properties", array(b.Properties, encodeProperty))
	}
	if len(b.RelatedImages) > 0 {
		o.raw("relatedImages", array(b.RelatedImages, encodeRelatedImage))
	}
	return o.end(b.Extra)
}

func encodeProperty(p *Property) []byte {
	var o obj
	o.str("type", p.Type, true)
	if len(p.Value) > 0 {
		o.raw("value", p.Value)
	}
	return o.end(p.Extra)
}

func encodeRelatedImage(r *RelatedImage) []byte {
	var o obj
	o.str("name", r.Name, true)
	o.str("image", r.Image, true)
	return o.end(r.Extra)
}

func encodeDeprecation(d *Deprecation) []byte {
	var o obj
	o.str("schema", SchemaDeprecations, true)
	o.str("package", d.Package, true)
	o.raw("entries", array(d.Entries, encodeDeprecationEntry))
	return o.end(d.Extra)
}

func encodeDeprecationEntry(e *DeprecationEntry) []byte {
	var o obj
	var ro obj
	ro.str("schema", e.Reference.Schema, true)
	ro.str("name", e.Reference.Name, false)
	o.raw("reference", ro.end(e.Reference.Extra))
	o.str("message", e.Message, true)
	return o.end(e.Extra)
}
