package dataplane

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
)

// TestConditions has a case for every path of Reconcile; each yields
// ValidImageContentSources.
func TestConditions(t *testing.T) {
	prev := []metav1.Condition{{Type: hypershiftv1beta1.ValidImageContentSources, Status: metav1.ConditionTrue, Reason: hypershiftv1beta1.ReasonAsExpected,
		Message: "2 imageContentSources entries are rendered for the nodes.", ObservedGeneration: 4}}
	tests := []struct {
		name     string
		in       outcome
		previous []metav1.Condition
		status   metav1.ConditionStatus
		reason   string
	}{
		{"entries rendered", outcome{count: 2}, nil, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected},
		{"empty", outcome{}, nil, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected},
		{"invalid", outcome{count: 3, invalid: errors.New("spec.imageContentSources[2].source: bad")}, prev, metav1.ConditionFalse, hypershiftv1beta1.ReasonInvalidImageContentSources},
		{"no HostedControlPlane yet", outcome{count: 1, noControlPlane: true}, nil, metav1.ConditionUnknown, hypershiftv1beta1.ReasonControlPlaneUnavailable},
		{"ConfigMap not written", outcome{count: 1, writeErr: errors.New("forbidden")}, prev, metav1.ConditionUnknown, hypershiftv1beta1.ReasonDataPlaneConfigNotWritten},
		{"empty, stale ConfigMap not deleted", outcome{writeErr: errors.New("forbidden")}, nil, metav1.ConditionUnknown, hypershiftv1beta1.ReasonDataPlaneConfigNotWritten},
		{"write conflict keeps the previous value", outcome{count: 2, conflict: true}, prev, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected},
		{"write conflict without a previous value", outcome{count: 2, conflict: true}, nil, metav1.ConditionUnknown, hypershiftv1beta1.ReasonWriteConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := tt.in.conditions(4, tt.previous)
			if len(conds) != 1 || conds[0].Type != hypershiftv1beta1.ValidImageContentSources {
				t.Fatalf("conditions() = %+v, want only %s", conds, hypershiftv1beta1.ValidImageContentSources)
			}
			c := conds[0]
			if c.Status != tt.status || c.Reason != tt.reason || c.ObservedGeneration != 4 || c.Message == "" {
				t.Errorf("conditions() = %s/%s gen %d %q, want %s/%s gen 4 with a message", c.Status, c.Reason, c.ObservedGeneration, c.Message, tt.status, tt.reason)
			}
		})
	}
}
