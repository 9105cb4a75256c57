package lint

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// ocMirrorName matches the names oc-mirror v1 gives its ICSPs. Each run
// reuses them, and a run only lists images new since the last one.
var ocMirrorName = regexp.MustCompile(`^(release|operator|generic)-[0-9]+$`)

// resultsDir matches oc-mirror v1's per-run output directory.
var resultsDir = regexp.MustCompile(`^results-([0-9]+)$`)

// resultsTime returns the run timestamp of the results-<ts> directory a file
// lies in, or -1.
func resultsTime(file string) int64 {
	var ts int64 = -1
	for _, part := range strings.Split(filepath.ToSlash(file), "/") {
		if m := resultsDir.FindStringSubmatch(part); m != nil {
			if n, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				ts = n
			}
		}
	}
	return ts
}

// lintOCMirrorRuns finds oc-mirror v1 results meant to be applied one run
// after another (HCM029). Every run names its ICSPs release-0, operator-0 …
// and lists only what that run added, and the v1 file splitter names every
// part -0, so applying the files replaces earlier objects with later ones of
// the same name and their sources are lost. The object applied last is the
// one from the newest results directory, then the last in path order.
func lintOCMirrorRuns(c *collector, g *group) {
	byName := map[string][]int{}
	for si := range g.sets {
		s := &g.sets[si]
		if s.Kind == mirrorset.KindICSP && ocMirrorName.MatchString(s.Name) {
			byName[s.Name] = append(byName[s.Name], si)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		idx := byName[name]
		if len(idx) < 2 {
			continue
		}
		sort.SliceStable(idx, func(a, b int) bool {
			oa, ob := g.sets[idx[a]].Origin, g.sets[idx[b]].Origin
			if ta, tb := resultsTime(oa.File), resultsTime(ob.File); ta != tb {
				return ta < tb
			}
			if oa.File != ob.File {
				return oa.File < ob.File
			}
			if oa.Document != ob.Document {
				return oa.Document < ob.Document
			}
			return oa.Item < ob.Item
		})
		last := &g.sets[idx[len(idx)-1]]
		kept := map[[2]string]bool{}
		for _, e := range last.Entries {
			for _, m := range e.Mirrors {
				kept[[2]string{e.Source, m}] = true
			}
		}
		for _, si := range idx[:len(idx)-1] {
			s := &g.sets[si]
			var lost []string
			isLost := map[string]bool{}
			for _, e := range s.Entries {
				for _, m := range e.Mirrors {
					if !kept[[2]string{e.Source, m}] && !isLost[e.Source] {
						isLost[e.Source] = true
						lost = append(lost, e.Source)
					}
				}
			}
			if len(lost) == 0 {
				continue
			}
			how := "oc-mirror v1 reuses its object names in every run and lists only what the run added"
			if s.Origin.File != "" && s.Origin.File == last.Origin.File {
				how = "oc-mirror v1 names every part of a split ImageContentSourcePolicy file -0"
			}
			c.add(position{g.id, si, -1, 0}, "HCM029", s.Describe(), "",
				"%s: applied run by run, %s replaces this object, dropping what only this one lists for %s", how, describeOrigin(last), quoteList(lost, 5))
		}
	}
}

func describeOrigin(s *mirrorset.Set) string {
	if o := s.Origin.String(); o != "" {
		return fmt.Sprintf("%s %q in %s", s.Kind, s.Name, o)
	}
	return fmt.Sprintf("a later %s %q", s.Kind, s.Name)
}
