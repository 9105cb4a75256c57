package cli

import "testing"

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
		{name: "nothing-to-lint", args: nil, wantExit: 2},
		{name: "bad-output", args: []string{"-f", lintData + "/clean", "-o", "wide"}, wantExit: 2},
		{name: "broken-yaml", args: []string{"-f", lintData + "/broken", "-o", "yaml"}, wantExit: 1},
		{name: "extra-argument", args: []string{lintData + "/clean"}, wantExit: 2},
		{name: "hostedcluster", args: []string{"-f", lintData + "/hostedcluster"}, wantExit: 1},
		// Input that holds nothing to lint is an error in the report, not
		// "0 errors"; a misspelt kind is named.
		{name: "empty-file", args: []string{"-f", lintData + "/empty.yaml"}, wantExit: 1},
		{name: "empty-file-json", args: []string{"-f", lintData + "/empty.yaml", "-o", "json"}, wantExit: 1},
		{name: "kind-typo", args: []string{"-f", lintData + "/kind-typo.yaml"}, wantExit: 1},
		{name: "missing-file-json", args: []string{"-f", lintData + "/missing.yaml", "-o", "json"}, wantExit: 1},
		{name: "same-name", args: []string{"-f", lintData + "/same-name"}, wantExit: 0},
		// The help's own example, and strings the mirror-set patterns refuse.
		{name: "overrides-help-example", args: []string{"--overrides-flag", "quay.io=mirror.example.com,"}, wantExit: 1},
		{name: "overrides-patterns", args: []string{"--overrides-flag", "quay.io=https://mirror.example.com,quay.io/NS=m.example.com/ns", "--overrides-env", "quay.io=m.example.com/a@sha256:" + digest[len("sha256:"):]}, wantExit: 1},
		{name: "overrides-against-sets", args: []string{"-f", lintData + "/clean", "--overrides-flag", "quay.io/openshift-release-dev/ocp-release=mirror.example.com/ocp/release-images"}, wantExit: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"lint"}, tt.args...)
			code, got := runHcpmirror(t, args, nil)
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			checkGolden(t, "lint", tt.name, got)
		})
	}
}
