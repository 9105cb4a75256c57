package ignitionpki

import (
	"testing"
	"time"
)

// TestProblems covers every reason a certificate is renewed, at the times
// the controller asks.
func TestProblems(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ca, err := newCA("ns", t0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newCA("ns", t0)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := newServing(ca, "ns", t0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		problem string
	}{
		{"fresh CA", caProblem(ca, t0.Add(time.Hour))},
		{"fresh serving", servingProblem(serving, ca, "ns", t0.Add(time.Hour))},
	}
	for _, tt := range tests {
		if tt.problem != "" {
			t.Errorf("%s: problem %q, want none", tt.name, tt.problem)
		}
	}
	bad := []struct {
		name    string
		problem string
		want    string
	}{
		{"serving two-thirds through", servingProblem(serving, ca, "ns", t0.Add(ServingValidity*2/3+time.Hour)), "less than a third of its lifetime left"},
		{"serving expired", servingProblem(serving, ca, "ns", t0.Add(ServingValidity+time.Hour)), "expired"},
		{"serving of another CA", servingProblem(serving, other, "ns", t0.Add(time.Hour)), "not signed by the current CA"},
		{"serving of another namespace", servingProblem(serving, ca, "other", t0.Add(time.Hour)), "names differ from the Service's"},
		{"empty serving", servingProblem(keyPair{}, ca, "ns", t0), "unreadable: no PEM certificate"},
		{"mismatched key", caProblem(keyPair{cert: ca.cert, key: other.key}, t0), "unreadable: key does not match the certificate"},
		{"CA near its end", caProblem(ca, t0.Add(CAValidity*2/3+time.Hour)), "less than a third of its lifetime left"},
		{"serving cert as CA", caProblem(serving, t0.Add(time.Hour)), "not a CA"},
	}
	for _, tt := range bad {
		if tt.problem != tt.want {
			t.Errorf("%s: problem %q, want %q", tt.name, tt.problem, tt.want)
		}
	}
	at, err := renewAt(serving.cert)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(-time.Minute).Add((ServingValidity + time.Minute) * 2 / 3); at.Sub(want).Abs() > time.Second {
		t.Errorf("renewAt = %s, want %s", at, want)
	}
}
