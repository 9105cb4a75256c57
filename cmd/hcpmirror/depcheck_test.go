package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// banned are import paths the shipped binary must not link, each with its
// subpackages unless exact. cmd/hcpmirror runs on every management cluster:
// it carries no test framework, no API server harness and no registry
// server (those are the lab's, in cmd/hcpmirror-lab), and the containers/image
// oracle for resolution stays test-only (linking it would mean two matchers
// that could disagree).
var banned = []struct {
	path  string
	exact bool
	why   string
}{
	{path: "testing", exact: true, why: "the test framework belongs in tests"},
	{path: "sigs.k8s.io/controller-runtime/pkg/envtest", why: "envtest starts an API server for tests and the demo (hcpmirror-lab)"},
	{path: "github.com/distribution/distribution/v3/registry", why: "the registry server is the lab's (hcpmirror-lab registry serve)"},
	{path: "github.com/redis", why: "a Redis client comes only with the registry server"},
	{path: "github.com/hcpmirror/hcpmirror/internal/lab", why: "lab code belongs in hcpmirror-lab"},
	{path: "github.com/hcpmirror/hcpmirror/internal/testing", why: "the test harness belongs in tests"},
	{path: "go.podman.io", why: "containers/image is the test oracle for resolution"},
	{path: "github.com/containers/image", why: "containers/image is the test oracle for resolution"},
	{path: "google.golang.org/grpc", why: "the catalog server speaks gRPC with net/http and protowire (internal/catalogserver); grpc-go is its tests' client"},
	{path: "github.com/operator-framework", why: "operator-registry is the catalog server's test oracle (internal/catalogserver), and pkg/catalog reads catalogs itself"},
}

// bannedDeps lists the packages linked into the binary built from dir that
// the list above forbids, with the reason.
func bannedDeps(t *testing.T, dir string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", dir, err, out)
	}
	var found []string
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if pkg == b.path || !b.exact && strings.HasPrefix(pkg, b.path+"/") {
				found = append(found, pkg+": "+b.why)
			}
		}
	}
	return found
}

func TestDependencies(t *testing.T) {
	for _, f := range bannedDeps(t, ".") {
		t.Errorf("hcpmirror links %s", f)
	}
	// The check itself works: the lab binary links what hcpmirror must not.
	lab := strings.Join(bannedDeps(t, "../hcpmirror-lab"), "\n")
	for _, want := range []string{"sigs.k8s.io/controller-runtime/pkg/envtest:", "github.com/distribution/distribution/v3/registry/handlers:", "github.com/hcpmirror/hcpmirror/internal/lab/registry:"} {
		if !strings.Contains(lab, want) {
			t.Errorf("the dependency check finds no %s in hcpmirror-lab; is the banned list still matching?\n%s", strings.TrimSuffix(want, ":"), lab)
		}
	}
}

// binaryBudget is the size the shipped binary must stay under. It is about
// 52 MB; the margin is for growth, not for regressions like the one this
// guards against: executing a text/template (cobra does for a version or
// usage template) keeps every exported method of every linked type, which
// added 15 MB once.
const binaryBudget = 60 << 20

// TestBinarySize keeps the shipped binary, copied into every management
// cluster's image, within its budget.
func TestBinarySize(t *testing.T) {
	fi, err := os.Stat(hcpmirrorBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > binaryBudget {
		t.Errorf("cmd/hcpmirror is %.1f MB, over its %d MB budget: look for newly reachable reflection (text/template execution, reflect.Method) or a large new dependency", float64(fi.Size())/(1<<20), binaryBudget>>20)
	}
}
