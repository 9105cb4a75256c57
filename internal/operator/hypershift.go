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
//     while the Deployment is scaled to 0, moved, or being reinstalled;
//   - it creates each HostedControlPlane with its client, whose user agent
//     (so the field manager of its writes) is HyperShiftFieldManager: a
//     HostedControlPlane in its managedFields is HyperShift's, whatever
//     else is still installed.
const (
	OperatorComponentLabel      = "hypershift.openshift.io/operator-component"
	InstallCLIVersionAnnotation = "hypershift.openshift.io/install-cli-version"
	HostedClusterFinalizer      = "hypershift.openshift.io/finalizer"
	HyperShiftFieldManager      = "hypershift-operator-manager"
	hyperShiftOperatorCommand   = "/usr/bin/hypershift-operator"
)

// markedPage bounds one metadata-only list of HostedClusters or
// HostedControlPlanes while looking for HyperShift's marks; the search
// stops at the first page holding one.
const markedPage = 500

// DetectHyperShift reports what shows that HyperShift's own operator
// manages HostedClusters on the cluster, one finding per object (empty
// when nothing does): Deployments that are HyperShift's operator, in any
// namespace and whatever their replicas, HostedClusters carrying
// HyperShift's finalizer and HostedControlPlanes written by its field
// manager (the first few of each). It reads with the operator's own
// rights (list on Deployments, HostedClusters and HostedControlPlanes;
// three lists, the last two metadata only) and writes nothing.
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
	for _, m := range []struct {
		kind, what string
		marked     func(*metav1.PartialObjectMetadata) bool
	}{
		{"HostedCluster", "carries HyperShift's finalizer " + HostedClusterFinalizer, func(o *metav1.PartialObjectMetadata) bool {
			return slices.Contains(o.Finalizers, HostedClusterFinalizer)
		}},
		{"HostedControlPlane", "is written by HyperShift's field manager " + HyperShiftFieldManager, func(o *metav1.PartialObjectMetadata) bool {
			return slices.ContainsFunc(o.ManagedFields, func(f metav1.ManagedFieldsEntry) bool { return f.Manager == HyperShiftFieldManager })
		}},
	} {
		names, err := firstMarked(ctx, c, m.kind, m.marked)
		if err != nil {
			return nil, fmt.Errorf("looking for %ss that HyperShift manages: %w", m.kind, err)
		}
		const shown = 3
		for i, n := range names {
			if i == shown {
				found = append(found, fmt.Sprintf("and %d more %ss", len(names)-shown, m.kind))
				break
			}
			found = append(found, fmt.Sprintf("%s %s %s", m.kind, n, m.what))
		}
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

// firstMarked lists objects of kind (hypershift.openshift.io/v1beta1) by
// metadata only, page by page, and returns the namespace/name of those
// marked on the first page holding any.
func firstMarked(ctx context.Context, c client.Reader, kind string, marked func(*metav1.PartialObjectMetadata) bool) ([]string, error) {
	var out []string
	opts := []client.ListOption{client.Limit(markedPage)}
	for {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(hypershiftv1beta1.GroupVersion.WithKind(kind + "List"))
		if err := c.List(ctx, l, opts...); err != nil {
			return nil, err
		}
		for i := range l.Items {
			if marked(&l.Items[i]) {
				out = append(out, l.Items[i].Namespace+"/"+l.Items[i].Name)
			}
		}
		if len(out) > 0 || l.Continue == "" {
			return out, nil
		}
		opts = []client.ListOption{client.Limit(markedPage), client.Continue(l.Continue)}
	}
}

// refusal is the error New returns beside HyperShift: what was found, and
// the flag that makes the operator work beside it.
func refusal(found []string) error {
	return fmt.Errorf("HyperShift's own operator manages HostedClusters on this cluster: %s: not starting, as both operators would write the same namespaces and Deployments; run `hcpmirror operator --companion` (and `hcpmirror render --companion`) to work beside it", strings.Join(found, "; "))
}
