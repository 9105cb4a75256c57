package mirrorset

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// PullFrom restricts which pulls a mirror serves, as registries.conf's
// pull-from-mirror does.
type PullFrom string

// The three pull-from-mirror values. Mirror sets only produce DigestOnly (ICSP,
// IDMS, imageContentSources) and TagOnly (ITMS).
const (
	PullFromAll        PullFrom = "all"
	PullFromDigestOnly PullFrom = "digest-only"
	PullFromTagOnly    PullFrom = "tag-only"
)

// serves reports whether a mirror with this restriction is used for a pull.
// Name-only references are tag pulls.
func (p PullFrom) serves(digested bool) bool {
	switch p {
	case PullFromDigestOnly:
		return digested
	case PullFromTagOnly:
		return !digested
	}
	return true
}

// Mirror is one mirror endpoint of a Registry.
type Mirror struct {
	Location string
	PullFrom PullFrom
}

// Registry is one [[registry]] of the effective configuration: everything the
// sets say about one source.
type Registry struct {
	// Prefix is the source string the entry matches.
	Prefix string
	// Location is where the source itself lives: equal to Prefix, or empty for
	// a wildcard prefix, whose references are used unchanged.
	Location string
	// Blocked means NeverContactSource: the source is never contacted.
	Blocked bool
	// Mirrors in try order: the digest group, then the tag group.
	Mirrors []Mirror
	// DigestMirrors and TagMirrors are the two merged groups, kept apart for
	// consumers that must tell them apart (override strings, lint, rendering).
	DigestMirrors []string
	TagMirrors    []string
}

// Config is the effective registries configuration of a collection of mirror
// sets: one Registry per source, indexed for matching.
type Config struct {
	registries []*Registry // sorted by Prefix
	exact      map[string]*Registry
	wildcard   map[string]*Registry // keyed by ".domain", the prefix without "*"
	anyBlocked bool
}

// Compile validates sets and merges them into the effective configuration.
// On any validation error it returns no Config: like the
// machine-config-operator, a consumer must keep its last good configuration
// rather than apply part of a broken one.
func Compile(sets []Set) (*Config, error) {
	return CompileContext(context.Background(), sets)
}

// CompileContext is Compile, giving up once ctx is done, with an error
// wrapping ctx.Err(): a huge input can take seconds to validate and merge.
func CompileContext(ctx context.Context, sets []Set) (*Config, error) {
	if err := ValidateContext(ctx, sets); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("merging mirror sets: %w", err)
	}
	return merge(sets), nil
}

// Registries returns the entries sorted by prefix. The slice and the
// registries are shared: callers must not modify them.
func (c *Config) Registries() []*Registry { return c.registries }

// Len is the number of sources.
func (c *Config) Len() int { return len(c.registries) }

// Lookup returns the entry whose prefix is exactly source, or nil.
func (c *Config) Lookup(source string) *Registry {
	if IsWildcard(source) {
		return c.wildcard[source[1:]]
	}
	return c.exact[source]
}

// merge groups the entries by exact source string, orders each group with the
// machine-config-operator's topological sort and builds the index.
func merge(sets []Set) *Config {
	type group struct {
		digest, tag [][]string
		blocked     bool
	}
	groups := map[string]*group{}
	for si := range sets {
		s := &sets[si]
		for _, e := range s.Entries {
			if !e.HasRealMirrors() {
				continue
			}
			g := groups[e.Source]
			if g == nil {
				g = &group{}
				groups[e.Source] = g
			}
			mirrors := DedupMirrors(e.Mirrors)
			if s.Kind.ForTags() {
				g.tag = append(g.tag, mirrors)
			} else {
				g.digest = append(g.digest, mirrors)
			}
			if e.Blocks() {
				g.blocked = true
			}
		}
	}
	c := &Config{exact: map[string]*Registry{}, wildcard: map[string]*Registry{}}
	for src, g := range groups {
		r := &Registry{Prefix: src, Location: src, Blocked: g.blocked}
		if IsWildcard(src) {
			r.Location = ""
		}
		r.DigestMirrors = orderMirrors(src, g.digest)
		r.TagMirrors = orderMirrors(src, g.tag)
		for _, m := range r.DigestMirrors {
			r.Mirrors = append(r.Mirrors, Mirror{Location: m, PullFrom: PullFromDigestOnly})
		}
		for _, m := range r.TagMirrors {
			r.Mirrors = append(r.Mirrors, Mirror{Location: m, PullFrom: PullFromTagOnly})
		}
		c.add(r)
	}
	c.sort()
	return c
}

func (c *Config) add(r *Registry) {
	c.registries = append(c.registries, r)
	if IsWildcard(r.Prefix) {
		c.wildcard[r.Prefix[1:]] = r
	} else {
		c.exact[r.Prefix] = r
	}
	if r.Blocked {
		c.anyBlocked = true
	}
}

func (c *Config) sort() {
	sort.Slice(c.registries, func(i, j int) bool { return c.registries[i].Prefix < c.registries[j].Prefix })
}

// DedupMirrors drops repeated mirrors, keeping each at its first place: an
// ICSP may list a mirror twice (no schema), IDMS/ITMS may not, and a
// repeated mirror is tried only once anyway. nil stays nil.
func DedupMirrors(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// orderMirrors merges several mirror lists for one source into one order, as
// the machine-config-operator does: each list contributes edges between
// neighbours (and last → source when the source is not in the list); nodes
// are emitted alphabetically-first among those with no remaining incoming
// edge, or alphabetically-first among the rest when only cycles remain. A
// source that comes out last is dropped (it is tried after the mirrors
// anyway); anywhere else it stays as a mirror.
func orderMirrors(source string, lists [][]string) []string {
	if len(lists) == 0 {
		return nil
	}
	succ := map[string]map[string]bool{}
	indeg := map[string]int{}
	node := func(n string) {
		if _, ok := indeg[n]; !ok {
			indeg[n] = 0
		}
	}
	edge := func(a, b string) {
		node(a)
		node(b)
		if succ[a] == nil {
			succ[a] = map[string]bool{}
		}
		if !succ[a][b] {
			succ[a][b] = true
			indeg[b]++
		}
	}
	for _, l := range lists {
		for _, m := range l {
			node(m)
		}
		for i := 0; i+1 < len(l); i++ {
			edge(l[i], l[i+1])
		}
		if !slices.Contains(l, source) {
			edge(l[len(l)-1], source)
		}
	}
	remaining := make([]string, 0, len(indeg))
	for n := range indeg {
		remaining = append(remaining, n)
	}
	sort.Strings(remaining)
	out := make([]string, 0, len(remaining))
	done := map[string]bool{}
	for len(out) < len(remaining) {
		next := ""
		for _, n := range remaining {
			if !done[n] && indeg[n] == 0 {
				next = n
				break
			}
		}
		if next == "" { // a cycle from conflicting lists
			for _, n := range remaining {
				if !done[n] {
					next = n
					break
				}
			}
		}
		done[next] = true
		out = append(out, next)
		for s := range succ[next] {
			indeg[s]--
		}
	}
	if len(out) > 0 && out[len(out)-1] == source {
		out = out[:len(out)-1]
	}
	return out
}

// Find returns the entry a runtime would use for an image name (a normalised
// repository name without tag or digest), or nil when no source covers it:
// the longest matching prefix, ties going to the first in sorted order (a
// wildcard beats an exact prefix of the same length).
//
// The cost does not grow with the number of sources: only the prefixes of
// name that end at a path boundary, and the wildcard suffixes of its host,
// are looked up.
func (c *Config) Find(name string) *Registry {
	var best *Registry
	consider := func(r *Registry) {
		if best == nil || len(r.Prefix) > len(best.Prefix) || (len(r.Prefix) == len(best.Prefix) && r.Prefix < best.Prefix) {
			best = r
		}
	}
	if len(c.exact) > 0 {
		for i := 0; i < len(name); i++ {
			switch name[i] {
			case '/', ':', '@':
				if r, ok := c.exact[name[:i]]; ok {
					consider(r)
				}
			}
		}
		if r, ok := c.exact[name]; ok {
			consider(r)
		}
	}
	if len(c.wildcard) > 0 {
		hostEnd := len(name)
		if i := strings.IndexAny(name, "/:@"); i >= 0 {
			hostEnd = i
		}
		for i := 0; i < hostEnd; i++ {
			if name[i] != '.' {
				continue
			}
			if r, ok := c.wildcard[name[i:hostEnd]]; ok && matchPrefix(name, r.Prefix) >= 0 {
				consider(r)
			}
		}
	}
	return best
}

// matchPrefix returns the length of the part of ref matched by prefix, or -1:
// containers-registries.conf matching on the string form of a name or a
// reference. A plain prefix matches at "/", ":" or "@" (so "example.com" also
// matches "example.com:5000/...", an upstream quirk runtimes still have). A
// "*.domain" prefix matches at the first occurrence of ".domain" if no "/"
// precedes it; the whole host is the matched part.
func matchPrefix(ref, prefix string) int {
	if IsWildcard(prefix) {
		suffix := prefix[1:]
		i := strings.Index(ref, suffix)
		if i < 0 || strings.IndexByte(ref[:i], '/') >= 0 {
			return -1
		}
		i += len(suffix)
		if i == len(ref) {
			return i
		}
		switch ref[i] {
		case ':', '/', '@':
			return i
		}
		return -1
	}
	switch {
	case len(ref) < len(prefix):
		return -1
	case len(ref) == len(prefix):
		if ref == prefix {
			return len(prefix)
		}
		return -1
	}
	if !strings.HasPrefix(ref, prefix) {
		return -1
	}
	switch ref[len(prefix)] {
	case ':', '/', '@':
		return len(prefix)
	}
	return -1
}
