package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// updateGolden is the -update flag of this package's tests: it rewrites
// golden files instead of comparing against them.
var updateGolden = flag.Bool("update", false, "rewrite golden files under testdata")

// runHcpmirror runs the command line and returns its exit status and a
// transcript of both streams, with the given strings replaced by stable
// names (registry addresses, temporary paths) so it can be compared with a
// golden file.
func runHcpmirror(t *testing.T, args []string, replace map[string]string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	got := fmt.Sprintf("$ hcpmirror %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	// Longest first, so an address is not replaced inside a longer path.
	olds := make([]string, 0, len(replace))
	for old := range replace {
		olds = append(olds, old)
	}
	for i := range olds {
		for j := i + 1; j < len(olds); j++ {
			if len(olds[j]) > len(olds[i]) {
				olds[i], olds[j] = olds[j], olds[i]
			}
		}
	}
	for _, old := range olds {
		got = strings.ReplaceAll(got, old, replace[old])
	}
	return code, got
}

// checkGolden compares got with testdata/<dir>/golden/<name>.txt, or
// rewrites it with -update.
func checkGolden(t *testing.T, dir, name, got string) {
	t.Helper()
	checkGoldenFile(t, filepath.Join("testdata", dir, "golden", name+".txt"), got)
}

// checkGoldenFile compares got with a golden file, or rewrites it with -update.
func checkGoldenFile(t *testing.T, golden, got string) {
	t.Helper()
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
