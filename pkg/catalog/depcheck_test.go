package catalog_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOwnReader keeps operator-registry out of this package: its declcfg
// would link gRPC, protobuf and Kubernetes clients into every command that
// reads a catalog, for a format this package reads in a few hundred lines.
func TestOwnReader(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/operator-framework/", "google.golang.org/grpc", "k8s.io/client-go"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("pkg/catalog links %s", pkg)
			}
		}
	}
}
