package hostedcluster

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
)

// FieldOwner is this controller's server-side apply identity for the
// conditions it owns (OwnedConditions).
const FieldOwner = "hcpmirror-propagation"

// OwnedConditions are the condition types this controller writes on every
// reconcile.
var OwnedConditions = []string{
	hypershiftv1beta1.ValidMirrorSets,
	hypershiftv1beta1.ReleaseImageResolved,
	hypershiftv1beta1.RegistryOverridesPropagated,
}

// outcome gathers what one reconcile found; conditions derive from it (and,
// where a condition is deliberately kept, the previous conditions) alone, so
// every reason is a table case without a cluster.
type outcome struct {
	setsCount    int
	sourcesCount int
	setsReadErr  error // could not list mirror sets
	setsInvalid  error // listed, but validation rejected them

	releaseDisabled bool // no release provider: nothing is looked up
	releaseErr      error
	releaseReason   string
	release         *Release

	propagateErr error
	conflict     bool // a write lost a race, or ours are not in the cache yet: unknown until the retry
	deployments  int  // deployments carrying overrides
	changed      int  // deployments written this time
}

// conditions returns every condition type in OwnedConditions for an
// outcome, in that order.
func (o outcome) conditions(generation int64, previous []metav1.Condition) []metav1.Condition {
	cond := func(t string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return conditions.New(t, status, reason, msg, generation)
	}
	const (
		yes     = metav1.ConditionTrue
		no      = metav1.ConditionFalse
		unknown = metav1.ConditionUnknown
	)
	var sets, rel, prop metav1.Condition
	switch {
	case o.setsReadErr != nil:
		sets = cond(hypershiftv1beta1.ValidMirrorSets, unknown, hypershiftv1beta1.ReasonMirrorSetsUnavailable,
			"Mirror sets could not be read: "+o.setsReadErr.Error())
	case o.setsInvalid != nil:
		sets = cond(hypershiftv1beta1.ValidMirrorSets, no, hypershiftv1beta1.ReasonInvalidMirrorSets,
			"Mirror sets are rejected, as the machine-config-operator would reject them; the last good overrides stay in place. Fix: "+
				strings.ReplaceAll(o.setsInvalid.Error(), "\n", "; "))
	default:
		sets = cond(hypershiftv1beta1.ValidMirrorSets, yes, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d mirror sets give %d sources.", o.setsCount, o.sourcesCount))
	}
	switch {
	case o.setsReadErr != nil:
		rel = cond(hypershiftv1beta1.ReleaseImageResolved, unknown, hypershiftv1beta1.ReasonMirrorSetsUnavailable,
			"The release is read through the mirror sets, which could not be read.")
	case o.setsInvalid != nil:
		rel = cond(hypershiftv1beta1.ReleaseImageResolved, unknown, hypershiftv1beta1.ReasonInvalidMirrorSets,
			"The release is read through the mirror sets, which are not valid; it was not looked up.")
	case o.releaseDisabled:
		rel = cond(hypershiftv1beta1.ReleaseImageResolved, unknown, hypershiftv1beta1.ReasonReleaseLookupDisabled,
			"The operator runs without release lookups.")
	case o.releaseErr != nil:
		rel = cond(hypershiftv1beta1.ReleaseImageResolved, no, o.releaseReason, o.releaseErr.Error())
	case o.release != nil:
		rel = cond(hypershiftv1beta1.ReleaseImageResolved, yes, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("Release %s (%s) was read from %s.", o.release.Version, o.release.Image, o.release.ServedBy))
	default:
		// Every path above sets one of them; say so rather than guess.
		rel = cond(hypershiftv1beta1.ReleaseImageResolved, unknown, hypershiftv1beta1.ReasonReleaseLookupFailed,
			"The release was not looked up.")
	}
	switch {
	case o.setsReadErr != nil:
		prop = cond(hypershiftv1beta1.RegistryOverridesPropagated, unknown, hypershiftv1beta1.ReasonMirrorSetsUnavailable,
			"The mirror sets could not be read, so deployments keep the overrides they have.")
	case o.setsInvalid != nil:
		prop = cond(hypershiftv1beta1.RegistryOverridesPropagated, no, hypershiftv1beta1.ReasonKeptLastGood,
			"The mirror sets are not valid, so deployments keep the last good overrides.")
	case o.conflict && o.propagateErr == nil:
		// Not worth flapping for: the requeued reconcile decides.
		prop = conditions.Keep(previous, hypershiftv1beta1.RegistryOverridesPropagated,
			cond(hypershiftv1beta1.RegistryOverridesPropagated, unknown, hypershiftv1beta1.ReasonWriteConflict,
				"A write lost a race with another writer, or is not seen yet; it is checked again."))
	case o.propagateErr != nil:
		prop = cond(hypershiftv1beta1.RegistryOverridesPropagated, no, hypershiftv1beta1.ReasonPropagationFailed,
			o.propagateErr.Error())
	default:
		prop = cond(hypershiftv1beta1.RegistryOverridesPropagated, yes, hypershiftv1beta1.ReasonAsExpected,
			fmt.Sprintf("%d deployments carry the overrides of the current mirror sets.", o.deployments))
	}
	return []metav1.Condition{sets, rel, prop}
}

// MirrorFieldOwner is the server-side apply identity under which the
// conditions the control-plane-operator reports on the HostedControlPlane
// are mirrored onto the HostedCluster.
const MirrorFieldOwner = "hcpmirror-control-plane-status"

// MirroredConditions are the HostedControlPlane conditions copied onto the
// HostedCluster, every reconcile.
var MirroredConditions = []string{hypershiftv1beta1.ValidImageContentSources}

// mirroredConditions returns MirroredConditions for the HostedCluster from
// the HostedControlPlane's (nil when it does not exist): copied as the
// control-plane-operator wrote them, or Unknown when it has not yet.
func mirroredConditions(hcp *hypershiftv1beta1.HostedControlPlane, generation int64) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(MirroredConditions))
	for _, t := range MirroredConditions {
		var c *metav1.Condition
		if hcp != nil {
			c = meta.FindStatusCondition(hcp.Status.Conditions, t)
		}
		if c == nil {
			out = append(out, conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonControlPlaneUnavailable,
				"The control-plane-operator has not reported it on the HostedControlPlane yet.", generation))
			continue
		}
		out = append(out, conditions.New(t, c.Status, c.Reason, c.Message, generation))
	}
	return out
}

// mirroredChanged reports whether a HostedControlPlane update changed a
// mirrored condition.
func mirroredChanged(old, cur *hypershiftv1beta1.HostedControlPlane) bool {
	for _, t := range MirroredConditions {
		a, b := meta.FindStatusCondition(old.Status.Conditions, t), meta.FindStatusCondition(cur.Status.Conditions, t)
		if (a == nil) != (b == nil) || a != nil && (a.Status != b.Status || a.Reason != b.Reason || a.Message != b.Message) {
			return true
		}
	}
	return false
}
