package operator

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/controller/mirrorsets"
)

// StatusReport is what `hcpmirror status` shows: for every hosted control
// plane, each carrier of overrides against what the mirror sets mean now.
type StatusReport struct {
	MirrorSets MirrorSetsStatus `json:"mirrorSets"`
	Clusters   []ClusterStatus  `json:"hostedClusters"`
}

// MirrorSetsStatus summarises the management mirror sets.
type MirrorSetsStatus struct {
	Count   int    `json:"count"`
	Sources int    `json:"sources"`
	Invalid string `json:"invalid,omitempty"`
}

// ClusterStatus is one HostedCluster's propagation state.
type ClusterStatus struct {
	Namespace             string `json:"namespace"`
	Name                  string `json:"name"`
	ControlPlaneNamespace string `json:"controlPlaneNamespace"`
	// Release is the ReleaseImageResolved condition's message: where the
	// release image was read from.
	Release         string `json:"release,omitempty"`
	ReleaseResolved bool   `json:"releaseResolved"`
	// RegistriesConf is "in sync", "drift" or "missing".
	RegistriesConf string                       `json:"registriesConf"`
	Carriers       []hostedcluster.CarrierState `json:"carriers"`
	Drift          bool                         `json:"drift"`
	// Companion is the companion's InjectedOverridesMatch condition
	// message, in companion mode (what HyperShift injected, as the
	// operator last saw it).
	Companion string `json:"companion,omitempty"`
}

// Drift reports whether anything anywhere differs from the mirror sets.
func (r *StatusReport) Drift() bool {
	if r.MirrorSets.Invalid != "" {
		return true
	}
	for _, c := range r.Clusters {
		if c.Drift {
			return true
		}
	}
	return false
}

// Status builds the report. only, when set, restricts it to one HostedCluster.
func Status(ctx context.Context, c client.Reader, kinds mirrorsets.Kinds, static map[string]string, only *types.NamespacedName) (*StatusReport, error) {
	return StatusFor(ctx, c, kinds, static, only, false)
}

// StatusFor is Status; with companion, for an operator running beside
// HyperShift: HyperShift's Deployments are compared, and neither the
// registries ConfigMap nor hcpmirror's own Deployments are expected.
func StatusFor(ctx context.Context, c client.Reader, kinds mirrorsets.Kinds, static map[string]string, only *types.NamespacedName, companion bool) (*StatusReport, error) {
	snap, err := (&mirrorsets.Reader{Client: c, Kinds: kinds}).Read(ctx)
	if err != nil {
		return nil, err
	}
	rep := &StatusReport{MirrorSets: MirrorSetsStatus{Count: len(snap.Sets)}}
	var want *hostedcluster.Carriers
	if snap.Invalid != nil {
		rep.MirrorSets.Invalid = snap.Invalid.Error()
	} else {
		rep.MirrorSets.Sources = snap.Config.Len()
		w, err := hostedcluster.NewCarriers(snap.Config, static)
		if err != nil {
			rep.MirrorSets.Invalid = err.Error()
		} else {
			want = &w
		}
	}
	var hcs []hypershiftv1beta1.HostedCluster
	if only != nil {
		var hc hypershiftv1beta1.HostedCluster
		if err := c.Get(ctx, *only, &hc); err != nil {
			return nil, fmt.Errorf("reading HostedCluster %s: %w", only, err)
		}
		hcs = append(hcs, hc)
	} else {
		var list hypershiftv1beta1.HostedClusterList
		if err := c.List(ctx, &list); err != nil {
			return nil, fmt.Errorf("listing HostedClusters: %w", err)
		}
		hcs = list.Items
	}
	sort.Slice(hcs, func(i, j int) bool {
		return hcs[i].Namespace+"/"+hcs[i].Name < hcs[j].Namespace+"/"+hcs[j].Name
	})
	for i := range hcs {
		cs, err := clusterStatus(ctx, c, &hcs[i], want, companion)
		if err != nil {
			return nil, err
		}
		rep.Clusters = append(rep.Clusters, cs)
	}
	return rep, nil
}

func clusterStatus(ctx context.Context, c client.Reader, hc *hypershiftv1beta1.HostedCluster, want *hostedcluster.Carriers, companion bool) (ClusterStatus, error) {
	ns := hostedcluster.ControlPlaneNamespace(hc)
	cs := ClusterStatus{Namespace: hc.Namespace, Name: hc.Name, ControlPlaneNamespace: ns, Carriers: []hostedcluster.CarrierState{}}
	if cond := meta.FindStatusCondition(hc.Status.Conditions, hypershiftv1beta1.ReleaseImageResolved); cond != nil {
		cs.Release = cond.Message
		cs.ReleaseResolved = cond.Status == "True"
	}
	if cond := meta.FindStatusCondition(hc.Status.Conditions, hypershiftv1beta1.InjectedOverridesMatch); cond != nil {
		cs.Companion = string(cond.Status) + ": " + cond.Message
	}
	var cm corev1.ConfigMap
	err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: hostedcluster.RegistriesConfigMap}, &cm)
	switch {
	case companion:
		cs.RegistriesConf = "not expected (companion mode: HyperShift owns the namespace)"
	case apierrors.IsNotFound(err):
		cs.RegistriesConf, cs.Drift = "missing", true
	case err != nil:
		return cs, fmt.Errorf("reading ConfigMap %s/%s: %w", ns, hostedcluster.RegistriesConfigMap, err)
	case want == nil:
		cs.RegistriesConf = "not compared (mirror sets invalid)"
	case cm.Data[hostedcluster.RegistriesConfKey] != want.RegistriesConf:
		cs.RegistriesConf, cs.Drift = "drift", true
	default:
		cs.RegistriesConf = "in sync"
	}
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return cs, fmt.Errorf("listing Deployments in %s: %w", ns, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	present := map[string]bool{}
	for i := range list.Items {
		present[list.Items[i].Name] = true
	}
	for _, owned := range []string{hostedcluster.ControlPlaneOperatorName, hostedcluster.IgnitionServerName} {
		if !present[owned] && !companion {
			cs.Drift = true
			cs.Carriers = append(cs.Carriers, hostedcluster.CarrierState{Deployment: owned, Container: "-", Carrier: "-",
				Detail: "deployment missing: the operator creates it while it runs"})
		}
	}
	for i := range list.Items {
		if want == nil {
			for _, cc := range hostedcluster.FindCarriers(&list.Items[i]) {
				for _, kind := range []struct {
					name string
					v    *string
				}{{"flag", cc.Flag}, {"env", cc.Env}} {
					if kind.v != nil {
						cs.Carriers = append(cs.Carriers, hostedcluster.CarrierState{Deployment: list.Items[i].Name, Container: cc.Container, Init: cc.Init,
							Carrier: kind.name, Value: *kind.v, Detail: "not compared: the mirror sets are invalid"})
					}
				}
			}
			continue
		}
		for _, s := range hostedcluster.Compare(*want, &list.Items[i]) {
			if !s.InSync {
				cs.Drift = true
			}
			cs.Carriers = append(cs.Carriers, s)
		}
	}
	return cs, nil
}

// WriteText prints the report for people: per hosted control plane, each
// deployment and container with its carriers, in sync or drifted and why.
func (rep *StatusReport) WriteText(w io.Writer) {
	if rep.MirrorSets.Invalid != "" {
		fmt.Fprintf(w, "Mirror sets: %d objects, INVALID (the operator keeps the last good overrides):\n", rep.MirrorSets.Count)
		for _, line := range strings.Split(rep.MirrorSets.Invalid, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	} else {
		fmt.Fprintf(w, "Mirror sets: %d objects, %d sources\n", rep.MirrorSets.Count, rep.MirrorSets.Sources)
	}
	if len(rep.Clusters) == 0 {
		fmt.Fprintln(w, "No HostedClusters.")
	}
	for _, c := range rep.Clusters {
		state := "in sync"
		switch {
		case rep.MirrorSets.Invalid != "":
			state = "NOT COMPARED (mirror sets invalid)"
		case c.Drift:
			state = "DRIFT"
		}
		fmt.Fprintf(w, "\nHostedCluster %s/%s (control plane namespace %s): %s\n", c.Namespace, c.Name, c.ControlPlaneNamespace, state)
		switch {
		case c.Release != "" && c.ReleaseResolved:
			fmt.Fprintf(w, "  release: %s\n", c.Release)
		case c.Release != "":
			fmt.Fprintf(w, "  release: NOT RESOLVED: %s\n", c.Release)
		}
		fmt.Fprintf(w, "  registries.conf ConfigMap: %s\n", c.RegistriesConf)
		if c.Companion != "" {
			fmt.Fprintf(w, "  companion InjectedOverridesMatch: %s\n", c.Companion)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  DEPLOYMENT\tCONTAINER\tCARRIER\tSOURCES\tSTATE")
		for _, s := range c.Carriers {
			st := "in sync"
			switch {
			case rep.MirrorSets.Invalid != "":
				st = s.Detail
			case !s.InSync:
				st = "DRIFT " + s.Detail
			}
			ct := s.Container
			if s.Init {
				ct += " (init)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", s.Deployment, ct, s.Carrier, s.Sources, st)
		}
		tw.Flush()
	}
}
