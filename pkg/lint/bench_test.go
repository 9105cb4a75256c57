package lint

import (
	"fmt"
	"testing"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// benchSets builds n repository sources spread over 97 hosts and 13
// namespaces, each with two mirrors and every tenth NeverContactSource, plus
// the two release repositories: a large management cluster's sets, shaped
// like pkg/mirrorset's resolve benchmark.
func benchSets(n int) []mirrorset.Set {
	s := idms("bench")
	for i := range n {
		e := entry(fmt.Sprintf("registry-%d.example.com/ns-%d/repo-%d", i%97, i%13, i),
			fmt.Sprintf("mirror.example.com:5000/m-%d/repo", i), fmt.Sprintf("backup.example.com/all/repo-%d", i))
		if i%10 == 0 {
			e = ncs(e)
		}
		s.Entries = append(s.Entries, e)
	}
	return append(releaseSets(), s)
}

// BenchmarkLint is the whole catalogue on n sources; its cost should grow
// about linearly with n (the resolve benchmark beside it, in pkg/mirrorset,
// measures one lookup in such sets).
func BenchmarkLint(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		sets := benchSets(n)
		b.Run(fmt.Sprintf("sources=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Lint(sets, Options{})
			}
		})
	}
}
