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
		w := &jsonWriter{buf: &buf}
		if g.pkg != nil {
			writePackage(w, g.pkg)
		}
		for _, c := range g.channels {
			writeChannel(w, c)
		}
		for _, b := range g.bundles {
			writeBundle(w, b)
		}
		for _, d := range g.deprecations {
			writeDeprecation(w, d)
		}
		for _, m := range g.others {
			w.value(m.Blob)
			w.next()
		}
		if w.err != nil {
			return nil, fmt.Errorf("package %q: %w", pkg, w.err)
		}
		files = append(files, File{Path: name, Data: buf.Bytes()})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// jsonWriter writes JSON indented by four spaces, as json.Indent would
// lay it out, straight into the file's buffer: known members in the order
// written, then extra members sorted by name (skipping any that repeat a
// known one). Raw values (properties, unknown members) are re-indented to
// their depth.
type jsonWriter struct {
	buf    *bytes.Buffer
	stack  []*level
	err    error
	indent []byte
}

type level struct {
	empty bool
	known []string // lower-case member names written, for objects
}

func (w *jsonWriter) newline() {
	w.buf.WriteByte('\n')
	for range w.stack {
		w.buf.WriteString("    ")
	}
}

// member starts the next member or element of the open container.
func (w *jsonWriter) member() {
	if len(w.stack) == 0 {
		return
	}
	l := w.stack[len(w.stack)-1]
	if !l.empty {
		w.buf.WriteByte(',')
	}
	l.empty = false
	w.newline()
}

func (w *jsonWriter) open(c byte) {
	w.buf.WriteByte(c)
	w.stack = append(w.stack, &level{empty: true})
}

func (w *jsonWriter) close(c byte) {
	l := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if !l.empty {
		w.newline()
	}
	w.buf.WriteByte(c)
}

// key starts an object member.
func (w *jsonWriter) key(k string) {
	w.member()
	quote(w.buf, k)
	w.buf.WriteString(": ")
	l := w.stack[len(w.stack)-1]
	l.known = append(l.known, strings.ToLower(k))
}

func (w *jsonWriter) str(k, v string, always bool) {
	if v != "" || always {
		w.key(k)
		quote(w.buf, v)
	}
}

// value writes raw JSON at the current depth.
func (w *jsonWriter) value(raw []byte) {
	w.indent = w.indent[:0]
	for range w.stack {
		w.indent = append(w.indent, "    "...)
	}
	if err := json.Indent(w.buf, raw, string(w.indent), "    "); err != nil && w.err == nil {
		w.err = err
	}
}

// extra writes the unknown members of the open object, sorted, and closes it.
func (w *jsonWriter) extra(f Fields) {
	l := w.stack[len(w.stack)-1]
	for _, k := range sortedKeys(f) {
		if !slices.Contains(l.known, strings.ToLower(k)) {
			w.key(k)
			w.value(f[k])
		}
	}
	w.close('}')
}

// next ends a top-level object.
func (w *jsonWriter) next() { w.buf.WriteByte('\n') }

func sortedKeys(f Fields) []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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

func writePackage(w *jsonWriter, p *Package) {
	w.open('{')
	w.str("schema", SchemaPackage, true)
	w.str("name", p.Name, true)
	w.str("defaultChannel", p.DefaultChannel, false)
	w.extra(p.Extra)
	w.next()
}

func writeChannel(w *jsonWriter, c *Channel) {
	w.open('{')
	w.str("schema", SchemaChannel, true)
	w.str("name", c.Name, true)
	w.str("package", c.Package, true)
	w.key("entries")
	w.open('[')
	for i := range c.Entries {
		e := &c.Entries[i]
		w.member()
		w.open('{')
		w.str("name", e.Name, true)
		w.str("replaces", e.Replaces, false)
		if len(e.Skips) > 0 {
			w.key("skips")
			w.open('[')
			for _, s := range e.Skips {
				w.member()
				quote(w.buf, s)
			}
			w.close(']')
		}
		w.str("skipRange", e.SkipRange, false)
		w.extra(e.Extra)
	}
	w.close(']')
	w.extra(c.Extra)
	w.next()
}

func writeBundle(w *jsonWriter, b *Bundle) {
	w.open('{')
	w.str("schema", SchemaBundle, true)
	w.str("name", b.Name, true)
	w.str("package", b.Package, true)
	w.str("image", b.Image, false)
	if len(b.Properties) > 0 {
		w.key("properties")
		w.open('[')
		for i := range b.Properties {
			p := &b.Properties[i]
			w.member()
			w.open('{')
			w.str("type", p.Type, true)
			if len(p.Value) > 0 {
				w.key("value")
				w.value(p.Value)
			}
			w.extra(p.Extra)
		}
		w.close(']')
	}
	if len(b.RelatedImages) > 0 {
		w.key("relatedImages")
		w.open('[')
		for i := range b.RelatedImages {
			r := &b.RelatedImages[i]
			w.member()
			w.open('{')
			w.str("name", r.Name, true)
			w.str("image", r.Image, true)
			w.extra(r.Extra)
		}
		w.close(']')
	}
	w.extra(b.Extra)
	w.next()
}

func writeDeprecation(w *jsonWriter, d *Deprecation) {
	w.open('{')
	w.str("schema", SchemaDeprecations, true)
	w.str("package", d.Package, true)
	w.key("entries")
	w.open('[')
	for i := range d.Entries {
		e := &d.Entries[i]
		w.member()
		w.open('{')
		w.key("reference")
		w.open('{')
		w.str("schema", e.Reference.Schema, true)
		w.str("name", e.Reference.Name, false)
		w.extra(e.Reference.Extra)
		w.str("message", e.Message, true)
		w.extra(e.Extra)
	}
	w.close(']')
	w.extra(d.Extra)
	w.next()
}
