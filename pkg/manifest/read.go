package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Stdin is the path that makes ReadPaths read standard input, as most
// command-line tools do.
const Stdin = "-"

// stdinName is Origin.File for objects read from standard input.
const stdinName = "<stdin>"

// ReadPaths reads every object in the given files and directories, in the
// order given.
//
// A directory is read recursively, in lexical order (that of
// filepath.WalkDir), taking only files named *.yaml, *.yml or *.json; hidden
// files and directories (".git", editor swap files) are skipped, and
// symbolic links to directories are not followed. A file named explicitly is
// read whatever its name. The path "-" reads standard input once.
//
// Errors do not stop the reading: every file and document is tried, and all
// problems are returned together (errors.Join), each starting with the
// file, so that one run shows everything to fix. The objects returned are
// those that could be read.
func ReadPaths(paths ...string) ([]Object, error) {
	return readPaths(os.Stdin, paths)
}

func readPaths(stdin io.Reader, paths []string) ([]Object, error) {
	var objs []Object
	var errs []error
	read := func(file string, data []byte) {
		o, err := Read(file, data)
		objs = append(objs, o...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	stdinRead := false
	for _, p := range paths {
		if p == Stdin {
			if stdinRead {
				continue
			}
			stdinRead = true
			data, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", stdinName, err))
				continue
			}
			read(stdinName, data)
			continue
		}
		files, err := listFiles(p)
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, PathError(f, err))
				continue
			}
			read(f, data)
		}
	}
	return objs, errors.Join(errs...)
}

// listFiles expands a path to the manifest files it names.
func listFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, PathError(path, err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	var errs []error
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// Report an unreadable directory and carry on with the rest.
			errs = append(errs, PathError(p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !IsManifestName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// A link to a file is read; a link to anything else is not.
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				return nil
			}
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		errs = append(errs, PathError(path, err))
	}
	return files, errors.Join(errs...)
}

// IsManifestName reports whether a file name is one hcpmirror reads when
// walking a directory: *.yaml, *.yml or *.json, any case.
func IsManifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// PathError renders a file-system error as "path: reason" (Go's own says
// "open path: reason"), keeping the cause for errors.Is (fs.ErrNotExist,
// fs.ErrPermission).
func PathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Read returns the objects in one file's content; file is used for Origin
// and to choose the format.
//
// A file named *.json, or one not named *.yaml or *.yml whose content starts
// with "{", is a JSON stream: one object, or several one after the other.
// Anything else is YAML, possibly several documents separated by "---"
// lines. Empty documents are skipped (they still count in document
// numbers). A document of kind List, or of a kind ending in "List" that has
// an items array, stands for its items; item objects of a typed list such as
// ImageDigestMirrorSetList may omit apiVersion and kind, which are then
// taken from the list.
//
// Every object must have apiVersion and kind. A YAML document that repeats a
// key is an error here, because JSON conversion would keep only one of the
// values; a JSON object that does is kept as written and DecodeStrict
// reports it. As with ReadPaths, all problems are reported, joined, and the
// objects that could be read are returned.
func Read(file string, data []byte) ([]Object, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if isJSON(file, data) {
		return readJSON(file, data)
	}
	return readYAML(file, data)
}

func isJSON(file string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".json":
		return true
	case ".yaml", ".yml":
		return false
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

func readJSON(file string, data []byte) ([]Object, error) {
	type value struct {
		raw  []byte
		line int
	}
	var values []value
	var streamErr error
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A JSON stream cannot be resynchronised after a syntax error,
			// so this is the last value; it is numbered only if it is not
			// the first.
			origin := Origin{File: file}
			if len(values) > 0 {
				origin.Document = len(values) + 1
			}
			var se *json.SyntaxError
			switch {
			case errors.As(err, &se):
				err = fmt.Errorf("line %d: %w", lineAt(data, se.Offset), err)
			case errors.Is(err, io.ErrUnexpectedEOF):
				end := len(bytes.TrimRight(data, " \t\r\n"))
				err = fmt.Errorf("line %d: %w", lineAt(data, int64(end)), err)
			}
			streamErr = prefix(origin, fmt.Errorf("invalid JSON: %w", err))
			break
		}
		start := dec.InputOffset() - int64(len(raw))
		values = append(values, value{raw: raw, line: lineAt(data, start)})
	}
	// Values are numbered as documents when the stream holds more than one,
	// the broken one included.
	numbered := len(values) > 1 || (len(values) == 1 && streamErr != nil)

	var objs []Object
	var errs []error
	for i, v := range values {
		origin := Origin{File: file, Line: v.line}
		if numbered {
			origin.Document = i + 1
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, v.raw); err != nil {
			errs = append(errs, prefix(origin, err))
			continue
		}
		o, err := objectsFrom(origin, compact.Bytes())
		objs = append(objs, o...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	// The broken value comes after the others in the file, so does its error.
	errs = append(errs, streamErr)
	return objs, errors.Join(errs...)
}

func readYAML(file string, data []byte) ([]Object, error) {
	var objs []Object
	var errs []error
	for _, doc := range splitYAML(data) {
		origin := Origin{File: file, Document: doc.index, Line: doc.line}
		// Leading newlines make the YAML parser's line numbers those of the
		// file rather than of the document.
		padded := append(bytes.Repeat([]byte("\n"), doc.start-1), doc.data...)
		j, err := yaml.YAMLToJSONStrict(padded)
		if err != nil {
			// The strict conversion fails on repeated keys as well as on bad
			// syntax; the lenient one tells which.
			lenient, lerr := yaml.YAMLToJSON(padded)
			if lerr != nil {
				errs = append(errs, prefix(origin, lerr))
				continue
			}
			dups := duplicateKeys(padded)
			if len(dups) == 0 {
				dups = []error{err}
			}
			o, herr := objectsFrom(origin, lenient)
			if herr != nil {
				errs = append(errs, herr)
				continue
			}
			for _, d := range dups {
				errs = append(errs, fmt.Errorf("%s: %w", describeDoc(origin, o), d))
			}
			continue
		}
		o, err := objectsFrom(origin, j)
		objs = append(objs, o...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return objs, errors.Join(errs...)
}

// describeDoc names what a document holds for an error about the whole
// document: the object, or just the origin for a list or an empty document.
func describeDoc(origin Origin, objs []Object) string {
	if len(objs) == 1 && objs[0].Origin.Item == 0 {
		return objs[0].Describe()
	}
	return origin.String()
}

// header is the part of every object that routes and names it.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// objectsFrom turns one document's JSON into objects, expanding lists.
func objectsFrom(origin Origin, j []byte) ([]Object, error) {
	j = bytes.TrimSpace(j)
	if len(j) == 0 || string(j) == "null" {
		return nil, nil // empty document
	}
	if j[0] != '{' {
		return nil, prefix(origin, fmt.Errorf("expected an object, got %s", jsonKind(j)))
	}
	o, err := newObject(origin, j, "", "")
	if err != nil {
		return nil, err
	}
	if !isList(o.Kind, j) {
		return []Object{o}, nil
	}

	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Describe(), describeDecodeError(j, err))
	}
	// A typed list (FooList) may leave its items' type implicit.
	var itemAPIVersion, itemKind string
	if o.Kind != "List" {
		itemAPIVersion, itemKind = o.APIVersion, strings.TrimSuffix(o.Kind, "List")
	}
	var objs []Object
	var errs []error
	for i, item := range list.Items {
		itemOrigin := origin
		itemOrigin.Item = i + 1
		item = bytes.TrimSpace(item)
		if len(item) == 0 || item[0] != '{' {
			errs = append(errs, prefix(itemOrigin, fmt.Errorf("expected an object, got %s", jsonKind(item))))
			continue
		}
		obj, err := newObject(itemOrigin, item, itemAPIVersion, itemKind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, obj)
	}
	return objs, errors.Join(errs...)
}

// isList reports whether an object stands for its items: kind List, or a
// typed list (kind ending in "List") that has an items array.
func isList(kind string, j []byte) bool {
	if kind == "List" {
		return true
	}
	if !strings.HasSuffix(kind, "List") {
		return false
	}
	var probe struct {
		Items json.RawMessage `json:"items"`
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &probe); err != nil {
		return false
	}
	items := bytes.TrimSpace(probe.Items)
	return len(items) > 0 && items[0] == '['
}

// newObject reads an object's header. defAPIVersion and defKind, when set,
// fill in a missing apiVersion and kind (items of a typed list) and are
// written into Raw so that decoding sees them.
func newObject(origin Origin, j []byte, defAPIVersion, defKind string) (Object, error) {
	var h header
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &h); err != nil {
		return Object{}, prefix(origin, describeDecodeError(j, err))
	}
	var add []string
	if h.APIVersion == "" && defAPIVersion != "" {
		h.APIVersion = defAPIVersion
		add = append(add, `"apiVersion":`+quoteJSON(defAPIVersion))
	}
	if h.Kind == "" && defKind != "" {
		h.Kind = defKind
		add = append(add, `"kind":`+quoteJSON(defKind))
	}
	if len(add) > 0 {
		j = insertFields(j, add)
	}
	o := Object{
		Origin:     origin,
		APIVersion: h.APIVersion,
		Kind:       h.Kind,
		Name:       h.Metadata.Name,
		Namespace:  h.Metadata.Namespace,
		Raw:        j,
	}
	switch {
	case h.Kind == "":
		return Object{}, prefix(origin, errors.New("kind is not set"))
	case h.APIVersion == "":
		return Object{}, fmt.Errorf("%s: apiVersion is not set", o.Describe())
	}
	return o, nil
}

// insertFields adds already-encoded "key":value members at the start of a
// JSON object, leaving the rest (duplicates included) as written.
func insertFields(obj []byte, fields []string) []byte {
	rest := bytes.TrimSpace(obj[1:])
	var b bytes.Buffer
	b.WriteByte('{')
	b.WriteString(strings.Join(fields, ","))
	if len(rest) > 0 && rest[0] != '}' {
		b.WriteByte(',')
	}
	b.Write(rest)
	return b.Bytes()
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsonKind names the type of a JSON value for messages.
func jsonKind(j []byte) string {
	if len(j) == 0 {
		return "nothing"
	}
	switch j[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// prefix puts the origin in front of an error about a document.
func prefix(origin Origin, err error) error {
	if s := origin.String(); s != "" {
		return fmt.Errorf("%s: %w", s, err)
	}
	return err
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
