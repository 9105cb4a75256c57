package lint_test

import (
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/lint"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// Mirroring only the release image's repository leaves the components, and
// so the cluster, unpullable; a one-label mirror host breaks every pull.
func ExampleLint() {
	sets := []mirrorset.Set{{
		Kind: mirrorset.KindIDMS,
		Name: "release",
		Entries: []mirrorset.Entry{
			{Source: "quay.io/openshift-release-dev/ocp-release", Mirrors: []string{"mirror.example.com/ocp/release-images"}},
			{Source: "registry.redhat.io/ubi9", Mirrors: []string{"mirror/ubi9"}},
		},
	}}
	for _, f := range lint.Lint(sets, lint.Options{}) {
		fmt.Println(f.Severity, f.Code, f.Field)
	}
	// Output:
	// error HCM031 spec.imageDigestMirrors[0].source
	// error HCM006 spec.imageDigestMirrors[1].mirrors[0]
}

func ExampleLintFlag() {
	for _, f := range lint.LintFlag("quay.io=mirror.example.com,registry.redhat.io=mirror.example.com/rh,") {
		fmt.Println(f.Severity, f.Code, f.Object)
		fmt.Println(f.Message)
	}
	// Output:
	// error HCM025 --registry-overrides
	// registry overrides "quay.io=mirror.example.com,registry.redhat.io=mirror.example.com/rh,": field 3 "": no "=" (want source=replacement)
}
