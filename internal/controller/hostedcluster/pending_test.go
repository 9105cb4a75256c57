package hostedcluster

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPendingWrites(t *testing.T) {
	at := func(rv string) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "d", ResourceVersion: rv}}
	}
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name   string
		from   string // version our write started from
		result string // version it produced
		cached string // version the cache shows later
		later  time.Duration
		behind bool
	}{
		{"cache still shows the version written over", "5", "6", "5", time.Second, true},
		{"cache has our write", "5", "6", "6", time.Second, false},
		{"cache has a later one", "5", "6", "9", time.Second, false},
		{"waited too long", "5", "6", "5", pendingMaxAge, false},
		{"a create is not remembered", "", "6", "", time.Second, false},
		{"a write that changed nothing is not remembered", "6", "6", "6", time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p pendingWrites
			p.wrote("Deployment", at(tt.result), tt.from, t0)
			if got := p.behind("Deployment", at(tt.cached), t0.Add(tt.later)); got != tt.behind {
				t.Errorf("behind() = %v, want %v", got, tt.behind)
			}
			if p.behind("ConfigMap", at(tt.cached), t0.Add(tt.later)) {
				t.Error("another kind of the same name is behind")
			}
		})
	}
}
