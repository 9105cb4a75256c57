package hostedcluster

import (
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

// CarrierState compares one carrier of one container with what the current
// mirror sets mean. Values are compared decoded, the way their readers see
// them, so a different but equivalent spelling is not drift.
type CarrierState struct {
	Deployment string `json:"deployment"`
	Container  string `json:"container"`
	Init       bool   `json:"init,omitempty"`
	// Carrier is "flag" (--registry-overrides) or "env" (OPENSHIFT_IMG_OVERRIDES).
	Carrier string `json:"carrier"`
	// Value is the raw value found.
	Value string `json:"value"`
	// Sources is how many sources the value decodes to.
	Sources int  `json:"sources"`
	InSync  bool `json:"inSync"`
	// Detail says what differs, for people.
	Detail string `json:"detail,omitempty"`
}

// Compare lists the carriers of a Deployment against the expected ones.
func Compare(expected Carriers, d *appsv1.Deployment) []CarrierState {
	wantFlag, _ := overrides.DecodeFlag(expected.Flag)
	wantEnv := overrides.DecodeEnv(expected.Env)
	var out []CarrierState
	for _, cc := range FindCarriers(d) {
		if cc.Flag != nil {
			s := CarrierState{Deployment: d.Name, Container: cc.Container, Init: cc.Init, Carrier: "flag", Value: *cc.Flag}
			got, err := overrides.DecodeFlag(*cc.Flag)
			switch {
			case err != nil:
				s.Detail = "cannot be decoded: " + err.Error()
			case maps.Equal(got, wantFlag):
				s.InSync, s.Sources = true, len(got)
			default:
				s.Sources = len(got)
				s.Detail = diffFlag(wantFlag, got)
			}
			out = append(out, s)
		}
		if cc.Env != nil {
			s := CarrierState{Deployment: d.Name, Container: cc.Container, Init: cc.Init, Carrier: "env", Value: *cc.Env}
			got := overrides.DecodeEnv(*cc.Env)
			s.Sources = len(got)
			if maps.EqualFunc(got, wantEnv, slices.Equal[[]string]) {
				s.InSync = true
			} else {
				s.Detail = diffEnv(wantEnv, got)
			}
			out = append(out, s)
		}
	}
	return out
}

func diffFlag(want, got map[string]string) string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("missing %s=%s", k, want[k]))
		} else if g != want[k] {
			d = append(d, fmt.Sprintf("%s: has %s, want %s", k, g, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("stale %s=%s", k, got[k]))
		}
	}
	return fmt.Sprint(d)
}

func diffEnv(want, got overrides.Env) string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("missing %s=%v", k, want[k]))
		} else if !slices.Equal(g, want[k]) {
			d = append(d, fmt.Sprintf("%s: has %v, want %v", k, g, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("stale %s=%v", k, got[k]))
		}
	}
	return fmt.Sprint(d)
}
