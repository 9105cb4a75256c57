package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalogsOverrides(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "idms.yaml")
	if err := os.WriteFile(f, []byte(`apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
metadata:
  name: operators
spec:
  imageDigestMirrors:
  - source: registry.redhat.io
    mirrors:
    - registry.sample.lab:5000
  - source: registry.redhat.io/redhat/redhat-operator-index
    mirrors:
    - registry.sample.lab:5000/olm/redhat-operator-index
  - source: quay.io/openshift-release-dev
    mirrors:
    - registry.sample.lab:5000/ocp
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"catalogs", "overrides", "-f", f}, 0,
			"hypershift.openshift.io/olm-catalogs-is-registry-overrides=registry.redhat.io=registry.sample.lab:5000,registry.redhat.io/redhat/redhat-operator-index=registry.sample.lab:5000/olm/redhat-operator-index\n"},
		{[]string{"catalogs", "overrides", "-f", f, "-o", "json"}, 0, `"hypershift.openshift.io/olm-catalogs-is-registry-overrides": "registry.redhat.io=registry.sample.lab:5000,`},
		{[]string{"catalogs", "pin"}, 2, "hostedcluster"},
		{[]string{"catalogs", "pin", "--hostedcluster", "nameonly"}, 2, "NAMESPACE/NAME"},
	} {
		code, out := runHcpmirror(t, tc.args, map[string]string{dir: "DIR"})
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}
}
