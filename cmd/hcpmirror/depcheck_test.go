package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOracleNotLinked keeps containers/image out of the binary: it is the
// test oracle for resolution, and linking it would mean two matchers that
// could disagree (and a much larger binary).
func TestOracleNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.podman.io/", "github.com/containers/image"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("hcpmirror links %s; the containers/image oracle must stay test-only", pkg)
			}
		}
	}
}
