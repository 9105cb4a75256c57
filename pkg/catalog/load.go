package catalog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// PropertyBundleObject is the bundle property holding one manifest of the
// bundle, either inline ({"data": base64}) or as a file next to the catalog
// file ({"ref": path}).
const PropertyBundleObject = "olm.bundle.object"

// indexIgnore is the file that lists, gitignore-style, the files of its
// directory tree that are not catalog files.
const indexIgnore = ".indexignore"

// source is a catalog directory: a sorted list of file paths (slash
// separated, relative to the catalog root) and a way to read them.
type source struct {
	paths []string
	read  func(p string) ([]byte, error)
	// release, when set, is told that a parsed file's bytes are no
	// longer needed, so a catalog read from an image is not held twice
	// (raw and parsed) in memory.
	release func(p string)
}

// LoadFS reads the file-based catalog rooted at fsys, such as
// os.DirFS("/configs") or a directory written by [Write].
//
// Every regular file is a catalog file (a stream of JSON objects or YAML
// documents, whatever its name) except .indexignore files and the files they
// exclude. Files are read in lexical path order, so the result does not
// depend on the file system. All problems are reported together, each
// naming file, document and object.
func LoadFS(fsys fs.FS) (*Config, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking catalog: %w", err)
	}
	return load(source{
		paths: paths,
		read:  func(p string) ([]byte, error) { return fs.ReadFile(fsys, p) },
	})
}

func load(src source) (*Config, error) {
	slices.Sort(src.paths)
	ignore, err := readIgnores(src)
	if err != nil {
		return nil, err
	}
	cfg := &Config{}
	in := interner{}
	var errs []error
	for _, p := range src.paths {
		if path.Base(p) == indexIgnore || ignore.match(p) {
			continue
		}
		data, err := src.read(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		nb := len(cfg.Bundles)
		err = decodeStream(bytes.NewReader(data), func(_ int, raw json.RawMessage) error {
			return decodeAny(cfg, in, raw)
		})
		if src.release != nil {
			src.release(p)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		if err := inlineObjects(src, path.Dir(p), cfg.Bundles[nb:]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := checkUnique(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// inlineObjects replaces olm.bundle.object properties that refer to a file
// ({"ref": "objects/csv.yaml"}, relative to the catalog file's directory)
// with the file's content ({"data": base64}), as opm render does, so that
// the catalog can be written elsewhere without its side files.
func inlineObjects(src source, dir string, bundles []Bundle) error {
	var errs []error
	for bi := range bundles {
		b := &bundles[bi]
		for pi := range b.Properties {
			p := &b.Properties[pi]
			if p.Type != PropertyBundleObject {
				continue
			}
			var v struct {
				Ref string `json:"ref"`
			}
			if json.Unmarshal(p.Value, &v) != nil || v.Ref == "" {
				continue
			}
			ref := path.Join(dir, v.Ref)
			if path.IsAbs(v.Ref) || ref == ".." || strings.HasPrefix(ref, "../") {
				errs = append(errs, describe(SchemaBundle, b.Name, fmt.Errorf("properties[%d]: ref %q leaves the catalog", pi, v.Ref)))
				continue
			}
			data, err := src.read(ref)
			if err != nil {
				errs = append(errs, describe(SchemaBundle, b.Name, fmt.Errorf("properties[%d]: ref %q: %w", pi, v.Ref, err)))
				continue
			}
			enc, _ := json.Marshal(map[string]string{"data": base64.StdEncoding.EncodeToString(data)})
			p.Value = enc
		}
	}
	return errors.Join(errs...)
}

// checkUnique refuses a catalog that defines a package, channel or bundle
// twice, or a channel that lists a bundle twice: which definition a server
// would use is undefined.
func checkUnique(cfg *Config) error {
	var errs []error
	pkgs := map[string]bool{}
	for _, p := range cfg.Packages {
		if pkgs[p.Name] {
			errs = append(errs, fmt.Errorf("%s %q: defined more than once", SchemaPackage, p.Name))
		}
		pkgs[p.Name] = true
	}
	type key struct{ pkg, name string }
	chans := map[key]bool{}
	for _, c := range cfg.Channels {
		k := key{c.Package, c.Name}
		if chans[k] {
			errs = append(errs, fmt.Errorf("package %q: %s %q: defined more than once", c.Package, SchemaChannel, c.Name))
		}
		chans[k] = true
		seen := make(map[string]bool, len(c.Entries))
		for _, e := range c.Entries {
			if seen[e.Name] {
				errs = append(errs, fmt.Errorf("package %q: %s %q: entry %q listed more than once", c.Package, SchemaChannel, c.Name, e.Name))
			}
			seen[e.Name] = true
		}
	}
	bundles := map[key]bool{}
	for _, b := range cfg.Bundles {
		k := key{b.Package, b.Name}
		if bundles[k] {
			errs = append(errs, fmt.Errorf("package %q: %s %q: defined more than once", b.Package, SchemaBundle, b.Name))
		}
		bundles[k] = true
	}
	return errors.Join(errs...)
}

// ignoreRules are the patterns of every .indexignore of a catalog.
type ignoreRules []ignoreRule

type ignoreRule struct {
	dir     string // directory of the .indexignore, "." for the root
	pattern string
	negate  bool
	dirOnly bool
	rooted  bool // the pattern contains a slash: matched against the path from dir
}

func readIgnores(src source) (ignoreRules, error) {
	var rules ignoreRules
	for _, p := range src.paths {
		if path.Base(p) != indexIgnore {
			continue
		}
		data, err := src.read(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimRight(line, "\r")
			line = strings.TrimRight(line, " ")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			r := ignoreRule{dir: path.Dir(p)}
			if strings.HasPrefix(line, "!") {
				r.negate, line = true, line[1:]
			}
			if strings.HasSuffix(line, "/") {
				r.dirOnly, line = true, strings.TrimSuffix(line, "/")
			}
			if strings.Contains(line, "/") {
				r.rooted, line = true, strings.TrimPrefix(line, "/")
			}
			line = strings.ReplaceAll(line, "**/", "")
			line = strings.ReplaceAll(line, "**", "*")
			if _, err := path.Match(line, ""); err != nil {
				return nil, fmt.Errorf("%s: pattern %q: %w", p, line, err)
			}
			r.pattern = line
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// match reports whether the file at p is excluded. A pattern matches the
// file or any directory above it (below the .indexignore's directory); the
// last matching pattern wins, and "!" patterns include again. This is the
// part of gitignore's syntax catalogs use; "**" matches like "*".
func (rs ignoreRules) match(p string) bool {
	ignored := false
	for _, r := range rs {
		rel := p
		if r.dir != "." {
			if !strings.HasPrefix(p, r.dir+"/") {
				continue
			}
			rel = strings.TrimPrefix(p, r.dir+"/")
		}
		if r.matches(rel) {
			ignored = !r.negate
		}
	}
	return ignored
}

func (r ignoreRule) matches(rel string) bool {
	parts := strings.Split(rel, "/")
	for i := range parts {
		isDir := i < len(parts)-1
		if r.dirOnly && !isDir {
			continue
		}
		var ok bool
		if r.rooted {
			ok, _ = path.Match(r.pattern, strings.Join(parts[:i+1], "/"))
		} else {
			ok, _ = path.Match(r.pattern, parts[i])
		}
		if ok {
			return true
		}
	}
	return false
}
