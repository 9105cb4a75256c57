package lint

import (
	"context"
	"fmt"
	"sort"
)

// Severity says how much a finding matters: whether it should stop a change
// from being applied, or only be read.
type Severity int

// The three severities of the catalogue. Their order is their weight, so
// callers may compare them (f.Severity >= Warning).
const (
	// Info marks something harmless that is worth tidying (a deprecated
	// kind, a duplicate mirror).
	Info Severity = iota
	// Warning marks configuration that is accepted but does not do what it
	// appears to say, or breaks some pulls or some consumers.
	Warning
	// Error marks configuration that is rejected, or that makes pulls fail.
	// The CLI exits 1 when any finding has this severity.
	Error
)

// String is the lowercase name used in JSON output and messages.
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText writes the severity by name, so JSON output stays readable and
// does not depend on the numeric order of the constants.
func (s Severity) MarshalText() ([]byte, error) {
	switch s {
	case Info, Warning, Error:
		return []byte(s.String()), nil
	}
	return nil, fmt.Errorf("unknown severity %d", int(s))
}

// UnmarshalText reads what MarshalText writes, so tools can read JSON output back.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "info":
		*s = Info
	case "warning":
		*s = Warning
	case "error":
		*s = Error
	default:
		return fmt.Errorf("unknown severity %q: want error, warning or info", b)
	}
	return nil
}

// Finding is one mistake found, located precisely enough to fix it without
// reading the rest of the input.
type Finding struct {
	// Code is the catalogue code (HCM001...): stable, so it can be searched
	// for and documented.
	Code string `json:"code"`
	// Severity comes from the catalogue; it depends only on the code, except
	// that anything validation rejects is an Error.
	Severity Severity `json:"severity"`
	// Object names the object the finding is about, as
	// mirrorset.Set.Describe does: origin, kind and name.
	Object string `json:"object"`
	// Field is the path inside the object, such as
	// spec.imageDigestMirrors[1].mirrors[0]; empty when the whole object is meant.
	Field string `json:"field,omitempty"`
	// Message says what is wrong and why it hurts.
	Message string `json:"message"`
	// Fix says what to change.
	Fix string `json:"fix"`
	// Images names, in full, the images a finding is about when the
	// message abbreviates them (HCM009 on a release: every component of
	// an unmirrored repository).
	Images []string `json:"images,omitempty"`
}

// String formats a finding on one line, the way errors are formatted elsewhere:
// "error HCM006 <object> <field>: <message>".
func (f Finding) String() string {
	where := f.Object
	if f.Field != "" {
		where += " " + f.Field
	}
	return fmt.Sprintf("%s %s %s: %s", f.Severity, f.Code, where, f.Message)
}

// Count returns how many findings have each severity, for summaries.
func Count(findings []Finding) (errors, warnings, infos int) {
	for _, f := range findings {
		switch f.Severity {
		case Error:
			errors++
		case Warning:
			warnings++
		default:
			infos++
		}
	}
	return errors, warnings, infos
}

// HasErrors reports whether any finding is an Error, which is what decides a
// failing exit status.
func HasErrors(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// rule is one row of the catalogue (docs/semantics.md §9).
type rule struct {
	severity Severity
	fix      string
}

// catalogue holds the severity and the generic fix of every code. Messages
// are written where the finding is made, since they name the values involved.
var catalogue = map[string]rule{
	"HCM001": {Error, "write the source as a plain prefix: host[:port][/path] with a lowercase path, or *.domain; no scheme, tag, digest or trailing slash"},
	"HCM002": {Error, "write the mirror as host[:port][/path] with a lowercase path; no scheme, tag, digest, wildcard or trailing slash"},
	"HCM003": {Error, "give the source one mirrorSourcePolicy in every set that names it"},
	"HCM004": {Error, "remove the source from its own mirrors"},
	"HCM005": {Warning, "add real mirrors to the entry, or drop its mirrorSourcePolicy"},
	"HCM006": {Error, "use the mirror's fully qualified host name, or host:port"},
	"HCM007": {Error, "give the mirror a repository path (mirror.example.com/ns/repo)"},
	"HCM008": {Warning, "add explicit entries for both quay.io/openshift-release-dev/ocp-release and quay.io/openshift-release-dev/ocp-v4.0-art-dev"},
	"HCM009": {Error, "add a mirror-set entry covering the repository"},
	"HCM010": {Warning, "add an entry for the host:port source the references use, with a mirror for it"},
	"HCM011": {Warning, "add explicit host sources for the registries behind the wildcard"},
	"HCM012": {Warning, "repeat the shorter source's mirrors (with the path suffix) in the longer entry, or drop the longer entry"},
	"HCM013": {Warning, "make every mirror list for the source agree on the order"},
	"HCM014": {Warning, "remove the source from its mirrors: once removed, it is tried last, after every mirror"},
	"HCM015": {Info, "remove the duplicate"},
	"HCM016": {Warning, "adjust one of the two sources so that only one matches these images"},
	"HCM017": {Warning, "reference the image by digest, or add an ImageTagMirrorSet entry for the repository"},
	"HCM018": {Warning, "add an ImageTagMirrorSet entry for the source, or pull its images by digest only"},
	"HCM019": {Warning, "move the mirror out of the blocked scope, or unblock the scope"},
	"HCM020": {Warning, "use the normalised Docker Hub name: docker.io/library/<image> for official images"},
	"HCM021": {Warning, "write the host in lowercase"},
	"HCM022": {Warning, "use repository-level entries: host/namespace/repository → mirror-host/namespace/repository"},
	"HCM023": {Warning, "use the real registry host name (with a dot or a port), or localhost"},
	"HCM024": {Info, "convert ImageContentSourcePolicy objects to ImageDigestMirrorSets with `hcpmirror convert`"},
	"HCM025": {Error, "render the value with `hcpmirror overrides` instead of writing it by hand"},
	"HCM026": {Error, "set all four catalog pin annotations, each to an image reference by digest"},
	"HCM027": {Warning, "use a key that is a prefix of the catalog images (registry.redhat.io/redhat, or registry.redhat.io/redhat/<index>)"},
	"HCM028": {Warning, "derive imageContentSources from the management sets with `hcpmirror sync-ics`"},
	"HCM029": {Warning, "combine every oc-mirror run into one complete set with `hcpmirror merge` and apply that instead"},
	"HCM030": {Warning, "mirror the KubeVirt container image (the release's coreos-bootimages kubevirt digest-ref) and add an entry covering its repository"},
	"HCM031": {Error, "add the missing entry so both release repositories are mirrored"},
	"HCM033": {Warning, "give each object its own name, or delete the earlier one: applying both keeps only the last"},
	"HCM034": {Error, "name the object with a DNS subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"},
	"HCM035": {Error, "use a shorter mirror path: a repository name (host and path) may have at most 255 characters"},
	"HCM036": {Warning, "render the value from the mirror sets with `hcpmirror overrides`"},
	"HCM032": {Error, "fix the file so it reads, or point -f at the mirror sets (kinds ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet)"},
}

// newFinding fills severity and fix from the catalogue.
func newFinding(code, object, field, message string) Finding {
	r, ok := catalogue[code]
	if !ok {
		panic("lint: code not in the catalogue: " + code)
	}
	return Finding{Code: code, Severity: r.severity, Object: object, Field: field, Message: message, Fix: r.fix}
}

// position orders findings in file order: by input group (management sets,
// then the release, then each HostedCluster), object, entry and field.
type position struct {
	group, set, entry, sub int
}

func (p position) less(q position) bool {
	switch {
	case p.group != q.group:
		return p.group < q.group
	case p.set != q.set:
		return p.set < q.set
	case p.entry != q.entry:
		return p.entry < q.entry
	}
	return p.sub < q.sub
}

// located is a finding with its place in the input, used only for sorting.
type located struct {
	pos position
	f   Finding
}

// collector gathers findings as checks make them, and watches the context
// for the long loops.
type collector struct {
	items []located
	ctx   context.Context
	calls int
	err   error
}

// stopped reports whether the run is to stop because ctx is done, looking
// at ctx once every 256 calls (often enough to stop within milliseconds);
// then c.err says why.
func (c *collector) stopped() bool {
	if c.err != nil {
		return true
	}
	if c.calls++; c.calls%256 != 0 {
		return false
	}
	if err := c.ctx.Err(); err != nil {
		c.err = fmt.Errorf("linting mirror sets: %w", err)
		return true
	}
	return false
}

func (c *collector) add(pos position, code, object, field, format string, args ...any) {
	c.items = append(c.items, located{pos, newFinding(code, object, field, fmt.Sprintf(format, args...))})
}

// sorted returns the findings in file order, then code; findings at the same
// place with the same code keep the order they were made in.
func (c *collector) sorted() []Finding {
	sort.SliceStable(c.items, func(i, j int) bool {
		a, b := c.items[i], c.items[j]
		if a.pos != b.pos {
			return a.pos.less(b.pos)
		}
		return a.f.Code < b.f.Code
	})
	out := make([]Finding, len(c.items))
	for i, l := range c.items {
		out[i] = l.f
	}
	return out
}
