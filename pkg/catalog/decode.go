package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/yaml"
)

// decodeStream calls fn with every JSON value of a file: a stream of JSON
// objects, or YAML documents converted to JSON, told apart by the first
// byte as opm tells them apart. YAML documents holding only comments are
// skipped.
func decodeStream(r io.Reader, fn func(doc int, raw json.RawMessage) error) error {
	dec := yaml.NewYAMLOrJSONDecoder(r, 4096)
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("document %d: %w", doc, err)
		}
		if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		if err := fn(doc, raw); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
	}
}

// object is a JSON object being taken apart: known members are taken out by
// name, and what is left becomes Fields. Names match as encoding/json
// matches struct fields (exactly, else ignoring case), which is how opm
// reads them; two members whose names differ only by case are refused, as
// opm refuses them, because which one wins would be arbitrary.
type object struct {
	members map[string]json.RawMessage
	folded  map[string]string // lower-case name → name
	path    string            // for errors: "entries[2]"
	errs    []error
}

func newObject(raw json.RawMessage, path string) (*object, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fieldErr(path, fmt.Errorf("not a JSON object: %w", err))
	}
	o := &object{members: m, folded: make(map[string]string, len(m)), path: path}
	for k := range m {
		l := strings.ToLower(k)
		if other, dup := o.folded[l]; dup {
			a, b := other, k
			if a > b {
				a, b = b, a
			}
			return nil, fieldErr(path, fmt.Errorf("members %q and %q differ only by case", a, b))
		}
		o.folded[l] = k
	}
	return o, nil
}

// take removes and returns the member called name.
func (o *object) take(name string) (json.RawMessage, bool) {
	k := name
	if _, ok := o.members[k]; !ok {
		k, ok = o.folded[strings.ToLower(name)]
		if !ok {
			return nil, false
		}
	}
	v := o.members[k]
	delete(o.members, k)
	delete(o.folded, strings.ToLower(k))
	if bytes.Equal(v, []byte("null")) {
		return nil, false
	}
	return v, true
}

// str takes a string member; absent and null read as "".
func (o *object) str(name string) string {
	v, ok := o.take(name)
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		o.errs = append(o.errs, fieldErr(join(o.path, name), errors.New("not a string")))
	}
	return s
}

// strings takes an array of strings.
func (o *object) strings(name string) []string {
	v, ok := o.take(name)
	if !ok {
		return nil
	}
	var s []string
	if err := json.Unmarshal(v, &s); err != nil {
		o.errs = append(o.errs, fieldErr(join(o.path, name), errors.New("not an array of strings")))
	}
	return s
}

// array takes an array member and decodes each element with fn.
func (o *object) array(name string, fn func(raw json.RawMessage, path string) error) {
	v, ok := o.take(name)
	if !ok {
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		o.errs = append(o.errs, fieldErr(join(o.path, name), errors.New("not an array")))
		return
	}
	for i, it := range items {
		if err := fn(it, join(o.path, name)+"["+strconv.Itoa(i)+"]"); err != nil {
			o.errs = append(o.errs, err)
		}
	}
}

// rest returns the members not taken, nil when none are left.
func (o *object) rest() Fields {
	if len(o.members) == 0 {
		return nil
	}
	return Fields(o.members)
}

func (o *object) err() error { return errors.Join(o.errs...) }

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldErr(path string, err error) error {
	if path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// interner keeps one copy of each bundle name: a name appears in the skips
// of dozens of entries and several channels, and long skip lists would
// otherwise hold thousands of copies of the same strings.
type interner map[string]string

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

// decodeAny reads one catalog object into cfg, by schema.
func decodeAny(cfg *Config, in interner, raw json.RawMessage) error {
	o, err := newObject(raw, "")
	if err != nil {
		return err
	}
	schemaRaw, ok := o.members["schema"]
	if !ok {
		if k, folded := o.folded["schema"]; folded {
			schemaRaw = o.members[k]
		}
	}
	var schema string
	if err := json.Unmarshal(schemaRaw, &schema); err != nil || schema == "" {
		return errors.New("object has no schema")
	}
	switch schema {
	case SchemaPackage:
		o.take("schema")
		p := Package{Name: o.str("name"), DefaultChannel: o.str("defaultChannel")}
		p.Extra = o.rest()
		if err := o.err(); err != nil {
			return describe(schema, p.Name, err)
		}
		if p.Name == "" {
			return describe(schema, "", errors.New("name: missing"))
		}
		cfg.Packages = append(cfg.Packages, p)
	case SchemaChannel:
		o.take("schema")
		c := Channel{Package: o.str("package"), Name: o.str("name")}
		o.array("entries", func(raw json.RawMessage, path string) error {
			e, err := decodeEntry(raw, path, in)
			c.Entries = append(c.Entries, e)
			return err
		})
		c.Extra = o.rest()
		if err := o.err(); err != nil {
			return describe(schema, c.Name, err)
		}
		if err := requireNames(c.Package, c.Name); err != nil {
			return describe(schema, c.Name, err)
		}
		cfg.Channels = append(cfg.Channels, c)
	case SchemaBundle:
		o.take("schema")
		b := Bundle{Package: o.str("package"), Name: o.str("name"), Image: o.str("image")}
		o.array("properties", func(raw json.RawMessage, path string) error {
			p, err := decodeProperty(raw, path)
			b.Properties = append(b.Properties, p)
			return err
		})
		o.array("relatedImages", func(raw json.RawMessage, path string) error {
			r, err := decodeRelatedImage(raw, path)
			b.RelatedImages = append(b.RelatedImages, r)
			return err
		})
		b.Extra = o.rest()
		if err := o.err(); err != nil {
			return describe(schema, b.Name, err)
		}
		if err := requireNames(b.Package, b.Name); err != nil {
			return describe(schema, b.Name, err)
		}
		cfg.Bundles = append(cfg.Bundles, b)
	case SchemaDeprecations:
		o.take("schema")
		d := Deprecation{Package: o.str("package")}
		o.array("entries", func(raw json.RawMessage, path string) error {
			e, err := decodeDeprecationEntry(raw, path)
			d.Entries = append(d.Entries, e)
			return err
		})
		d.Extra = o.rest()
		if err := o.err(); err != nil {
			return describe(schema, d.Package, err)
		}
		if d.Package == "" {
			return describe(schema, "", errors.New("package: missing"))
		}
		cfg.Deprecations = append(cfg.Deprecations, d)
	default:
		m := Meta{Schema: schema, Package: o.str("package"), Name: o.str("name")}
		if err := o.err(); err != nil {
			return describe(schema, m.Name, err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return describe(schema, m.Name, err)
		}
		m.Blob = buf.Bytes()
		cfg.Others = append(cfg.Others, m)
	}
	return nil
}

// describe prefixes an error with the object it is about: olm.bundle "x".
func describe(schema, name string, err error) error {
	if name == "" {
		return fmt.Errorf("%s: %w", schema, err)
	}
	return fmt.Errorf("%s %q: %w", schema, name, err)
}

func requireNames(pkg, name string) error {
	var errs []error
	if pkg == "" {
		errs = append(errs, errors.New("package: missing"))
	}
	if name == "" {
		errs = append(errs, errors.New("name: missing"))
	}
	return errors.Join(errs...)
}

func decodeEntry(raw json.RawMessage, path string, in interner) (ChannelEntry, error) {
	o, err := newObject(raw, path)
	if err != nil {
		return ChannelEntry{}, err
	}
	e := ChannelEntry{
		Name:      o.str("name"),
		Replaces:  o.str("replaces"),
		Skips:     o.strings("skips"),
		SkipRange: o.str("skipRange"),
	}
	e.Name, e.Replaces = in.get(e.Name), in.get(e.Replaces)
	for i, n := range e.Skips {
		e.Skips[i] = in.get(n)
	}
	e.Extra = o.rest()
	if e.Name == "" {
		o.errs = append(o.errs, fieldErr(join(path, "name"), errors.New("missing")))
	}
	return e, o.err()
}

func decodeProperty(raw json.RawMessage, path string) (Property, error) {
	o, err := newObject(raw, path)
	if err != nil {
		return Property{}, err
	}
	p := Property{Type: o.str("type")}
	if v, ok := o.take("value"); ok {
		p.Value = compact(v)
	}
	p.Extra = o.rest()
	if p.Type == "" {
		o.errs = append(o.errs, fieldErr(join(path, "type"), errors.New("missing")))
	}
	return p, o.err()
}

func decodeRelatedImage(raw json.RawMessage, path string) (RelatedImage, error) {
	o, err := newObject(raw, path)
	if err != nil {
		return RelatedImage{}, err
	}
	r := RelatedImage{Name: o.str("name"), Image: o.str("image")}
	r.Extra = o.rest()
	return r, o.err()
}

func decodeDeprecationEntry(raw json.RawMessage, path string) (DeprecationEntry, error) {
	o, err := newObject(raw, path)
	if err != nil {
		return DeprecationEntry{}, err
	}
	var e DeprecationEntry
	if v, ok := o.take("reference"); ok {
		ro, err := newObject(v, join(path, "reference"))
		if err != nil {
			o.errs = append(o.errs, err)
		} else {
			e.Reference = Reference{Schema: ro.str("schema"), Name: ro.str("name")}
			e.Reference.Extra = ro.rest()
			o.errs = append(o.errs, ro.errs...)
		}
	}
	e.Message = o.str("message")
	e.Extra = o.rest()
	return e, o.err()
}

// compact returns raw without insignificant white space; values keep no
// indentation from the file they came from.
func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
