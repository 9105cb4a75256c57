package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// updateGolden is the -update flag of this package's tests: it rewrites
// golden files instead of comparing against them.
var updateGolden = flag.Bool("update", false, "rewrite golden files under testdata")

// runLab runs the command line and returns its exit status and a transcript
// of both streams, with the given strings replaced by stable names
// (registry addresses, temporary paths) so it can be compared with a golden
// file.
func runLab(t *testing.T, args []string, replace map[string]string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	got := fmt.Sprintf("$ hcpmirror-lab %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	// Longest first, so an address is not replaced inside a longer path.
	olds := slices.SortedFunc(maps.Keys(replace), func(a, b string) int { return len(b) - len(a) })
	for _, old := range olds {
		got = strings.ReplaceAll(got, old, replace[old])
	}
	return code, got
}

// checkGolden compares got with testdata/golden/<name>.txt, or rewrites it
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", name+".txt")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got; run with -update to accept):\n%s", golden, diff)
	}
}
