package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	sigsjson "sigs.k8s.io/json"
)

// Object is one Kubernetes-style object as read from a file: enough of its
// identity to route and name it, and its full content as JSON so that the
// caller can decode it into whatever type the kind calls for.
type Object struct {
	// Origin is where the object was read from; every error about the
	// object starts with it.
	Origin Origin
	// APIVersion and Kind are the object's type, as written. They are not
	// defaulted or normalised, so that a caller matching on them sees exactly
	// what the user wrote.
	APIVersion string
	Kind       string
	// Name and Namespace are metadata.name and metadata.namespace, empty when
	// unset.
	Name      string
	Namespace string
	// Raw is the object as JSON. Input that was JSON keeps its fields as
	// written, duplicates included, so that DecodeStrict can report them.
	Raw []byte
}

// Describe names the object for messages: its origin, kind and name, as in
// `sets/idms.yaml: document 2: ImageDigestMirrorSet "ocp"`. Namespaced
// objects are named "namespace/name".
func (o Object) Describe() string {
	name := o.Name
	if o.Namespace != "" {
		name = o.Namespace + "/" + name
	}
	kind := o.Kind
	if kind == "" {
		kind = "object"
	}
	d := fmt.Sprintf("%s %q", kind, name)
	if origin := o.Origin.String(); origin != "" {
		d = origin + ": " + d
	}
	return d
}

// DecodeStrict decodes Raw into the value into points to, matching field
// names case-sensitively. Unlike a lenient decode, a field into does not
// declare, or a field given twice, is an error: a misspelt field in a mirror
// set would otherwise be dropped silently and change what the cluster does.
// Every problem is reported, each as its own error naming the object and the
// field path, e.g.
//
//	sets/idms.yaml: document 2: ImageDigestMirrorSet "ocp": unknown field "spec.imageDigestMirrors[0].mirorrs"
//
// The errors are joined with errors.Join. A value of the wrong type (a
// *TypeError) stops decoding, so unknown and duplicate fields are only
// reported once the types are right.
func (o Object) DecodeStrict(into any) error {
	return o.decodeStrict(into)
}

// DecodeStrictContext is DecodeStrict, returning ctx.Err() as soon as ctx is
// done when o is large (a megabyte or more): into must then not be used, as
// the decode may still be writing to it.
func (o Object) DecodeStrictContext(ctx context.Context, into any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return await(ctx, len(o.Raw), func() error { return o.decodeStrict(into) })
}

func (o Object) decodeStrict(into any) error {
	strictErrs, err := sigsjson.UnmarshalStrict(o.Raw, into)
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", o.Describe(), describeDecodeError(o.Raw, err)))
	}
	for _, e := range strictErrs {
		errs = append(errs, fmt.Errorf("%s: %w", o.Describe(), e))
	}
	return errors.Join(errs...)
}

// TypeError is a JSON value of the wrong type for the field it was decoded
// into. It replaces encoding/json's message, which names Go types and
// drops list indices, with the field path and JSON type names a person
// editing the YAML understands.
type TypeError struct {
	// Path is the field path, e.g. "spec.imageDigestMirrors[0].mirrors";
	// empty for the document itself.
	Path string
	// Got describes the value found: "string", "number 5", "array", ...
	Got string
	// Want is the JSON type the field takes: "string", "array", ...
	Want string
	// Err is the decoder's own error.
	Err error
}

// Error reports the path and both types: `spec.x: expected array, got string`.
func (e *TypeError) Error() string {
	msg := fmt.Sprintf("expected %s, got %s", e.Want, e.Got)
	if e.Path != "" {
		msg = e.Path + ": " + msg
	}
	return msg
}

// Unwrap returns the decoder's error.
func (e *TypeError) Unwrap() error { return e.Err }

// describeDecodeError turns the decoder's type errors into a TypeError with
// a full field path; other errors are returned unchanged.
func describeDecodeError(data []byte, err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	path, ok := pathAt(data, te.Offset)
	if !ok {
		path = te.Field
	}
	got := te.Value
	if got == "bool" {
		got = "boolean"
	}
	return &TypeError{Path: path, Got: got, Want: jsonType(te.Type), Err: err}
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string" // []byte is base64 text
		}
		return "array"
	case reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// pathAt finds the field path of the JSON value that ends at offset, which
// is where encoding/json reports a type error: just past a scalar, or just
// past the opening bracket of an array or object.
func pathAt(data []byte, offset int64) (string, bool) {
	type frame struct {
		array     bool
		index     int
		key       string
		expectKey bool
	}
	var stack []*frame
	path := func() string {
		var b bytes.Buffer
		for _, f := range stack {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	// done moves the innermost container past the value just finished.
	done := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.array {
			top.index++
		} else {
			top.expectKey = true
		}
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			done()
			continue
		}
		if top != nil && !top.array && top.expectKey {
			top.key, _ = tok.(string)
			top.expectKey = false
			continue
		}
		// tok starts or is a value.
		if dec.InputOffset() >= offset {
			return path(), true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{array: true})
		default:
			done()
		}
	}
}
