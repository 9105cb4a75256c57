package cli

import (
	"os"
	"path/filepath"
	"testing"
)

const registriesConfData = "testdata/registries-conf"

func TestRegistriesConfCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantExit int
	}{
		{name: "stdout", args: []string{"-f", registriesConfData + "/sets.yaml"}},
		{name: "output-file", args: []string{"-f", registriesConfData + "/sets.yaml", "--output-file", "$OUT/registries.conf"}},
		{name: "invalid", args: []string{"-f", registriesConfData + "/invalid.yaml", "--output-file", "$OUT/registries.conf"}, wantExit: 1},
		{name: "json", args: []string{"-f", registriesConfData + "/sets.yaml", "-o", "json"}},
		// -o json once wrote a file named json; now it is the format, and a
		// path given to -o is still the file, with a warning, for a release.
		{name: "legacy-output-file", args: []string{"-f", registriesConfData + "/sets.yaml", "-o", "$OUT/registries.conf"}},
		{name: "legacy-output-file-and-output-file", args: []string{"-f", registriesConfData + "/sets.yaml", "-o", "$OUT/a.conf", "--output-file", "$OUT/b.conf"}, wantExit: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			got, code := cliRun(t, append([]string{"registries-conf"}, tt.args...), map[string]string{"$OUT": out})
			if code != tt.wantExit {
				t.Errorf("exit status = %d, want %d\n%s", code, tt.wantExit, got)
			}
			checkGoldenFile(t, filepath.Join(registriesConfData, "golden", tt.name+".txt"), appendFiles(t, got, "$OUT", out))
		})
	}
}

// TestRegistriesConfFileMatchesStdout makes sure -o writes what is printed.
func TestRegistriesConfFileMatchesStdout(t *testing.T) {
	out := filepath.Join(t.TempDir(), "registries.conf")
	printed, code := cliRun(t, []string{"registries-conf", "-f", registriesConfData + "/sets.yaml"}, nil)
	if code != 0 {
		t.Fatalf("printing failed:\n%s", printed)
	}
	if got, code := cliRun(t, []string{"registries-conf", "-f", registriesConfData + "/sets.yaml", "--output-file", out}, nil); code != 0 {
		t.Fatalf("writing failed:\n%s", got)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "$ hcpmirror registries-conf -f " + registriesConfData + "/sets.yaml\nexit 0\n--- stdout\n" + string(written) + "--- stderr\n"
	if printed != want {
		t.Errorf("file content differs from standard output:\nprinted:\n%s\nwritten:\n%s", printed, written)
	}
}
