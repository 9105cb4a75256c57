// Package conditions writes the HostedCluster (and HostedControlPlane) status conditions one
// controller owns. Each controller owns a fixed set of condition types and
// applies all of them, every reconcile, under its own server-side apply
// field manager: status.conditions is a map-list keyed by type, so a manager
// that left a type out of an apply would make the API server delete that
// condition, and a manager never touches the conditions of another
// (HyperShift's, or another hcpmirror controller's).
package conditions

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
)

// maxMessage keeps condition messages readable in `kubectl describe`; the
// full error is also logged.
const maxMessage = 4000

// New returns a condition; messages longer than `kubectl describe` can show
// are cut.
func New(condType string, status metav1.ConditionStatus, reason, msg string, generation int64) metav1.Condition {
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	return metav1.Condition{Type: condType, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation}
}

// Bool is True for ok, False otherwise.
func Bool(ok bool) metav1.ConditionStatus {
	if ok {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

// Keep returns the condition of type condType in previous, unchanged, or
// fallback when there is none: for outcomes that say nothing new (a write
// that lost a race and is retried at once).
func Keep(previous []metav1.Condition, condType string, fallback metav1.Condition) metav1.Condition {
	if c := meta.FindStatusCondition(previous, condType); c != nil {
		return *c
	}
	return fallback
}

// Apply writes conds, which must hold every condition type the caller owns,
// by server-side apply as fieldOwner. Transition times of conditions whose
// status did not change are kept; nothing is sent when no condition
// changed, so a quiet reconcile costs no request.
func Apply(ctx context.Context, c client.Client, hc *hypershiftv1beta1.HostedCluster, fieldOwner string, conds []metav1.Condition) error {
	return ApplyTo(ctx, c, hc, "HostedCluster", hc.Status.Conditions, fieldOwner, conds)
}

// ApplyControlPlane is Apply for a HostedControlPlane, whose conditions the
// control-plane-operator's controllers own the same way.
func ApplyControlPlane(ctx context.Context, c client.Client, hcp *hypershiftv1beta1.HostedControlPlane, fieldOwner string, conds []metav1.Condition) error {
	return ApplyTo(ctx, c, hcp, "HostedControlPlane", hcp.Status.Conditions, fieldOwner, conds)
}

// ApplyTo is Apply for any hypershift.openshift.io/v1beta1 kind with
// status.conditions (the HostedControlPlane): current are the object's
// conditions as read.
func ApplyTo(ctx context.Context, c client.Client, obj client.Object, kind string, current []metav1.Condition, fieldOwner string, conds []metav1.Condition) error {
	merged := slices.Clone(current)
	for _, cond := range conds {
		meta.SetStatusCondition(&merged, cond)
	}
	changed := false
	list := make([]any, 0, len(conds))
	for _, cond := range conds {
		cur := meta.FindStatusCondition(merged, cond.Type)
		old := meta.FindStatusCondition(current, cond.Type)
		if old == nil || old.Status != cur.Status || old.Reason != cur.Reason || old.Message != cur.Message || old.ObservedGeneration != cur.ObservedGeneration {
			changed = true
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cur)
		if err != nil {
			return fmt.Errorf("encoding condition %s: %w", cond.Type, err)
		}
		list = append(list, m)
	}
	if !changed {
		return nil
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(hypershiftv1beta1.GroupVersion.String())
	u.SetKind(kind)
	u.SetNamespace(obj.GetNamespace())
	u.SetName(obj.GetName())
	if err := unstructured.SetNestedSlice(u.Object, list, "status", "conditions"); err != nil {
		return err
	}
	return c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
}
