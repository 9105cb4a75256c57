package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// graph is the upgrade graph of one channel: entries are nodes, and each
// entry has an edge to every entry it replaces or skips. Edges to names that
// are not entries of the channel are not part of it. Everything here is
// linear in entries plus skips: the long skips lists of real catalogs (90+
// names per entry) are walked once, never queued per edge.
type graph struct {
	ch    *Channel
	index map[string]int // entry name → position in ch.Entries
	head  int
}

// newGraph checks the channel the way OLM reads it: exactly one head (the
// entry no other entry replaces or skips) and no cycle.
func newGraph(ch *Channel) (*graph, error) {
	n := len(ch.Entries)
	if n == 0 {
		return nil, errors.New("channel has no entries")
	}
	g := &graph{ch: ch, index: make(map[string]int, n)}
	for i, e := range ch.Entries {
		if _, dup := g.index[e.Name]; dup {
			return nil, fmt.Errorf("entry %q listed more than once", e.Name)
		}
		g.index[e.Name] = i
	}
	indeg := make([]int, n)
	stamp := make([]int, n) // stamp[j] == i+1: edge i→j already seen
	for i := range ch.Entries {
		g.edges(i, stamp, func(j int) { indeg[j]++ })
	}
	var heads []string
	g.head = -1
	for i, d := range indeg {
		if d == 0 {
			heads = append(heads, ch.Entries[i].Name)
			g.head = i
		}
	}
	switch {
	case len(heads) == 0:
		return nil, errors.New("no channel head: every entry is replaced or skipped by another (a cycle)")
	case len(heads) > 1:
		slices.Sort(heads)
		return nil, fmt.Errorf("multiple channel heads: %s", strings.Join(heads, ", "))
	}
	// Kahn's algorithm from the head: every entry must be reached once
	// all its referrers are, or there is a cycle.
	clear(stamp)
	queue := []int{g.head}
	done := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		done++
		g.edges(i, stamp, func(j int) {
			indeg[j]--
			if indeg[j] == 0 {
				queue = append(queue, j)
			}
		})
	}
	if done < n {
		var stuck []string
		for i, d := range indeg {
			if d > 0 {
				stuck = append(stuck, ch.Entries[i].Name)
			}
		}
		slices.Sort(stuck)
		return nil, fmt.Errorf("cycle in the upgrade graph through %s", strings.Join(stuck, ", "))
	}
	return g, nil
}

// edges calls fn once for each distinct entry that entry i replaces or
// skips. stamp must be a zeroed slice shared across calls with increasing
// i, or reset between passes.
func (g *graph) edges(i int, stamp []int, fn func(j int)) {
	e := &g.ch.Entries[i]
	visit := func(name string) {
		j, ok := g.index[name]
		if !ok || stamp[j] == i+1 {
			return
		}
		stamp[j] = i + 1
		fn(j)
	}
	if e.Replaces != "" {
		visit(e.Replaces)
	}
	for _, s := range e.Skips {
		visit(s)
	}
}

// chain returns the replaces chain from the head: the head, the entry it
// replaces, and so on while the replaced bundle is an entry.
func (g *graph) chain() []int {
	var c []int
	for i := g.head; ; {
		c = append(c, i)
		j, ok := g.index[g.ch.Entries[i].Replaces]
		if !ok || len(c) > len(g.ch.Entries) {
			return c
		}
		i = j
	}
}

// selectRange marks the entries kept for a version range, as oc-mirror's
// catalog filter selects them, so that the kept part is still one upgrade
// graph with one head:
//
//   - count, for each entry of the replaces chain, the in-range bundles at
//     or below it (itself, its skips, and everything below it on the chain),
//     each bundle counted once, at the lowest chain entry that reaches it;
//   - the new head is the lowest chain entry with the highest count, the
//     tail the first chain entry below it with a count of zero;
//   - keep the chain from head to tail (tail excluded), including entries
//     outside the range or without a version that connect in-range ones,
//     plus the in-range skips of those chain entries.
//
// When the range pins one version (min == max), exactly the entries with
// that version are kept (OCPBUGS-61497). versions[i] is entry i's version,
// nil when its bundle has none.
func (g *graph) selectRange(r *versionRange, versions []*version) []bool {
	keep := make([]bool, len(g.ch.Entries))
	if r.pinned() {
		for i, v := range versions {
			keep[i] = v != nil && v.compare(*r.min) == 0
		}
		return keep
	}
	c := g.chain()
	counts := make([]int, len(c))
	seen := make([]bool, len(g.ch.Entries))
	claim := func(j int) int {
		if seen[j] || !r.contains(versions[j]) {
			return 0
		}
		seen[j] = true
		return 1
	}
	for k := len(c) - 1; k >= 0; k-- {
		if k+1 < len(c) {
			counts[k] = counts[k+1]
		}
		i := c[k]
		counts[k] += claim(i)
		for _, s := range g.ch.Entries[i].Skips {
			if j, ok := g.index[s]; ok {
				counts[k] += claim(j)
			}
		}
	}
	head, tail := 0, len(c)
	best := -1
	for k := range c {
		if counts[k] >= best {
			head, best = k, counts[k]
		}
		if counts[k] == 0 {
			tail = k
			break
		}
	}
	for k := head; k < tail; k++ {
		i := c[k]
		keep[i] = true
		for _, s := range g.ch.Entries[i].Skips {
			if j, ok := g.index[s]; ok && r.contains(versions[j]) {
				keep[j] = true
			}
		}
	}
	return keep
}
