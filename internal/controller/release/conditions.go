package release

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
)

// FieldOwner is this controller's server-side apply identity for
// ReleaseImageResolved on the HostedControlPlane.
const FieldOwner = "hcpmirror-control-plane-operator-release"

// outcome is what one release lookup found.
type outcome struct {
	disabled bool                   // no release provider (tests)
	release  *hostedcluster.Release // nil when the lookup failed
	reason   string                 // the failure's reason
	err      error
}

// conditions returns ReleaseImageResolved.
func (o outcome) conditions(generation int64) []metav1.Condition {
	t := hypershiftv1beta1.ReleaseImageResolved
	var c metav1.Condition
	switch {
	case o.disabled:
		c = conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonReleaseLookupDisabled,
			"the control-plane-operator runs without a release provider; the release is not read.", generation)
	case o.err != nil:
		c = conditions.New(t, metav1.ConditionFalse, o.reason, o.err.Error(), generation)
	case o.release == nil:
		c = conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonReleaseLookupFailed, "the release was not read.", generation)
	default:
		c = conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("release %s (%s) read through the control-plane-operator's overrides from %s.", o.release.Version, o.release.Image, o.release.ServedBy), generation)
	}
	return []metav1.Condition{c}
}
