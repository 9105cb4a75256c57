package hostedcluster

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
)

// maxMessage keeps condition messages readable in `kubectl describe`; the
// full validation error is also logged.
const maxMessage = 4000

// outcome gathers what one reconcile found; conditions derive from it alone,
// so every reason is a table case without a cluster.
type outcome struct {
	setsCount    int
	sourcesCount int
	setsReadErr  error // could not list mirror sets
	setsInvalid  error // listed, but validation rejected them

	releaseErr    error
	releaseReason string
	release       *Release

	icsInvalid error // imageContentSources rejected
	icsChecked bool
	icsCount   int

	propagateErr error
	conflict     bool // a write lost a race: propagation state unknown until the retry
	deployments  int  // deployments carrying overrides
	changed      int  // deployments written this time
}

// conditions returns the conditions for an outcome.
func (o outcome) conditions(generation int64) []metav1.Condition {
	cond := func(t string, ok bool, reason, msg string) metav1.Condition {
		status := metav1.ConditionTrue
		if !ok {
			status = metav1.ConditionFalse
		}
		if len(msg) > maxMessage {
			msg = msg[:maxMessage] + "…"
		}
		return metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation}
	}
	var out []metav1.Condition
	switch {
	case o.setsReadErr != nil:
		out = append(out, cond(hypershiftv1beta1.ValidMirrorSets, false, hypershiftv1beta1.ReasonMirrorSetsUnavailable,
			"Mirror sets could not be read: "+o.setsReadErr.Error()))
	case o.setsInvalid != nil:
		out = append(out, cond(hypershiftv1beta1.ValidMirrorSets, false, hypershiftv1beta1.ReasonInvalidMirrorSets,
			"Mirror sets are rejected, as the machine-config-operator would reject them; the last good overrides stay in place. Fix: "+
				strings.ReplaceAll(o.setsInvalid.Error(), "\n", "; ")))
	default:
		out = append(out, cond(hypershiftv1beta1.ValidMirrorSets, true, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d mirror sets give %d sources.", o.setsCount, o.sourcesCount)))
	}
	switch {
	case o.releaseErr != nil:
		out = append(out, cond(hypershiftv1beta1.ReleaseImageResolved, false, o.releaseReason, o.releaseErr.Error()))
	case o.release != nil:
		out = append(out, cond(hypershiftv1beta1.ReleaseImageResolved, true, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("Release %s (%s) was read from %s.", o.release.Version, o.release.Image, o.release.ServedBy)))
	}
	switch {
	case o.icsInvalid != nil:
		out = append(out, cond(hypershiftv1beta1.ValidImageContentSources, false, hypershiftv1beta1.ReasonInvalidImageContentSources,
			"imageContentSources would be rejected by the nodes' machine-config-operator; node mirror configuration is left as it was. Fix: "+
				strings.ReplaceAll(o.icsInvalid.Error(), "\n", "; ")))
	case o.icsChecked && o.icsCount == 0:
		out = append(out, cond(hypershiftv1beta1.ValidImageContentSources, true, hypershiftv1beta1.ReasonAsExpected,
			"imageContentSources is empty: nodes get no mirror configuration and pull from the sources ('hcpmirror sync-ics' derives a list from the management mirror sets)."))
	case o.icsChecked:
		out = append(out, cond(hypershiftv1beta1.ValidImageContentSources, true, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d imageContentSources entries are rendered for the nodes.", o.icsCount)))
	}
	switch {
	case o.setsReadErr != nil:
		out = append(out, cond(hypershiftv1beta1.RegistryOverridesPropagated, false, hypershiftv1beta1.ReasonKeptLastGood,
			"The mirror sets could not be read, so deployments keep the overrides they have."))
	case o.setsInvalid != nil:
		out = append(out, cond(hypershiftv1beta1.RegistryOverridesPropagated, false, hypershiftv1beta1.ReasonKeptLastGood,
			"The mirror sets are not valid, so deployments keep the last good overrides."))
	case o.conflict:
		// Leave the condition as it is; the requeued reconcile decides.
	case o.propagateErr != nil:
		out = append(out, cond(hypershiftv1beta1.RegistryOverridesPropagated, false, hypershiftv1beta1.ReasonPropagationFailed,
			o.propagateErr.Error()))
	default:
		out = append(out, cond(hypershiftv1beta1.RegistryOverridesPropagated, true, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d deployments carry the overrides of the current mirror sets.", o.deployments)))
	}
	return out
}

// setConditions merges conds into existing, keeping transition times of
// conditions whose status did not change.
func setConditions(existing *[]metav1.Condition, conds []metav1.Condition) {
	for _, c := range conds {
		meta.SetStatusCondition(existing, c)
	}
}

// fieldOwner is hcpmirror's server-side apply identity.
const fieldOwner = "hcpmirror"

// applyConditions writes only hcpmirror's condition types, by server-side
// apply: status.conditions is a map-list keyed by type, so conditions other
// controllers (HyperShift) own are neither read-modify-written nor reverted.
// Nothing is sent when nothing changed.
func (r *Reconciler) applyConditions(ctx context.Context, hc *hypershiftv1beta1.HostedCluster, conds []metav1.Condition) error {
	merged := append([]metav1.Condition(nil), hc.Status.Conditions...)
	setConditions(&merged, conds)
	changed := false
	list := make([]any, 0, len(conds))
	for _, c := range conds {
		cur := meta.FindStatusCondition(merged, c.Type)
		old := meta.FindStatusCondition(hc.Status.Conditions, c.Type)
		if old == nil || old.Status != cur.Status || old.Reason != cur.Reason || old.Message != cur.Message || old.ObservedGeneration != cur.ObservedGeneration {
			changed = true
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cur)
		if err != nil {
			return err
		}
		list = append(list, m)
	}
	if !changed {
		return nil
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(hypershiftv1beta1.GroupVersion.String())
	u.SetKind("HostedCluster")
	u.SetNamespace(hc.Namespace)
	u.SetName(hc.Name)
	if err := unstructured.SetNestedSlice(u.Object, list, "status", "conditions"); err != nil {
		return err
	}
	return r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
}
