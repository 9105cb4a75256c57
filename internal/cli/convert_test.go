package cli

import (
	"path/filepath"
	"testing"
)

const convertData = "testdata/convert"

func TestConvertCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantExit int
	}{
		{name: "stdout", args: []string{"-f", convertData + "/icsp.yaml", "--to", "idms"}},
		{name: "output-dir", args: []string{"-f", convertData + "/icsp.yaml", "-f", convertData + "/idms.yaml", "--output-dir", "$OUT"}},
		{name: "stdout-json", args: []string{"-f", convertData + "/icsp.yaml", "-o", "json"}},
		// -o DIR, before -o meant the format: still written, with a warning.
		{name: "legacy-output-dir", args: []string{"-f", convertData + "/icsp.yaml", "-o", "$OUT"}},
		{name: "output-dir-and-json", args: []string{"-f", convertData + "/icsp.yaml", "--output-dir", "$OUT", "-o", "json"}, wantExit: 2},
		{name: "same-name-twice", args: []string{"-f", mergeData + "/oc-mirror-workspace"}, wantExit: 1},
		{name: "invalid", args: []string{"-f", convertData + "/invalid.yaml", "-f", convertData + "/icsp.yaml", "--output-dir", "$OUT"}, wantExit: 1},
		{name: "nothing-to-convert", args: []string{"-f", convertData + "/idms.yaml"}, wantExit: 1},
		{name: "to-itms", args: []string{"-f", convertData + "/icsp.yaml", "--to", "itms"}, wantExit: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "idms")
			got, code := cliRun(t, append([]string{"convert"}, tt.args...), map[string]string{"$OUT": out})
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			if code != 0 {
				if files := dirFiles(t, out); files != nil {
					t.Errorf("convert failed but wrote %d files", len(files))
				}
			}
			checkGoldenFile(t, filepath.Join(convertData, "golden", tt.name+".txt"), appendFiles(t, got, "$OUT", out))
		})
	}
}
