package lint

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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

// TestLintContextStops: a cancelled run stops within a fraction of a second
// on an input that takes seconds, and says why.
func TestLintContextStops(t *testing.T) {
	sets := benchSets(100000)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	findings, err := LintContext(ctx, sets, Options{})
	if !errors.Is(err, context.DeadlineExceeded) || findings != nil {
		t.Fatalf("LintContext(cancelled) = %d findings, %v; want none and context.DeadlineExceeded", len(findings), err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("LintContext took %v after its context ended, want well under a second", d)
	}
}

// BenchmarkLintRepeatedSource is one source given the same list by many
// objects, as repeated oc-mirror output gives it: comparing every pair of
// lists was quadratic in their number.
func BenchmarkLintRepeatedSource(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		sets := releaseSets()
		for i := range n {
			sets = append(sets, idms(fmt.Sprintf("run-%d", i), entry("registry.example.com/ns/repo", "mirror.example.com/ns/repo", "backup.example.com/ns/repo")))
		}
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			for b.Loop() {
				Lint(sets, Options{})
			}
		})
	}
}

// BenchmarkLintInvalid is n entries that all fail validation (uppercase
// sources), each error placed back on its entry.
func BenchmarkLintInvalid(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		s := idms("bad")
		for i := range n {
			s.Entries = append(s.Entries, entry(fmt.Sprintf("quay.io/NS/repo-%d", i), "mirror.example.com/ns"))
		}
		sets := append(releaseSets(), s)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			for b.Loop() {
				Lint(sets, Options{})
			}
		})
	}
}
