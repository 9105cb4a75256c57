package cli

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hcpmirror/hcpmirror/internal/catalogserver"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
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

// TestCatalogServerListenDefault: the --listen default is the port the
// catalog Deployments are written with (one constant, catalogserver.Port).
func TestCatalogServerListenDefault(t *testing.T) {
	f := newCatalogServerCommand().Flags().Lookup("listen")
	dep := catalogs.Deployment("ns", olmcatalogs.Catalogs[0], catalogs.DeploymentInput{Image: "quay.io/a/hcpmirror:1", Catalog: "quay.io/a/index:v4.18"})
	if want := fmt.Sprintf(":%d", catalogserver.Port); f == nil || f.DefValue != want ||
		!slices.Contains(dep.Spec.Template.Spec.Containers[0].Args, "--listen="+want) || dep.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort != catalogserver.Port {
		t.Errorf("--listen default %v, Deployment args %v: want %s in both", f, dep.Spec.Template.Spec.Containers[0].Args, want)
	}
}
