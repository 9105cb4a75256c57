package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
)

// TestDemo runs `hcpmirror demo` with a small release, so that `make demo`
// cannot break unnoticed.
func TestDemo(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	assets, err := envtest.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Out: &out, Assets: assets, Components: 60, Dir: t.TempDir()}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"0 missing",
		"(source blocked: NeverContactSource)",
		"ReleaseImageResolved=True",
		"RegistryOverridesPropagated=True",
		"every deployment of clusters-demo carries the new mirror",
		"Done:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "DRIFT") {
		t.Errorf("demo reports drift:\n%s", out.String())
	}
}
