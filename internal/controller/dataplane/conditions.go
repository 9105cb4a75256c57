package dataplane

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
)

// FieldOwner is this controller's server-side apply identity for the
// conditions it owns on the HostedControlPlane.
const FieldOwner = "hcpmirror-control-plane-operator-dataplane"

// OwnedConditions are written on every reconcile.
var OwnedConditions = []string{hypershiftv1beta1.ValidImageContentSources, hypershiftv1beta1.GuestMirrorSetsApplied}

// outcome is what one reconcile found.
type outcome struct {
	count        int   // imageContentSources entries
	invalid      error // the list is rejected
	writeErr     error // the ConfigMap could not be written
	conflict     bool  // the write met a stale cache and is retried at once
	guestMissing error // no usable guest kubeconfig
	guestErr     error // the guest API server failed the write
}

// conditions returns the owned conditions for an outcome; previous are the
// conditions the HostedControlPlane has.
func (o outcome) conditions(generation int64, previous []metav1.Condition) []metav1.Condition {
	return []metav1.Condition{o.validImageContentSources(generation, previous), o.guestMirrorSetsApplied(generation)}
}

func (o outcome) validImageContentSources(generation int64, previous []metav1.Condition) metav1.Condition {
	t := hypershiftv1beta1.ValidImageContentSources
	switch {
	case o.conflict && o.invalid == nil:
		// Not worth flapping for: the requeued reconcile decides.
		return conditions.Keep(previous, t, conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonWriteConflict,
			"imageContentSources is valid; writing the nodes' configuration lost a race and is being retried.", generation))
	case o.invalid != nil:
		return conditions.New(t, metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidImageContentSources,
			"imageContentSources would be rejected by the nodes' machine-config-operator; node mirror configuration is left as it was. Fix: "+
				strings.ReplaceAll(o.invalid.Error(), "\n", "; "), generation)
	case o.writeErr != nil:
		return conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonDataPlaneConfigNotWritten,
			"imageContentSources is valid, but the nodes' configuration could not be written: "+o.writeErr.Error(), generation)
	case o.count == 0:
		return conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			"imageContentSources is empty: nodes get no mirror configuration and pull from the sources ('hcpmirror sync-ics' derives a list from the management mirror sets).", generation)
	default:
		return conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d imageContentSources entries are rendered for the nodes.", o.count), generation)
	}
}

func (o outcome) guestMirrorSetsApplied(generation int64) metav1.Condition {
	t := hypershiftv1beta1.GuestMirrorSetsApplied
	switch {
	case o.invalid != nil:
		return conditions.New(t, metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidImageContentSources,
			"imageContentSources is rejected (see ValidImageContentSources); the guest's mirror sets are left as they were.", generation)
	case o.guestMissing != nil:
		return conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonGuestKubeconfigMissing,
			"the guest API server is not known yet: "+o.guestMissing.Error(), generation)
	case o.guestErr != nil:
		return conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonGuestUnreachable,
			"the guest's mirror sets could not be written: "+o.guestErr.Error(), generation)
	case o.count == 0:
		return conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			"imageContentSources is empty: the guest has no ImageDigestMirrorSet \"cluster\".", generation)
	default:
		return conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("the guest's ImageDigestMirrorSet \"cluster\" carries the %d imageContentSources entries.", o.count), generation)
	}
}
