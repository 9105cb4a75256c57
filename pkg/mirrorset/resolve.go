package mirrorset

import (
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
)

// PullSource is one place a runtime would try, in order.
type PullSource struct {
	// Reference is the physical reference to pull.
	Reference imageref.Reference
	// Endpoint is the mirror location used, or the registry's own location
	// (empty for a wildcard, whose reference is used unchanged).
	Endpoint string
	// IsSource is true for the registry's own location, tried after its mirrors.
	IsSource bool
}

// Resolution is the answer to "where would a node pull this image from?".
type Resolution struct {
	// Reference is the normalised reference asked about.
	Reference imageref.Reference
	// PullSources in try order. Empty means the image cannot be pulled at all
	// (its source is blocked and no mirror serves this kind of pull).
	PullSources []PullSource
	// SourceBlocked means the matched entry says NeverContactSource.
	SourceBlocked bool
	// Registry is the matched entry, nil when no source covers the reference.
	Registry *Registry
}

// References returns the pull sources as strings, in try order.
func (r Resolution) References() []string {
	out := make([]string, len(r.PullSources))
	for i, p := range r.PullSources {
		out[i] = p.Reference.String()
	}
	return out
}

// RewriteError reports a mirror whose rewritten reference is not a valid
// canonical reference. A runtime fails the whole pull on it, before trying
// anything, so Resolve does too.
type RewriteError struct {
	Reference string // the reference being resolved
	Prefix    string // the matched source
	Endpoint  string // the mirror (or source location) being substituted
	Candidate string // the string that did not parse
	Err       error
}

func (e *RewriteError) Error() string {
	return fmt.Sprintf("resolving %s: source %q rewritten through %q gives %q, which is not a valid reference (the runtime fails the whole pull): %v",
		e.Reference, e.Prefix, e.Endpoint, e.Candidate, e.Err)
}

func (e *RewriteError) Unwrap() error { return e.Err }

// Resolve parses ref as a runtime would (normalising Docker Hub names) and
// returns where a node would pull it from.
func (c *Config) Resolve(ref string) (Resolution, error) {
	r, err := imageref.Parse(ref)
	if err != nil {
		return Resolution{}, err
	}
	return c.ResolveReference(r)
}

// ResolveReference is Resolve for an already parsed reference.
//
// The list is the containers/image one: the mirrors that serve this kind of
// pull (digest-only mirrors for digest references, tag-only for tag and
// name-only ones), then the source; minus every physical reference that falls
// under a blocked entry, which is how NeverContactSource keeps the source out
// while its mirrors stay usable.
func (c *Config) ResolveReference(ref imageref.Reference) (Resolution, error) {
	res := Resolution{Reference: ref}
	reg := c.Find(ref.Name())
	if reg == nil {
		res.PullSources = []PullSource{{Reference: ref, IsSource: true}}
		return res, nil
	}
	res.Registry = reg
	res.SourceBlocked = reg.Blocked
	full := ref.String()
	matched := matchPrefix(full, reg.Prefix)
	digested := ref.IsDigested()
	sources := make([]PullSource, 0, len(reg.Mirrors)+1)
	rewrite := func(endpoint string, isSource bool) error {
		if endpoint == "" { // wildcard source: the reference itself
			sources = append(sources, PullSource{Reference: ref, IsSource: isSource})
			return nil
		}
		if isSource && endpoint == reg.Prefix {
			sources = append(sources, PullSource{Reference: ref, Endpoint: endpoint, IsSource: true})
			return nil
		}
		candidate := endpoint + full[matched:]
		p, err := imageref.ParseCanonical(candidate)
		if err != nil {
			return &RewriteError{Reference: full, Prefix: reg.Prefix, Endpoint: endpoint, Candidate: candidate, Err: err}
		}
		sources = append(sources, PullSource{Reference: p, Endpoint: endpoint, IsSource: isSource})
		return nil
	}
	for _, m := range reg.Mirrors {
		if !m.PullFrom.serves(digested) {
			continue
		}
		if err := rewrite(m.Location, false); err != nil {
			return Resolution{}, err
		}
	}
	if err := rewrite(reg.Location, true); err != nil {
		return Resolution{}, err
	}
	if c.anyBlocked {
		kept := sources[:0]
		for _, p := range sources {
			if b := c.Find(p.Reference.Name()); b != nil && b.Blocked {
				continue
			}
			kept = append(kept, p)
		}
		sources = kept
	}
	res.PullSources = sources
	return res, nil
}
