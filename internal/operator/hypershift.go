package operator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/companion"
)

// What marks a HyperShift install and the HostedClusters it manages (U,
// HyperShift's `hypershift install` and HostedCluster controller):
//
//   - its operator is the Deployment "operator" in the install namespace
//     (`hypershift` unless `hypershift install --namespace`), whose pod
//     template carries the label OperatorComponentLabel=operator and whose
//     container runs /usr/bin/hypershift-operator; `hypershift install`
//     may also annotate it with InstallCLIVersionAnnotation. The
//     Deployment itself has no labels, so it is found by name with a field
//     selector (one cluster-wide list, filtered by the API server), not by
//     a label selector;
//   - its HostedCluster controller puts HostedClusterFinalizer on every
//     HostedCluster it reconciles and removes it only when the cluster is
//     gone, so a HostedCluster carrying it is managed by HyperShift even
//     while the Deployment is scaled to 0, moved, or being reinstalled.
const (
	OperatorComponentLabel      = "hypershift.openshift.io/operator-component"
	InstallCLIVersionAnnotation = "hypershift.openshift.io/install-cli-version"
	HostedClusterFinalizer      = "hypershift.openshift.io/finalizer"
	hyperShiftOperatorCommand   = "/usr/bin/hypershift-operator"
)

// hostedClusterPage bounds one metadata-only list of HostedClusters while
// looking for HyperShift's finalizer; the search stops at the first page
// holding one.
const hostedClusterPage = 500

// DetectHyperShift reports what shows that HyperShift's own operator
// manages HostedClusters on the cluster, one finding per object (empty
// when nothing does): Deployments that are HyperShift's operator, in any
// namespace and whatever their replicas, and HostedClusters carrying
// HyperShift's finalizer (at most the first few). It reads with the
// operator's own rights (list on Deployments and HostedClusters) and
// writes nothing.
func DetectHyperShift(ctx context.Context, c client.Reader) ([]string, error) {
	var found []string
	var deps appsv1.DeploymentList
	if err := c.List(ctx, &deps, client.MatchingFields{"metadata.name": companion.HyperShiftDeployment}); err != nil {
		return nil, fmt.Errorf("looking for HyperShift's operator (Deployments named %q): %w", companion.HyperShiftDeployment, err)
	}
	for i := range deps.Items {
		if why := hyperShiftOperator(&deps.Items[i]); why != "" {
			d := &deps.Items[i]
			replicas := int32(1)
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			found = append(found, fmt.Sprintf("Deployment %s/%s is HyperShift's operator (%s; %d replicas)", d.Namespace, d.Name, why, replicas))
		}
	}
	hcs, err := finalizedHostedClusters(ctx, c)
	if err != nil {
		return nil, err
	}
	const shown = 3
	for i, hc := range hcs {
		if i == shown {
			found = append(found, fmt.Sprintf("and %d more HostedClusters with it", len(hcs)-shown))
			break
		}
		found = append(found, fmt.Sprintf("HostedCluster %s carries HyperShift's finalizer %s", hc, HostedClusterFinalizer))
	}
	return found, nil
}

// hyperShiftOperator says why d is HyperShift's operator Deployment, or ""
// when it is not: the marks `hypershift install` gives it, or, with none
// of them, its default name and namespace (hypershift/operator).
func hyperShiftOperator(d *appsv1.Deployment) string {
	if d.Spec.Template.Labels[OperatorComponentLabel] == companion.HyperShiftDeployment {
		return "pod template label " + OperatorComponentLabel + "=" + companion.HyperShiftDeployment
	}
	for _, ct := range d.Spec.Template.Spec.Containers {
		if slices.Contains(ct.Command, hyperShiftOperatorCommand) {
			return "container " + ct.Name + " runs " + hyperShiftOperatorCommand
		}
	}
	if _, ok := d.Annotations[InstallCLIVersionAnnotation]; ok {
		return "annotation " + InstallCLIVersionAnnotation
	}
	if d.Namespace == companion.HyperShiftNamespace {
		return "where `hypershift install` puts it"
	}
	return ""
}

// finalizedHostedClusters lists, by metadata only and page by page, the
// HostedClusters carrying HyperShift's finalizer, as namespace/name; it
// stops after the first page that holds any.
func finalizedHostedClusters(ctx context.Context, c client.Reader) ([]string, error) {
	var out []string
	opts := []client.ListOption{client.Limit(hostedClusterPage)}
	for {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(hypershiftv1beta1.GroupVersion.WithKind("HostedClusterList"))
		if err := c.List(ctx, l, opts...); err != nil {
			return nil, fmt.Errorf("looking for HostedClusters with HyperShift's finalizer %s: %w", HostedClusterFinalizer, err)
		}
		for _, hc := range l.Items {
			if slices.Contains(hc.Finalizers, HostedClusterFinalizer) {
				out = append(out, hc.Namespace+"/"+hc.Name)
			}
		}
		if len(out) > 0 || l.Continue == "" {
			return out, nil
		}
		opts = []client.ListOption{client.Limit(hostedClusterPage), client.Continue(l.Continue)}
	}
}

// refusal is the error New returns beside HyperShift: what was found, and
// the flag that makes the operator work beside it.
func refusal(found []string) error {
	return fmt.Errorf("HyperShift's own operator manages HostedClusters on this cluster: %s: not starting, as both operators would write the same namespaces and Deployments; run `hcpmirror operator --companion` (and `hcpmirror render --companion`) to work beside it", strings.Join(found, "; "))
}
