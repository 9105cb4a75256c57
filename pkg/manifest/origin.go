package manifest

import "fmt"

// Origin says where an object was read from, so that every error about it can
// point a person at the exact document to fix.
type Origin struct {
	// File is the path as the user gave it (or found under a directory they gave).
	// Empty for objects that did not come from a file (e.g. read from a cluster).
	File string
	// Document is the 1-based index of the YAML document in File (or of the
	// value in a JSON stream of several); 0 when the file holds a single JSON
	// object or the object did not come from a file.
	Document int
	// Item is the 1-based index inside a `kind: List`, 0 otherwise.
	Item int
	// Line is the 1-based line in File where the document starts, 0 when
	// unknown. It is not part of String (the document number already names
	// the place); editors and lint output use it to jump there.
	Line int
}

// String renders the origin as an error prefix: "sets/idms.yaml: document 2".
func (o Origin) String() string {
	s := o.File
	if o.Document > 0 {
		if s != "" {
			s += ": "
		}
		s += fmt.Sprintf("document %d", o.Document)
	}
	if o.Item > 0 {
		if s != "" {
			s += ": "
		}
		s += fmt.Sprintf("item %d", o.Item)
	}
	return s
}
