package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const mergeData = "testdata/merge"

// cliRun runs hcpmirror with args, in which every key of vars (such as
// "$OUT") stands for its value, and returns a transcript of the run (command,
// exit status, stdout, stderr) with the values turned back into their keys,
// so that temporary paths do not end up in golden files.
func cliRun(t *testing.T, args []string, vars map[string]string) (string, int) {
	t.Helper()
	real := make([]string, len(args))
	for i, a := range args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, k, v)
		}
		real[i] = a
	}
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), real, strings.NewReader(""), &stdout, &stderr)
	got := fmt.Sprintf("$ hcpmirror %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	for k, v := range vars {
		got = strings.ReplaceAll(got, v, k)
	}
	return got, code
}

// dirFiles lists the files of dir and their content (nil when dir does not
// exist), for golden transcripts and for "nothing changed" checks.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// appendFiles adds the files of dir to a transcript, in name order.
func appendFiles(t *testing.T, transcript, label, dir string) string {
	t.Helper()
	files := dirFiles(t, dir)
	if files == nil {
		return transcript + "--- " + label + ": does not exist\n"
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(transcript)
	for _, n := range names {
		fmt.Fprintf(&b, "--- %s/%s\n%s", label, n, files[n])
	}
	return b.String()
}

func TestMergeCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantExit int
	}{
		{name: "two-v1-runs", args: []string{"-f", mergeData + "/oc-mirror-workspace", "--output-dir", "$OUT"}},
		{name: "v2", args: []string{"-f", mergeData + "/working-dir", "--output-dir", "$OUT"}},
		// -q: only the signatures warning is left; the files are written as without it.
		{name: "v2-quiet", args: []string{"-f", mergeData + "/working-dir", "--output-dir", "$OUT", "-q"}},
		{name: "mixed", args: []string{"-f", mergeData + "/mixed", "-f", mergeData + "/working-dir", "--output-dir", "$OUT"}},
		{name: "policy-conflict", args: []string{"-f", mergeData + "/policy-conflict", "--output-dir", "$OUT"}, wantExit: 1},
		{name: "unreadable-input", args: []string{"-f", mergeData + "/working-dir", "-f", mergeData + "/missing", "--output-dir", "$OUT"}, wantExit: 1},
		{name: "no-output-dir", args: []string{"-f", mergeData + "/working-dir"}, wantExit: 2},
		{name: "no-inputs", args: []string{"--output-dir", "$OUT"}, wantExit: 2},
		{name: "v2-json", args: []string{"-f", mergeData + "/working-dir", "--output-dir", "$OUT", "-o", "json"}},
		// -o DIR, before -o meant the format: still merged, with a warning.
		{name: "legacy-output-dir", args: []string{"-f", mergeData + "/working-dir", "-o", "$OUT"}},
		{name: "nothing-found", args: []string{"-f", mergeData + "/oc-mirror-workspace/results-1700000000/release-signatures", "--output-dir", "$OUT"}, wantExit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged")
			got, code := cliRun(t, append([]string{"merge"}, tt.args...), map[string]string{"$OUT": out})
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			if code != 0 {
				if files := dirFiles(t, out); files != nil {
					t.Errorf("merge failed but wrote %d files", len(files))
				}
			}
			checkGoldenFile(t, filepath.Join(mergeData, "golden", tt.name+".txt"), appendFiles(t, got, "$OUT", out))
		})
	}
}

// TestMergeCommandRerun is the workflow the seed asks for by hand: after the
// next oc-mirror run, merge it with the previous output. Giving the previous
// output again, with or without the runs it came from, changes nothing.
func TestMergeCommandRerun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "merged")
	vars := map[string]string{"$OUT": out}
	first, code := cliRun(t, []string{"merge", "-f", mergeData + "/oc-mirror-workspace/results-1700000000", "--output-dir", "$OUT"}, vars)
	if code != 0 {
		t.Fatalf("first run failed:\n%s", first)
	}
	second, code := cliRun(t, []string{"merge", "-f", "$OUT", "-f", mergeData + "/oc-mirror-workspace/results-1700086400", "--output-dir", "$OUT"}, vars)
	if code != 0 {
		t.Fatalf("second run failed:\n%s", second)
	}
	after := dirFiles(t, out)

	// The same as merging both runs at once.
	all := filepath.Join(t.TempDir(), "all")
	if got, code := cliRun(t, []string{"merge", "-f", mergeData + "/oc-mirror-workspace", "--output-dir", all}, nil); code != 0 {
		t.Fatalf("merging both runs failed:\n%s", got)
	}
	if diff := cmp.Diff(dirFiles(t, all), after); diff != "" {
		t.Errorf("run by run differs from both at once (-both +incremental):\n%s", diff)
	}

	third, code := cliRun(t, []string{"merge", "-f", mergeData + "/oc-mirror-workspace", "-f", "$OUT", "--output-dir", "$OUT"}, vars)
	if code != 0 {
		t.Fatalf("third run failed:\n%s", third)
	}
	if diff := cmp.Diff(after, dirFiles(t, out)); diff != "" {
		t.Errorf("merging the output again changed it (-before +after):\n%s", diff)
	}
	checkGoldenFile(t, filepath.Join(mergeData, "golden", "rerun.txt"), appendFiles(t, first+second+third, "$OUT", out))
}

// TestMergeCommandKeepsOutputOnError checks that a failing merge leaves an
// earlier output alone.
func TestMergeCommandKeepsOutputOnError(t *testing.T) {
	out := filepath.Join(t.TempDir(), "merged")
	vars := map[string]string{"$OUT": out}
	if got, code := cliRun(t, []string{"merge", "-f", mergeData + "/working-dir", "--output-dir", "$OUT"}, vars); code != 0 {
		t.Fatalf("first run failed:\n%s", got)
	}
	before := dirFiles(t, out)
	got, code := cliRun(t, []string{"merge", "-f", "$OUT", "-f", mergeData + "/policy-conflict", "--output-dir", "$OUT"}, vars)
	if code != 1 {
		t.Errorf("exit status = %d, want 1\n%s", code, got)
	}
	if diff := cmp.Diff(before, dirFiles(t, out)); diff != "" {
		t.Errorf("failed merge changed the output (-before +after):\n%s", diff)
	}
}

// TestMergeNewestRunOnly is the seed's trap: each oc-mirror v1 run writes
// only its new images under the same object names. Merging only the newest
// run into the directory of an earlier merge must keep everything, exactly
// as merging both runs at once.
func TestMergeNewestRunOnly(t *testing.T) {
	ws := "testdata/merge/oc-mirror-workspace"
	runs, err := filepath.Glob(ws + "/results-*")
	if err != nil || len(runs) < 2 {
		t.Fatalf("want two results-* runs in %s: %v %v", ws, runs, err)
	}
	stepwise, together := t.TempDir(), t.TempDir()
	for _, run := range runs {
		if code, got := runHcpmirror(t, []string{"merge", "-f", run, "--output-dir", stepwise}, nil); code != 0 {
			t.Fatalf("merge %s: %s", run, got)
		}
	}
	if code, got := runHcpmirror(t, []string{"merge", "-f", ws, "--output-dir", together}, nil); code != 0 {
		t.Fatalf("merge all: %s", got)
	}
	for _, name := range []string{"idms-hcpmirror.yaml"} {
		a, errA := os.ReadFile(filepath.Join(stepwise, name))
		b, errB := os.ReadFile(filepath.Join(together, name))
		if errA != nil || errB != nil {
			t.Fatalf("reading %s: %v %v", name, errA, errB)
		}
		if string(a) != string(b) {
			t.Errorf("%s: merging run by run (newest only each time) differs from merging all runs:\n%s\n---\n%s", name, a, b)
		}
	}
}
