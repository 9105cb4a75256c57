package operator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/testing/envtest"
)

// BenchmarkPropagation50 measures how long one ImageDigestMirrorSet change
// takes to reach every owned deployment of 50 hosted control planes (100
// deployments) on a real API server. Reported as seconds per propagation.
func BenchmarkPropagation50(b *testing.B) {
	const clusters = 50
	ctx := context.Background()
	ns := env.Namespace(b)
	startOperator(b, Options{})
	idms := newIDMS(ns+"-bench", configv1.ImageDigestMirrors{Source: "quay.io/bench", Mirrors: []string{"m0.sample.lab/bench"}})
	createClusterScoped(b, idms)
	prefixes := make([]string, 0, clusters)
	for i := range clusters {
		hc := createHostedCluster(b, ns, fmt.Sprintf("hc-%02d", i))
		prefixes = append(prefixes, hostedcluster.ControlPlaneNamespace(hc))
	}
	allCarry := func(mirror string) func() error {
		want := hostedcluster.FlagName + "=quay.io/bench=" + mirror
		return func() error {
			var list appsv1.DeploymentList
			if err := env.Client.List(ctx, &list, client.MatchingLabels{hostedcluster.ManagedByLabel: hostedcluster.ManagedByValue}); err != nil {
				return err
			}
			n := 0
			for _, d := range list.Items {
				if !strings.HasPrefix(d.Namespace, ns+"-") {
					continue
				}
				if !containsArg(d.Spec.Template.Spec.Containers[0].Args, want) {
					return fmt.Errorf("%s/%s not updated yet", d.Namespace, d.Name)
				}
				n++
			}
			if n != 2*clusters {
				return fmt.Errorf("%d of %d deployments exist", n, 2*clusters)
			}
			return nil
		}
	}
	envtest.Eventually(b, 2*time.Minute, allCarry("m0.sample.lab/bench"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mirror := fmt.Sprintf("m%d.sample.lab/bench", i+1)
		var cur configv1.ImageDigestMirrorSet
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(idms), &cur); err != nil {
			b.Fatal(err)
		}
		cur.Spec.ImageDigestMirrors[0].Mirrors = []string{mirror}
		start := time.Now()
		if err := env.Client.Update(ctx, &cur); err != nil {
			b.Fatal(err)
		}
		envtest.Eventually(b, 2*time.Minute, allCarry(mirror))
		b.ReportMetric(time.Since(start).Seconds(), "s/propagation")
	}
}

func containsArg(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}
