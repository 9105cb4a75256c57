package dataplane

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
)

// FieldOwner is this controller's server-side apply identity for the
// condition it owns, ValidImageContentSources.
const FieldOwner = "hcpmirror-dataplane"

// outcome is what one reconcile found.
type outcome struct {
	count          int   // imageContentSources entries
	invalid        error // the list is rejected
	noControlPlane bool  // the HostedControlPlane, the ConfigMap's owner, does not exist yet
	writeErr       error // the ConfigMap could not be written
	conflict       bool  // the write met a stale cache and is retried at once
}

// conditions returns ValidImageContentSources for an outcome; previous
// are the conditions the HostedCluster has.
func (o outcome) conditions(generation int64, previous []metav1.Condition) []metav1.Condition {
	t := hypershiftv1beta1.ValidImageContentSources
	var c metav1.Condition
	switch {
	case o.conflict && o.invalid == nil:
		// Not worth flapping for: the requeued reconcile decides.
		c = conditions.Keep(previous, t, conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonWriteConflict,
			"imageContentSources is valid; writing the nodes' configuration lost a race and is being retried.", generation))
	case o.invalid != nil:
		c = conditions.New(t, metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidImageContentSources,
			"imageContentSources would be rejected by the nodes' machine-config-operator; node mirror configuration is left as it was. Fix: "+
				strings.ReplaceAll(o.invalid.Error(), "\n", "; "), generation)
	case o.noControlPlane:
		c = conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonControlPlaneUnavailable,
			"imageContentSources is valid; the HostedControlPlane does not exist yet, so the nodes' configuration is not written yet.", generation)
	case o.writeErr != nil:
		c = conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonDataPlaneConfigNotWritten,
			"imageContentSources is valid, but the nodes' configuration could not be written: "+o.writeErr.Error(), generation)
	case o.count == 0:
		c = conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			"imageContentSources is empty: nodes get no mirror configuration and pull from the sources ('hcpmirror sync-ics' derives a list from the management mirror sets).", generation)
	default:
		c = conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d imageContentSources entries are rendered for the nodes.", o.count), generation)
	}
	return []metav1.Condition{c}
}
