package release

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
)

func TestConditions(t *testing.T) {
	tests := []struct {
		name   string
		in     outcome
		status metav1.ConditionStatus
		reason string
	}{
		{"read", outcome{release: &hostedcluster.Release{Image: "r@sha256:1", Version: "4.16.3", ServedBy: "m/r@sha256:1"}}, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected},
		{"disabled", outcome{disabled: true}, metav1.ConditionUnknown, hypershiftv1beta1.ReasonReleaseLookupDisabled},
		{"pull secret missing", outcome{reason: hypershiftv1beta1.ReasonPullSecretMissing, err: errors.New("not found")}, metav1.ConditionFalse, hypershiftv1beta1.ReasonPullSecretMissing},
		{"lookup failed", outcome{reason: hypershiftv1beta1.ReasonReleaseLookupFailed, err: errors.New("manifest unknown")}, metav1.ConditionFalse, hypershiftv1beta1.ReasonReleaseLookupFailed},
		{"nothing known", outcome{}, metav1.ConditionUnknown, hypershiftv1beta1.ReasonReleaseLookupFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.in.conditions(3)
			if len(c) != 1 || c[0].Type != hypershiftv1beta1.ReleaseImageResolved || c[0].Status != tt.status || c[0].Reason != tt.reason || c[0].Message == "" || c[0].ObservedGeneration != 3 {
				t.Errorf("conditions() = %+v, want %s/%s", c, tt.status, tt.reason)
			}
		})
	}
}
