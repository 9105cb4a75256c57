package ignitiontokens

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSecretName(t *testing.T) {
	a := SecretName("workers", "quay.io/r@sha256:1", nil)
	if len(a) != len("token-workers-")+8 || a[:14] != "token-workers-" {
		t.Errorf("SecretName = %q", a)
	}
	for _, other := range []string{SecretName("workers", "quay.io/r@sha256:2", nil), SecretName("workers", "quay.io/r@sha256:1", []byte("x"))} {
		if other == a {
			t.Errorf("SecretName does not change with the release or config: %q", a)
		}
	}
	if SecretName("workers", "quay.io/r@sha256:1", nil) != a {
		t.Error("SecretName is not stable")
	}
}

func TestRotate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const every, grace = time.Hour, 10 * time.Minute
	secret := func(issued time.Time, previousExpires *time.Time) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{IssuedAnnotation: issued.Format(time.RFC3339)}},
			Data: map[string][]byte{TokenKey: []byte("current")}}
		if previousExpires != nil {
			s.Data[PreviousTokenKey] = []byte("old")
			s.Annotations[PreviousExpiresAnnotation] = previousExpires.Format(time.RFC3339)
		}
		return s
	}
	later := t0.Add(5 * time.Minute)
	tests := []struct {
		name         string
		in           *corev1.Secret
		now          time.Time
		changed      bool
		newToken     bool
		wantPrevious string
		next         time.Time
	}{
		{"new", &corev1.Secret{}, t0, true, true, "", t0.Add(every)},
		{"fresh", secret(t0, nil), t0.Add(time.Minute), false, false, "", t0.Add(every)},
		{"due", secret(t0, nil), t0.Add(every), true, true, "current", t0.Add(every + grace)},
		{"previous still accepted", secret(t0, &later), t0.Add(time.Minute), false, false, "old", later},
		{"previous expired", secret(t0, &later), later, true, false, "", t0.Add(every)},
		{"bad issued time", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{IssuedAnnotation: "x"}}, Data: map[string][]byte{TokenKey: []byte("current")}}, t0, true, true, "", t0.Add(every)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := string(tt.in.Data[TokenKey])
			changed, next := rotate(tt.in, tt.now, every, grace)
			if changed != tt.changed || !next.Equal(tt.next) {
				t.Errorf("rotate() = %v, %s; want %v, %s", changed, next, tt.changed, tt.next)
			}
			if got := string(tt.in.Data[TokenKey]); (got != before) != tt.newToken || len(got) != 64 && tt.newToken {
				t.Errorf("token %q -> %q, want new: %v", before, got, tt.newToken)
			}
			if got := string(tt.in.Data[PreviousTokenKey]); got != tt.wantPrevious {
				t.Errorf("previous token = %q, want %q", got, tt.wantPrevious)
			}
			if _, ok := tt.in.Annotations[PreviousExpiresAnnotation]; ok != (tt.wantPrevious != "") {
				t.Errorf("annotations = %v", tt.in.Annotations)
			}
		})
	}
}

func TestCondition(t *testing.T) {
	tests := []struct {
		name   string
		in     outcome
		status metav1.ConditionStatus
		reason string
	}{
		{"ready", outcome{pools: 2}, metav1.ConditionTrue, "AsExpected"},
		{"no pools", outcome{}, metav1.ConditionTrue, "AsExpected"},
		{"pools unreadable", outcome{poolsErr: errFake}, metav1.ConditionUnknown, "NodePoolsUnavailable"},
		{"write failed", outcome{writeErr: errFake}, metav1.ConditionUnknown, "SecretWriteFailed"},
		{"conflict", outcome{conflict: true}, metav1.ConditionUnknown, "WriteConflict"},
	}
	for _, tt := range tests {
		c := tt.in.condition(2)
		if c.Type != "IgnitionTokensReady" || c.Status != tt.status || c.Reason != tt.reason || c.Message == "" || c.ObservedGeneration != 2 {
			t.Errorf("%s: condition() = %+v", tt.name, c)
		}
	}
}

var errFake = errorString("forbidden")

type errorString string

func (e errorString) Error() string { return string(e) }
