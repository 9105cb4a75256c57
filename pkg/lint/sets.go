package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// hostOf is the host[:port] part of a source or mirror string.
func hostOf(s string) string {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

// pathDepth is the number of path components after the host.
func pathDepth(s string) int {
	if strings.IndexByte(s, '/') < 0 {
		return 0
	}
	return strings.Count(s, "/")
}

// singleLabelHost reports whether a host is neither a domain name, nor has a
// port, nor is localhost. The reference grammar then reads it as the first
// path component of a Docker Hub name, not as a registry.
func singleLabelHost(host string) bool {
	return !strings.ContainsAny(host, ".:") && host != "localhost"
}

// hasUpper reports whether s holds an ASCII uppercase letter.
func hasUpper(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
}

// checkEntries runs the checks that look at one object or entry at a time.
func (g *group) checkEntries(c *collector) {
	if g.management {
		for si := range g.sets {
			s := &g.sets[si]
			if s.Kind == mirrorset.KindICSP {
				c.add(position{g.id, si, -1, 0}, "HCM024", s.Describe(), "",
					"ImageContentSourcePolicy is deprecated in favour of ImageDigestMirrorSet; it still works (digest pulls only), but new clusters may stop serving it")
			}
			g.checkName(c, si)
		}
		g.checkSameName(c)
	}
	g.eachValid(func(l loc, s *mirrorset.Set, e mirrorset.Entry) {
		obj := g.object(l)
		if e.Blocks() && !e.HasRealMirrors() {
			what := "has no mirrors"
			if len(e.Mirrors) > 0 {
				what = "lists only the source itself as a mirror"
			}
			c.add(g.pos(l, 0), "HCM005", obj, g.field(l, ".mirrorSourcePolicy"),
				"NeverContactSource on an entry that %s: the machine-config-operator ignores such entries entirely, policy included, so %q is still contacted", what, e.Source)
		}
		if !e.HasRealMirrors() {
			return // ignored upstream: nothing below applies
		}
		g.checkSource(c, l, obj, e)
		seen := map[string]int{}
		for mi, m := range e.Mirrors {
			field := g.field(l, fmt.Sprintf(".mirrors[%d]", mi))
			pos := g.pos(l, mi+1)
			if first, dup := seen[m]; dup {
				// Only ICSP gets here: validation rejects duplicates elsewhere.
				c.add(pos, "HCM015", obj, field,
					"mirror %q repeats mirrors[%d]; merging drops the copy, but HyperShift-built consumers probe it twice", m, first)
				continue
			}
			seen[m] = mi
			if m == e.Source {
				g.checkSourceAsMirror(c, pos, obj, field, e)
				continue
			}
			g.checkMirror(c, pos, obj, field, e, m)
		}
	})
}

// checkName holds an object's name to what the API server accepts for a
// cluster-scoped object (HCM034): set, and a DNS subdomain of at most 253
// characters.
func (g *group) checkName(c *collector, si int) {
	s := &g.sets[si]
	if s.Kind == mirrorset.KindImageContentSources {
		return // named namespace/name by FromHostedCluster; not an object here
	}
	if err := mirrorset.CheckName(s.Name); err != nil {
		c.add(position{g.id, si, -1, 0}, "HCM034", s.Describe(), "metadata.name", "%v: the API server refuses the object", err)
	}
}

// checkSameName reports objects that a later one of the same kind and name
// replaces when both are applied (HCM033): oc apply keeps only the last,
// while reading the files would use both. oc-mirror v1's reused ICSP names
// are HCM029's, which says what is lost.
func (g *group) checkSameName(c *collector) {
	type key struct {
		kind mirrorset.Kind
		name string
	}
	last := map[key]int{}
	for si, s := range g.sets {
		if s.Name != "" {
			last[key{s.Kind, s.Name}] = si
		}
	}
	for si := range g.sets {
		s := &g.sets[si]
		li, ok := last[key{s.Kind, s.Name}]
		if !ok || li == si || (s.Kind == mirrorset.KindICSP && ocMirrorName.MatchString(s.Name)) {
			continue
		}
		c.add(position{g.id, si, -1, 0}, "HCM033", s.Describe(), "",
			"%s has the same kind and name: applying both keeps only the last, so a cluster never has this object's %d entries (hcpmirror's other commands use the last one, as the cluster would)", g.sets[li].Describe(), len(s.Entries))
	}
}

// checkSource looks at an effective entry's source string.
func (g *group) checkSource(c *collector, l loc, obj string, e mirrorset.Entry) {
	src := e.Source
	field := g.field(l, ".source")
	pos := g.pos(l, 0)
	host := hostOf(src)
	if mirrorset.IsWildcard(src) {
		if g.management {
			c.add(pos, "HCM011", obj, field,
				"wildcard source %q is applied by node runtimes and hcpmirror, but HyperShift-built consumers (release lookup, image metadata, ignition server) ignore wildcard sources and go to the source registries", src)
		}
	} else if singleLabelHost(host) {
		c.add(pos, "HCM023", obj, field,
			"source host %q has one label and no port, so it is not a registry host: a reference starting with it is read as a Docker Hub path (docker.io/%s), so this source never matches", host, src)
	}
	switch {
	case host == "index.docker.io":
		c.add(pos, "HCM020", obj, field,
			"source %q never matches: references on index.docker.io are normalised to docker.io before matching", src)
	case host == "docker.io" && pathDepth(src) == 1 && src != "docker.io/library":
		name := strings.TrimPrefix(src, "docker.io/")
		c.add(pos, "HCM020", obj, field,
			"source %q matches only images in the Docker Hub namespace %q (docker.io/%s/...); the official image %q is normalised to docker.io/library/%s, which it does not match", src, name, name, name, name)
	}
	if hasUpper(host) {
		c.add(pos, "HCM021", obj, field,
			"source host %q has uppercase letters; matching is case-sensitive and references are written in lowercase, so it misses them", host)
	}
	if g.management && !mirrorset.IsWildcard(src) && pathDepth(src) == 0 && strings.Contains(host, ":") {
		c.add(pos, "HCM022", obj, field,
			"root source with a port %q: HyperShift-built consumers (release lookup, image metadata, static --registry-overrides) do not match it, so they pull its images from the source", src)
	}
}

// checkSourceAsMirror reports an entry listing its own source (HCM014). With
// NeverContactSource that is a validation error (HCM004) and never gets here.
func (g *group) checkSourceAsMirror(c *collector, pos position, obj, field string, e mirrorset.Entry) {
	var ahead []string
	if g.cfg != nil {
		if r := g.cfg.Lookup(e.Source); r != nil {
			for _, group := range [][]string{r.DigestMirrors, r.TagMirrors} {
				for i, m := range group {
					if m == e.Source {
						ahead = append(ahead, group[i+1:]...)
						break
					}
				}
			}
		}
	}
	if len(ahead) > 0 {
		c.add(pos, "HCM014", obj, field,
			"the source %q is listed among its own mirrors, so it is contacted before %s", e.Source, quoteList(ahead, 5))
		return
	}
	c.add(pos, "HCM014", obj, field,
		"the source %q is listed among its own mirrors; it is last after merging now, but any other list for this source can move it ahead of real mirrors", e.Source)
}

// checkMirror looks at one mirror of an effective entry.
func (g *group) checkMirror(c *collector, pos position, obj, field string, e mirrorset.Entry, m string) {
	src := e.Source
	host := hostOf(m)
	if singleLabelHost(host) {
		c.add(pos, "HCM006", obj, field,
			"mirror host %q has one label and no port: every rewritten reference (%s/...) is read as a Docker Hub name, not canonical, so every pull through this entry fails", host, m)
	}
	srcDepth, mDepth := pathDepth(src), pathDepth(m)
	wild := mirrorset.IsWildcard(src)
	if !wild && srcDepth >= 2 && mDepth == 0 {
		c.add(pos, "HCM007", obj, field,
			"repository source %q is mirrored to the bare host %q: a pull of %s itself rewrites to %s@sha256:… (or %s:tag), which is not a valid reference, so pulls of that repository fail", src, m, src, m, m)
	}
	if mDepth > 0 && (wild || (srcDepth == 0 && !strings.Contains(src, ":"))) {
		example := "a.example.com:5000/ns/img"
		if !wild {
			example = src + ":5000/ns/img"
		}
		c.add(pos, "HCM010", obj, field,
			"host-only source %q also matches references with a port (%s), and the port ends up after the mirror's path (%s:5000/ns/img), which is not a valid reference: the whole pull fails", src, example, m)
	}
	if g.management && !wild && srcDepth >= 2 && mDepth == 1 {
		c.add(pos, "HCM022", obj, field,
			"one-component mirror %q for repository source %q: HyperShift-built consumers parse a mirror into namespace and name and fail on it, though node runtimes use it", m, src)
	}
	g.checkLength(c, pos, obj, field, e, m)
	if g.cfg != nil {
		if r := g.cfg.Find(m); r != nil && r.Blocked {
			c.add(pos, "HCM019", obj, field,
				"mirror %q lies inside %q, whose NeverContactSource blocks it: the runtime refuses every reference rewritten to this mirror", m, r.Prefix)
		}
	}
}

// checkLength reports a mirror whose rewritten names exceed the runtimes'
// limit on a repository name (HCM035): every pull through a mirror longer
// than the limit fails, and with a release given, so do the pulls of its
// images whose rewritten name is too long.
func (g *group) checkLength(c *collector, pos position, obj, field string, e mirrorset.Entry, m string) {
	if len(m) > imageref.NameTotalLengthMax {
		c.add(pos, "HCM035", obj, field,
			"mirror of %d characters: every name rewritten to it is longer than the %d characters runtimes accept, so every pull through it fails", len(m), imageref.NameTotalLengthMax)
		return
	}
	if mirrorset.IsWildcard(e.Source) {
		return
	}
	for _, ref := range g.refsUnder[e.Source] {
		if n := len(m) + len(ref) - len(e.Source); n > imageref.NameTotalLengthMax {
			c.add(pos, "HCM035", obj, field,
				"release image %s is rewritten to a name of %d characters (%s...), longer than the %d characters runtimes accept, so its pull through this mirror fails", ref, n, m, imageref.NameTotalLengthMax)
			return
		}
	}
}

// checkDuplicates reports entries repeating an earlier one exactly: same
// kind of pull, source, mirrors and policy.
func (g *group) checkDuplicates(c *collector) {
	seen := map[string]loc{}
	g.eachValid(func(l loc, s *mirrorset.Set, e mirrorset.Entry) {
		if !e.HasRealMirrors() {
			return
		}
		key := fmt.Sprintf("%t\x00%t\x00%s\x00%s", s.Kind.ForTags(), e.Blocks(), e.Source, strings.Join(mirrorset.DedupMirrors(e.Mirrors), "\x00"))
		first, ok := seen[key]
		if !ok {
			seen[key] = l
			return
		}
		if f := &g.sets[first.set]; first.set != l.set && f.Kind == s.Kind && f.Name == s.Name {
			return // one replaces the other when applied: HCM029's or HCM033's concern
		}
		c.add(g.pos(l, 0), "HCM015", g.object(l), g.field(l, ""),
			"entry for %q repeats %s %s (same source, mirrors and policy); harmless, but HyperShift-built consumers probe its mirrors twice", e.Source, g.object(first), g.field(first, ""))
	})
}

// checkOrders reports lists for one source that order two endpoints
// differently (HCM013). A list that does not name the source ends with it,
// as the machine-config-operator's merge assumes.
func (g *group) checkOrders(c *collector) {
	type list struct {
		l     loc
		order []string
	}
	type key struct {
		source string
		tags   bool
	}
	lists := map[key][]list{}
	var keys []key
	// A list equal to an earlier one for its source cannot conflict where
	// that one does not, so only distinct orders are compared: oc-mirror
	// output repeats the same list many times, and the pairs are quadratic.
	seen := map[string]bool{}
	g.eachValid(func(l loc, s *mirrorset.Set, e mirrorset.Entry) {
		if !e.HasRealMirrors() {
			return
		}
		order := mirrorset.DedupMirrors(e.Mirrors)
		if !slices.Contains(order, e.Source) {
			order = append(order, e.Source)
		}
		k := key{e.Source, s.Kind.ForTags()}
		id := fmt.Sprintf("%s\x00%t\x00%s", k.source, k.tags, strings.Join(order, "\x00"))
		if seen[id] {
			return
		}
		seen[id] = true
		if _, ok := lists[k]; !ok {
			keys = append(keys, k)
		}
		lists[k] = append(lists[k], list{l, order})
	})
	for _, k := range keys {
		ls := lists[k]
	pairs:
		for j := 1; j < len(ls); j++ {
			for i := 0; i < j; i++ {
				a, b, ok := conflict(ls[i].order, ls[j].order)
				if !ok {
					continue
				}
				msg := fmt.Sprintf("orders %q before %q, but %s %s orders them the other way round; the machine-config-operator then falls back to alphabetical order",
					a, b, g.object(ls[i].l), g.field(ls[i].l, ""))
				if a == k.source || b == k.source {
					msg += fmt.Sprintf(", which can put the source %q ahead of mirrors", k.source)
				}
				if g.cfg != nil {
					if r := g.cfg.Lookup(k.source); r != nil {
						merged := r.DigestMirrors
						if k.tags {
							merged = r.TagMirrors
						}
						msg += fmt.Sprintf(" (merged order: %s)", quoteList(merged, 10))
					}
				}
				c.add(g.pos(ls[j].l, 0), "HCM013", g.object(ls[j].l), g.field(ls[j].l, ".mirrors"), "%s", msg)
				break pairs // once per source: the merged order says the rest
			}
		}
	}
}

// conflict returns two elements that later orders as a, b while earlier has b
// before a.
func conflict(earlier, later []string) (a, b string, ok bool) {
	pos := make(map[string]int, len(earlier))
	for i, s := range earlier {
		pos[s] = i
	}
	for i, x := range later {
		px, okx := pos[x]
		if !okx {
			continue
		}
		for _, y := range later[i+1:] {
			if py, oky := pos[y]; oky && py < px {
				return x, y, true
			}
		}
	}
	return "", "", false
}

// checkConfig runs the checks that need the merged configuration.
func (g *group) checkConfig(c *collector) {
	regs := g.cfg.Registries()
	for _, r := range regs {
		if g.c.stopped() {
			return
		}
		l, ok := g.at(r.Prefix)
		if !ok {
			continue
		}
		obj := g.object(l)
		if p := parent(g.cfg, r.Prefix); p != nil {
			g.checkHidden(c, l, obj, r, p)
		}
		if w := equalWildcard(g.cfg, r.Prefix); w != nil {
			c.add(g.pos(l, 0), "HCM016", obj, g.field(l, ".source"),
				"source %q and wildcard source %q are the same length and both match %s/...; ties go to the first in sorted order, where \"*\" comes first, so the wildcard's entry is used and this one's mirrors and policy never are", r.Prefix, w.Prefix, r.Prefix)
		}
		if r.Blocked && len(r.TagMirrors) == 0 && len(r.DigestMirrors) > 0 && r.Prefix != componentRepository {
			c.add(g.pos(l, 0), "HCM018", obj, g.field(l, ".mirrorSourcePolicy"),
				"%q is NeverContactSource with digest mirrors only: tag pulls have no mirror and may not use the source, so every tag pull from it fails", r.Prefix)
		}
		if g.management && !mirrorset.IsWildcard(r.Prefix) && pathDepth(r.Prefix) >= 2 {
			if below := g.below(r.Prefix); below != "" {
				c.add(g.pos(l, 0), "HCM022", obj, g.field(l, ".source"),
					"source %q is used as a multi-level namespace (%q lies below it); HyperShift-built consumers compare namespace and name exactly, so they match only %s itself, not the images below it", r.Prefix, below, r.Prefix)
			}
		}
	}
	g.checkReleaseRepositories(c)
}

// below returns a source or release reference strictly below prefix, or "":
// the first in sorted order among the sources, else among the release
// references. Both lists are sorted, so everything below prefix is one run
// starting where prefix+"/" would be inserted: a binary search, not a scan,
// which kept lint quadratic in the number of sources.
func (g *group) below(prefix string) string {
	if r := firstBelow(g.cfg.Registries(), func(r *mirrorset.Registry) string { return r.Prefix }, prefix); r != nil {
		return (*r).Prefix
	}
	if ref := firstBelow(g.refsBelow, func(s string) string { return s }, prefix); ref != nil {
		return *ref
	}
	return ""
}

// firstBelow returns the first element of sorted whose key starts with
// prefix+"/", or nil.
func firstBelow[T any](sorted []T, key func(T) string, prefix string) *T {
	lower := prefix + "/"
	i, _ := slices.BinarySearchFunc(sorted, lower, func(e T, t string) int { return strings.Compare(key(e), t) })
	if i < len(sorted) && strings.HasPrefix(key(sorted[i]), lower) {
		return &sorted[i]
	}
	return nil
}

// checkHidden reports what a longer source r loses from the shorter source p
// that would otherwise serve its images (HCM012): only the longest match is
// used, so p's mirrors and policy do not apply below r.
func (g *group) checkHidden(c *collector, l loc, obj string, r, p *mirrorset.Registry) {
	suffix := rewriteSuffix(r.Prefix, p.Prefix)
	var missing []string
	for _, grp := range [][2][]string{{p.DigestMirrors, r.DigestMirrors}, {p.TagMirrors, r.TagMirrors}} {
		for _, m := range grp[0] {
			if want := m + suffix; !slices.Contains(grp[1], want) && !slices.Contains(missing, want) {
				missing = append(missing, want)
			}
		}
	}
	lostBlock := p.Blocked && !r.Blocked
	if len(missing) == 0 && !lostBlock {
		return
	}
	var what []string
	if len(missing) > 0 {
		what = append(what, fmt.Sprintf("the mirrors of %q (%s for these images) are not tried", p.Prefix, quoteList(missing, 5)))
	}
	if lostBlock {
		what = append(what, fmt.Sprintf("the NeverContactSource of %q does not apply, so %q is contacted", p.Prefix, r.Prefix))
	}
	c.add(g.pos(l, 0), "HCM012", obj, g.field(l, ".source"),
		"images under %q match this longer source instead of %q, and only the longest match is used: %s", r.Prefix, p.Prefix, strings.Join(what, ", and "))
}

// rewriteSuffix is what a mirror of parent p needs appended to stand for the
// longer prefix r: the part of r after p's match (after the host for a
// wildcard, nothing when r is itself a wildcard).
func rewriteSuffix(r, p string) string {
	if mirrorset.IsWildcard(p) {
		if mirrorset.IsWildcard(r) {
			return ""
		}
		return r[hostEnd(r):]
	}
	return r[len(p):]
}

// hostEnd is the index where the host of a name or prefix ends.
func hostEnd(s string) int {
	if i := strings.IndexAny(s, "/:@"); i >= 0 {
		return i
	}
	return len(s)
}

// parent returns the entry a runtime would use for prefix's images if
// prefix's own entry did not exist: the longest strictly shorter source that
// matches prefix, with the runtime's tie rule.
func parent(cfg *mirrorset.Config, prefix string) *mirrorset.Registry {
	var best *mirrorset.Registry
	consider := func(r *mirrorset.Registry) {
		if r == nil || len(r.Prefix) >= len(prefix) {
			return
		}
		if best == nil || len(r.Prefix) > len(best.Prefix) || (len(r.Prefix) == len(best.Prefix) && r.Prefix < best.Prefix) {
			best = r
		}
	}
	if mirrorset.IsWildcard(prefix) {
		dom := prefix[1:]
		for i := 1; i < len(dom); i++ {
			if dom[i] == '.' {
				consider(cfg.Lookup("*" + dom[i:]))
			}
		}
		return best
	}
	for i := 0; i < len(prefix); i++ {
		switch prefix[i] {
		case '/', ':', '@':
			consider(cfg.Lookup(prefix[:i]))
		}
	}
	for _, w := range wildcardsMatching(cfg, prefix) {
		consider(w)
	}
	return best
}

// wildcardsMatching returns the wildcard entries that match a non-wildcard
// prefix: the first occurrence of their ".domain" in the host, followed by
// the end of the host.
func wildcardsMatching(cfg *mirrorset.Config, prefix string) []*mirrorset.Registry {
	end := hostEnd(prefix)
	var out []*mirrorset.Registry
	for i := 1; i < end; i++ {
		if prefix[i] != '.' {
			continue
		}
		suffix := prefix[i:end]
		if strings.Index(prefix, suffix) != i {
			continue
		}
		if r := cfg.Lookup("*" + suffix); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// equalWildcard returns a wildcard entry of the same length as a
// non-wildcard prefix that matches it (HCM016), or nil.
func equalWildcard(cfg *mirrorset.Config, prefix string) *mirrorset.Registry {
	if mirrorset.IsWildcard(prefix) {
		return nil
	}
	for _, w := range wildcardsMatching(cfg, prefix) {
		if len(w.Prefix) == len(prefix) {
			return w
		}
	}
	return nil
}

// checkReleaseRepositories checks how the sets cover the two release
// repositories (HCM008, HCM031).
func (g *group) checkReleaseRepositories(c *collector) {
	repos := []string{releaseRepository, componentRepository}
	var found [2]*mirrorset.Registry
	for i, repo := range repos {
		found[i] = g.cfg.Find(repo)
	}
	if g.management {
		// One finding per broad source, naming the repositories it covers.
		broad := map[*mirrorset.Registry][]string{}
		var order []*mirrorset.Registry
		for i, r := range found {
			if r == nil || r.Prefix == repos[i] {
				continue
			}
			if _, ok := broad[r]; !ok {
				order = append(order, r)
			}
			broad[r] = append(broad[r], repos[i])
		}
		for _, r := range order {
			l, ok := g.at(r.Prefix)
			if !ok {
				continue
			}
			scope := "namespace-only"
			if pathDepth(r.Prefix) == 0 {
				scope = "root-registry"
			}
			covered := strings.Join(broad[r], " and ")
			verb := "is"
			if len(broad[r]) > 1 {
				verb = "are"
			}
			c.add(g.pos(l, 0), "HCM008", g.object(l), g.field(l, ".source"),
				"%s %s covered only by the %s source %q: HyperShift does not propagate such entries to the ignition server's --registry-overrides (a known issue), so HyperShift-built consumers pull from the source", covered, verb, scope, r.Prefix)
		}
	}
	if (found[0] == nil) == (found[1] == nil) {
		return
	}
	have, missing, r := 0, 1, found[0]
	if r == nil {
		have, missing, r = 1, 0, found[1]
	}
	l, ok := g.at(r.Prefix)
	if !ok {
		return
	}
	why := "the release image resolves through the mirror, but its components are pulled from the source, which is unreachable in a disconnected environment"
	if have == 1 {
		why = "the components resolve through the mirror, but the release image itself is pulled from the source, which is unreachable in a disconnected environment"
	}
	through := ""
	if r.Prefix != repos[have] {
		through = fmt.Sprintf(" (through source %q)", r.Prefix)
	}
	c.add(g.pos(l, 0), "HCM031", g.object(l), g.field(l, ".source"),
		"%s is mirrored%s but no source covers %s: %s", repos[have], through, repos[missing], why)
}
