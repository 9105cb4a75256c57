package cli

import (
	"strings"
	"testing"
)

// TestCatalogServerUsage checks the command line of catalog-server: the
// catalog image is required (a usage error), and a bad reference is
// refused before anything listens.
func TestCatalogServerUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"catalog-server", "--namespace="}, 2, "--catalog-image: required"},
		{[]string{"catalog-server", "--namespace=", "--catalog-image=Not/A:Ref:x", "--listen=127.0.0.1:0"}, 1, "catalog image"},
		{[]string{"catalog-server", "--namespace=", "--catalog-image=quay.io/a/b:1", "--registry-overrides=bad"}, 1, "--registry-overrides"},
	} {
		code, got := runHcpmirror(t, tc.args, nil)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("hcpmirror %v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, got)
		}
	}
}
