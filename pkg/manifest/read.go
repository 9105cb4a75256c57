package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Stdin is the path that makes ReadPaths read standard input, as most
// command-line tools do.
const Stdin = "-"

// stdinName is Origin.File for objects read from standard input.
const stdinName = "<stdin>"

// ReadPaths reads every object in the files [Files] finds for paths, in
// that order; "-" reads stdin, once. It returns the notes of the walk
// (symbolic links not followed) for the caller to show.
//
// Errors do not stop the reading: every file and document is tried, and all
// problems are returned together (errors.Join), each starting with the
// file, so that one run shows everything to fix. The objects returned are
// those that could be read. ctx is checked between files and documents: a
// cancelled read stops there and returns an error wrapping ctx.Err().
func ReadPaths(ctx context.Context, stdin io.Reader, paths ...string) (objs []Object, notes []string, err error) {
	files, notes, err := Files(paths...)
	errs := []error{err}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return objs, notes, fmt.Errorf("reading %s: %w", f, err)
		}
		var data []byte
		name := f
		if f == Stdin {
			name = stdinName
			if stdin == nil {
				errs = append(errs, fmt.Errorf("%s: standard input is not available", stdinName))
				continue
			}
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			errs = append(errs, PathError(name, err))
			continue
		}
		o, err := readContext(ctx, name, data)
		objs = append(objs, o...)
		if err != nil {
			errs = append(errs, err)
		}
		if err := ctx.Err(); err != nil {
			return objs, notes, fmt.Errorf("reading %s: %w", name, err)
		}
	}
	return objs, notes, errors.Join(errs...)
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
	return readContext(context.Background(), file, data)
}

// readContext is Read, stopping between YAML documents once ctx is done (the
// caller checks ctx.Err()).
func readContext(ctx context.Context, file string, data []byte) ([]Object, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if isJSON(file, data) {
		return readJSON(file, data)
	}
	return readYAML(ctx, file, data)
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

func readYAML(ctx context.Context, file string, data []byte) ([]Object, error) {
	var objs []Object
	var errs []error
	for _, doc := range splitYAML(data) {
		if ctx.Err() != nil {
			break
		}
		origin := Origin{File: file, Document: doc.index, Line: doc.line}
		// Leading newlines make the YAML parser's line numbers those of the
		// file rather than of the document.
		padded := append(bytes.Repeat([]byte("\n"), doc.start-1), doc.data...)
		var j []byte
		err := await(ctx, len(padded), func() (err error) {
			j, err = yaml.YAMLToJSONStrict(padded)
			return err
		})
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			// The strict conversion fails on repeated keys as well as on bad
			// syntax; the lenient one tells which.
			lenient, lerr := yaml.YAMLToJSON(padded)
			if lerr != nil {
				errs = append(errs, prefix(origin, describeYAMLError(padded, lerr)))
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

// yamlErrorLine finds the line number in a YAML parser error.
var yamlErrorLine = regexp.MustCompile(`^yaml: line ([0-9]+): `)

// describeYAMLError replaces the parser's "found character that cannot
// start any token" for a tab in indentation, the usual cause, with what is
// wrong: YAML forbids tabs there, and the tab is invisible in most editors.
func describeYAMLError(data []byte, err error) error {
	m := yamlErrorLine.FindStringSubmatch(err.Error())
	if m == nil || !strings.Contains(err.Error(), "cannot start any token") {
		return err
	}
	n, _ := strconv.Atoi(m[1])
	lines := bytes.Split(data, []byte("\n"))
	if n < 1 || n > len(lines) {
		return err
	}
	indent := lines[n-1][:len(lines[n-1])-len(bytes.TrimLeft(lines[n-1], " \t"))]
	if !bytes.Contains(indent, []byte("\t")) {
		return err
	}
	return fmt.Errorf("line %d: tabs are not allowed in YAML indentation (indent with spaces)", n)
}

// awaitSize is the size from which a conversion or decode runs apart, so
// that a cancelled context is answered at once rather than after the seconds
// a document of many megabytes takes.
const awaitSize = 1 << 20

// await runs fn, and for inputs of awaitSize bytes or more returns as soon
// as ctx is done, with ctx.Err(), leaving fn to finish in the background
// (its results are then discarded: the caller must not read them). The
// libraries it calls cannot be interrupted, and a command that was asked to
// stop exits soon after anyway.
func await(ctx context.Context, size int, fn func() error) error {
	if size < awaitSize {
		return fn()
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
