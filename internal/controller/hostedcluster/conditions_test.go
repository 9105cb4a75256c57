package hostedcluster

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
)

// TestConditions has a case for every path of Reconcile: each yields every
// owned condition type, so none can vanish from the HostedCluster.
func TestConditions(t *testing.T) {
	rel := &Release{Image: "quay.io/r@sha256:x", Version: "4.16.3", ServedBy: "m.io/r@sha256:x"}
	prevTrue := metav1.Condition{Type: hypershiftv1beta1.RegistryOverridesPropagated, Status: metav1.ConditionTrue,
		Reason: hypershiftv1beta1.ReasonAsExpected, Message: "3 deployments carry the overrides of the current mirror sets.", ObservedGeneration: 6}
	type row struct{ status, reason string }
	type want struct{ sets, release, propagated row }
	const (
		T = "True"
		F = "False"
		U = "Unknown"
	)
	ok := row{T, hypershiftv1beta1.ReasonAsExpected}
	tests := []struct {
		name     string
		in       outcome
		previous []metav1.Condition
		want     want
	}{
		{"all good", outcome{setsCount: 2, sourcesCount: 3, release: rel, deployments: 3},
			nil, want{ok, ok, ok}},
		{"no release provider", outcome{releaseDisabled: true, deployments: 2},
			nil, want{ok, row{U, hypershiftv1beta1.ReasonReleaseLookupDisabled}, ok}},
		{"sets unreadable", outcome{setsReadErr: errors.New("listing ImageDigestMirrorSets: timeout")},
			[]metav1.Condition{prevTrue}, want{
				row{U, hypershiftv1beta1.ReasonMirrorSetsUnavailable},
				row{U, hypershiftv1beta1.ReasonMirrorSetsUnavailable},
				row{U, hypershiftv1beta1.ReasonMirrorSetsUnavailable}}},
		{"sets invalid", outcome{setsInvalid: errors.New(`ImageContentSourcePolicy "x": spec.repositoryDigestMirrors[0].source: bad`)},
			nil, want{
				row{F, hypershiftv1beta1.ReasonInvalidMirrorSets},
				row{U, hypershiftv1beta1.ReasonInvalidMirrorSets},
				row{F, hypershiftv1beta1.ReasonKeptLastGood}}},
		{"pull secret missing", outcome{releaseErr: errors.New("no secret"), releaseReason: hypershiftv1beta1.ReasonPullSecretMissing, deployments: 2},
			nil, want{ok, row{F, hypershiftv1beta1.ReasonPullSecretMissing}, ok}},
		{"lookup failed", outcome{releaseErr: errors.New("all mirrors down"), releaseReason: hypershiftv1beta1.ReasonReleaseLookupFailed, deployments: 2},
			nil, want{ok, row{F, hypershiftv1beta1.ReasonReleaseLookupFailed}, ok}},
		{"lookup returned nothing", outcome{deployments: 2},
			nil, want{ok, row{U, hypershiftv1beta1.ReasonReleaseLookupFailed}, ok}},
		{"override strings cannot be encoded", outcome{release: rel, propagateErr: errors.New("encoding the override strings: bad")},
			nil, want{ok, ok, row{F, hypershiftv1beta1.ReasonPropagationFailed}}},
		{"namespace or HostedControlPlane not written", outcome{release: rel, propagateErr: errors.New("ensuring namespace x: forbidden")},
			nil, want{ok, ok, row{F, hypershiftv1beta1.ReasonPropagationFailed}}},
		{"deployment write failed", outcome{release: rel, propagateErr: errors.New("writing Deployment x/y: forbidden")},
			nil, want{ok, ok, row{F, hypershiftv1beta1.ReasonPropagationFailed}}},
		{"write conflict keeps the previous value", outcome{release: rel, conflict: true},
			[]metav1.Condition{prevTrue}, want{ok, ok, ok}},
		{"write conflict without a previous value", outcome{release: rel, conflict: true},
			nil, want{ok, ok, row{U, hypershiftv1beta1.ReasonWriteConflict}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := tt.in.conditions(7, tt.previous)
			var types []string
			for _, c := range conds {
				types = append(types, c.Type)
			}
			if diff := cmp.Diff(OwnedConditions, types); diff != "" {
				t.Fatalf("condition types (-want +got):\n%s", diff)
			}
			got := want{
				sets:       row{string(conds[0].Status), conds[0].Reason},
				release:    row{string(conds[1].Status), conds[1].Reason},
				propagated: row{string(conds[2].Status), conds[2].Reason},
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{}, row{})); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			for _, c := range conds {
				if c.Message == "" {
					t.Errorf("%s has no message", c.Type)
				}
				kept := tt.in.conflict && c.Type == hypershiftv1beta1.RegistryOverridesPropagated && tt.previous != nil
				if wantGen := map[bool]int64{true: 6, false: 7}[kept]; c.ObservedGeneration != wantGen {
					t.Errorf("%s observedGeneration = %d, want %d", c.Type, c.ObservedGeneration, wantGen)
				}
			}
		})
	}
}

func TestStaleCache(t *testing.T) {
	conflict := apierrorsConflict()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"conflict", conflict, true},
		{"wrapped conflict", errors.Join(conflict, conflict), true},
		{"conflict beside a real failure", errors.Join(conflict, errors.New("forbidden")), false},
		{"other", errors.New("forbidden"), false},
	}
	for _, tt := range tests {
		if got := staleCache(tt.err); got != tt.want {
			t.Errorf("%s: staleCache() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func apierrorsConflict() error {
	return apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "x", errors.New("the object has been modified"))
}

// TestMirroredConditions: the control-plane-operator's conditions are copied
// with the HostedCluster's generation, Unknown when not reported yet.
func TestMirroredConditions(t *testing.T) {
	reported := &hypershiftv1beta1.HostedControlPlane{Status: hypershiftv1beta1.HostedControlPlaneStatus{Conditions: []metav1.Condition{{
		Type: hypershiftv1beta1.ValidImageContentSources, Status: metav1.ConditionFalse, Reason: hypershiftv1beta1.ReasonInvalidImageContentSources, Message: "bad", ObservedGeneration: 2}}}}
	tests := []struct {
		name   string
		hcp    *hypershiftv1beta1.HostedControlPlane
		status metav1.ConditionStatus
		reason string
	}{
		{"no HostedControlPlane", nil, metav1.ConditionUnknown, hypershiftv1beta1.ReasonControlPlaneUnavailable},
		{"not reported yet", &hypershiftv1beta1.HostedControlPlane{}, metav1.ConditionUnknown, hypershiftv1beta1.ReasonControlPlaneUnavailable},
		{"reported", reported, metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidImageContentSources},
	}
	for _, tt := range tests {
		got := mirroredConditions(tt.hcp, 7)
		if len(got) != len(MirroredConditions) || got[0].Status != tt.status || got[0].Reason != tt.reason || got[0].ObservedGeneration != 7 || got[0].Message == "" {
			t.Errorf("%s: mirroredConditions() = %+v", tt.name, got)
		}
	}
	changed := reported.DeepCopy()
	changed.Status.Conditions[0].Message = "other"
	if !mirroredChanged(reported, changed) || mirroredChanged(reported, reported.DeepCopy()) || !mirroredChanged(&hypershiftv1beta1.HostedControlPlane{}, reported) {
		t.Error("mirroredChanged misses or invents a change")
	}
}
