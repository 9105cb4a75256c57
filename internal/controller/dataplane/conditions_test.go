package dataplane

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
)

// TestConditions has a case for every path of Reconcile; each yields both
// owned conditions.
func TestConditions(t *testing.T) {
	const valid, guest = hypershiftv1beta1.ValidImageContentSources, hypershiftv1beta1.GuestMirrorSetsApplied
	prev := []metav1.Condition{{Type: valid, Status: metav1.ConditionTrue, Reason: hypershiftv1beta1.ReasonAsExpected,
		Message: "2 imageContentSources entries are rendered for the nodes.", ObservedGeneration: 4}}
	type want struct {
		status metav1.ConditionStatus
		reason string
	}
	tests := []struct {
		name     string
		in       outcome
		previous []metav1.Condition
		want     map[string]want
	}{
		{"entries rendered", outcome{count: 2}, nil, map[string]want{
			valid: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}, guest: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}}},
		{"empty", outcome{}, nil, map[string]want{
			valid: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}, guest: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}}},
		{"invalid", outcome{count: 3, invalid: errors.New("spec.imageContentSources[2].source: bad")}, prev, map[string]want{
			valid: {metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidImageContentSources}, guest: {metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidImageContentSources}}},
		{"ConfigMap not written", outcome{count: 1, writeErr: errors.New("forbidden")}, prev, map[string]want{
			valid: {metav1.ConditionUnknown, hypershiftv1beta1.ReasonDataPlaneConfigNotWritten}, guest: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}}},
		{"write conflict keeps the previous value", outcome{count: 2, conflict: true}, prev, map[string]want{
			valid: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}, guest: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}}},
		{"write conflict without a previous value", outcome{count: 2, conflict: true}, nil, map[string]want{
			valid: {metav1.ConditionUnknown, hypershiftv1beta1.ReasonWriteConflict}, guest: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}}},
		{"no guest kubeconfig", outcome{count: 1, guestMissing: errors.New("secret not found")}, nil, map[string]want{
			valid: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}, guest: {metav1.ConditionUnknown, hypershiftv1beta1.ReasonGuestKubeconfigMissing}}},
		{"guest unreachable", outcome{count: 1, guestErr: errors.New("connection refused")}, nil, map[string]want{
			valid: {metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected}, guest: {metav1.ConditionUnknown, hypershiftv1beta1.ReasonGuestUnreachable}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := tt.in.conditions(4, tt.previous)
			if len(conds) != len(OwnedConditions) {
				t.Fatalf("conditions() = %+v, want %v", conds, OwnedConditions)
			}
			for _, typ := range OwnedConditions {
				c := meta.FindStatusCondition(conds, typ)
				w := tt.want[typ]
				if c == nil || c.Status != w.status || c.Reason != w.reason || c.ObservedGeneration != 4 || c.Message == "" {
					t.Errorf("%s = %+v, want %s/%s gen 4 with a message", typ, c, w.status, w.reason)
				}
			}
		})
	}
}
