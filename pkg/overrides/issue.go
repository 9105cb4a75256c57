package overrides

// Lint codes used in [Issue.Code]; the lint catalogue defines their severity.
const (
	// CodeMalformed marks a string that a HyperShift reader rejects, or
	// accepts while dropping or distorting part of it.
	CodeMalformed = "HCM025"
	// CodeDuplicate marks an entry that repeats an earlier one: harmless
	// noise in OPENSHIFT_IMG_OVERRIDES (the mirror is probed twice), a lost
	// replacement in --registry-overrides (the last one wins).
	CodeDuplicate = "HCM015"
)

// Issue is one finding about an override string. It is a plain value rather
// than an error because a linter collects and prints findings; a decoder that
// must stop returns an error instead.
type Issue struct {
	// Code is the lint catalogue code, such as CodeMalformed, so callers can
	// map it to a severity and a fix.
	Code string
	// Message names the piece or field involved (by position and text) and
	// says what a HyperShift component would make of it.
	Message string
}

// String formats the issue as "CODE: message", the shape the CLI prints.
func (i Issue) String() string { return i.Code + ": " + i.Message }
