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
// golden files instead of comparing against them. Other test files in the
// package should read it rather than define the flag again.
var updateGolden = flag.Bool("update", false, "rewrite golden files under testdata")

const lintData = "testdata/lint"

func TestLintCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantExit int
	}{
		{name: "clean", args: []string{"-f", lintData + "/clean"}, wantExit: 0},
		{name: "broken", args: []string{"-f", lintData + "/broken/idms.yaml", "-f", lintData + "/broken/icsp.yaml"}, wantExit: 1},
		{name: "broken-json", args: []string{"-f", lintData + "/broken", "-o", "json"}, wantExit: 1},
		{name: "oc-mirror-runs", args: []string{"-f", lintData + "/oc-mirror-workspace"}, wantExit: 0},
		{name: "overrides", args: []string{"--overrides-flag", "a.example.com=b.example.com,c.example.com=d.example.com,", "--overrides-env", "quay.io,quay.io=m.example.com"}, wantExit: 1},
		{name: "overrides-clean", args: []string{"--overrides-flag", "=", "--overrides-env", "quay.io=m1.example.com,quay.io=m2.example.com"}, wantExit: 0},
		{name: "overrides-empty-flag", args: []string{"--overrides-flag", ""}, wantExit: 1},
		{name: "undecodable-file", args: []string{"-f", lintData + "/bad-field.yaml", "-f", lintData + "/clean"}, wantExit: 1},
		{name: "nothing-to-lint", args: nil, wantExit: 1},
		{name: "bad-output", args: []string{"-f", lintData + "/clean", "-o", "yaml"}, wantExit: 1},
		{name: "hostedcluster", args: []string{"-f", lintData + "/hostedcluster"}, wantExit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"lint"}, tt.args...)
			code := Execute(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantExit, stdout.String(), stderr.String())
			}
			got := fmt.Sprintf("$ hcpmirror %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
			golden := filepath.Join(lintData, "golden", tt.name+".txt")
			if *updateGolden {
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
		})
	}
}
