package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/operator-framework/operator-registry/pkg/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	labregistry "github.com/hcpmirror/hcpmirror/internal/lab/registry"
	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/internal/testing/kubelet"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// catalogsSection pushes an operator catalog to the private registry at
// redhat/redhat-operator-index:v4.16, points the HostedCluster's OLM
// catalogs at the registry with the override annotation, waits for the
// control-plane-operator to write the redhat-operators catalog Deployment,
// runs it with the kubelet stand-in and asks it, as OLM would over the
// Service's gRPC port, which packages it offers.
func catalogsSection(ctx context.Context, n *narrator, o Options, env *ctrlenvtest.Environment, c client.Client, hc *hypershiftv1beta1.HostedCluster, reg *labregistry.Registry, push []remote.Option) error {
	n.section("OLM catalogs through the mirror: a catalog server run from the Deployment the control-plane-operator wrote")
	cat, err := catalogtest.Build(reg.Addr)
	if err != nil {
		return err
	}
	if err := cat.Push(ctx, push...); err != nil {
		return err
	}
	n.say("pushed an operator catalog to %s", cat.Ref)
	overrides := olmcatalogs.DefaultRegistry + "=" + reg.Addr + "/redhat"
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur hypershiftv1beta1.HostedCluster
		if err := c.Get(ctx, client.ObjectKeyFromObject(hc), &cur); err != nil {
			return err
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations[olmcatalogs.OverridesAnnotation] = overrides
		return c.Update(ctx, &cur)
	}); err != nil {
		return err
	}
	n.say("clusters/%s annotated %s=%s", hc.Name, olmcatalogs.OverridesAnnotation, overrides)

	cpns := hostedcluster.ControlPlaneNamespace(hc)
	rh := olmcatalogs.Catalogs[slices.IndexFunc(olmcatalogs.Catalogs, func(c olmcatalogs.Catalog) bool { return c.Name == "redhat-operators" })]
	var dep appsv1.Deployment
	start := time.Now()
	if err := waitFor(ctx, 30*time.Second, func() error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: cpns, Name: rh.DeploymentName()}, &dep); err != nil {
			return err
		}
		if !slices.ContainsFunc(dep.Spec.Template.Spec.Containers[0].Args, func(a string) bool { return strings.Contains(a, cat.Ref) }) {
			return fmt.Errorf("deployments/%s does not serve %s yet", dep.Name, cat.Ref)
		}
		return nil
	}); err != nil {
		return err
	}
	ct := dep.Spec.Template.Spec.Containers[0]
	n.say("%s later, deployments/%s: image %s, serviceAccount %s", time.Since(start).Round(time.Millisecond), dep.Name, ct.Image, dep.Spec.Template.Spec.ServiceAccountName)
	n.say("  %s %s", strings.Join(ct.Command, " "), strings.Join(ct.Args, " "))

	dir := filepath.Join(o.Dir, "kubelet-catalog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start = time.Now()
	pod, err := kubelet.Start(kubelet.Options{Config: env.Config, Binaries: map[string]string{"hcpmirror": o.Binary}, Dir: dir}, &dep)
	if err != nil {
		return err
	}
	defer pod.Stop()
	if err := waitFor(ctx, 60*time.Second, func() error {
		if done, perr := pod.Exited(); done {
			return fmt.Errorf("the catalog server exited (%v):\n%s", perr, pod.Logs())
		}
		return pod.Ready(ctx)
	}); err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", pod.Port(catalogs.Port))
	n.say("started (kubelet stand-in); its gRPC readiness probe answered SERVING %s after the start; port %d is %s here", time.Since(start).Round(time.Millisecond), catalogs.Port, addr)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	rc := api.NewRegistryClient(conn)
	stream, err := rc.ListPackages(ctx, &api.ListPackageRequest{})
	if err != nil {
		return err
	}
	n.say("what OLM's catalog operator asks (api.Registry, as of opm serve):")
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("ListPackages: %w", err)
		}
		pkg, err := rc.GetPackage(ctx, &api.GetPackageRequest{Name: p.GetName()})
		if err != nil {
			return fmt.Errorf("GetPackage %s: %w", p.GetName(), err)
		}
		var chans []string
		for _, ch := range pkg.GetChannels() {
			chans = append(chans, ch.GetName()+" (head "+ch.GetCsvName()+")")
		}
		n.say("  package %s, default channel %s: %s", pkg.GetName(), pkg.GetDefaultChannelName(), strings.Join(chans, ", "))
	}
	n.say("(pulled from the private registry %s with the HostedCluster's pull secret and CA, mounted as the Deployment says)", reg.Addr)
	return nil
}
