package conditions

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNewCutsLongMessages(t *testing.T) {
	c := New("T", metav1.ConditionFalse, "R", strings.Repeat("x", maxMessage+10), 3)
	if len(c.Message) != maxMessage+len("…") || c.ObservedGeneration != 3 {
		t.Errorf("New() message length %d, generation %d", len(c.Message), c.ObservedGeneration)
	}
}

func TestKeep(t *testing.T) {
	prev := []metav1.Condition{{Type: "A", Status: metav1.ConditionTrue, Reason: "Old", ObservedGeneration: 1}}
	fallback := New("A", metav1.ConditionUnknown, "New", "m", 2)
	tests := []struct {
		name     string
		previous []metav1.Condition
		want     string
	}{
		{"kept", prev, "Old"},
		{"none to keep", nil, "New"},
	}
	for _, tt := range tests {
		if got := Keep(tt.previous, "A", fallback); got.Reason != tt.want {
			t.Errorf("%s: Keep() reason = %s, want %s", tt.name, got.Reason, tt.want)
		}
	}
}
