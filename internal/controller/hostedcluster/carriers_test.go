package hostedcluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func deployment(init, containers []corev1.Container) *appsv1.Deployment {
	return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{InitContainers: init, Containers: containers}}}}
}

func TestUpdateForeign(t *testing.T) {
	c := Carriers{Flag: "quay.io/a=m.example.com", Env: "quay.io/a=m.example.com,quay.io/a=n.example.com"}
	secretRef := &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}
	tests := []struct {
		name        string
		in, want    *appsv1.Deployment
		wantChanged bool
	}{
		{
			name:        "equals form in args",
			in:          deployment(nil, []corev1.Container{{Name: "a", Args: []string{"run", "--registry-overrides=old=x", "-v"}}}),
			want:        deployment(nil, []corev1.Container{{Name: "a", Args: []string{"run", "--registry-overrides=quay.io/a=m.example.com", "-v"}}}),
			wantChanged: true,
		},
		{
			name:        "two-argument form in command, init container",
			in:          deployment([]corev1.Container{{Name: "i", Command: []string{"/bin/x", "--registry-overrides", "old=x"}}}, nil),
			want:        deployment([]corev1.Container{{Name: "i", Command: []string{"/bin/x", "--registry-overrides", "quay.io/a=m.example.com"}}}, nil),
			wantChanged: true,
		},
		{
			name:        "variable updated, valueFrom left alone",
			in:          deployment(nil, []corev1.Container{{Name: "a", Env: []corev1.EnvVar{{Name: EnvName, Value: "old"}, {Name: "X", Value: "y"}}}, {Name: "b", Env: []corev1.EnvVar{{Name: EnvName, ValueFrom: secretRef}}}}),
			want:        deployment(nil, []corev1.Container{{Name: "a", Env: []corev1.EnvVar{{Name: EnvName, Value: c.Env}, {Name: "X", Value: "y"}}}, {Name: "b", Env: []corev1.EnvVar{{Name: EnvName, ValueFrom: secretRef}}}}),
			wantChanged: true,
		},
		{
			name: "nothing added where nothing is carried",
			in:   deployment(nil, []corev1.Container{{Name: "a", Args: []string{"run"}}}),
			want: deployment(nil, []corev1.Container{{Name: "a", Args: []string{"run"}}}),
		},
		{
			name: "already in sync is not a change",
			in:   deployment(nil, []corev1.Container{{Name: "a", Args: []string{"--registry-overrides=" + c.Flag}, Env: []corev1.EnvVar{{Name: EnvName, Value: c.Env}}}}),
			want: deployment(nil, []corev1.Container{{Name: "a", Args: []string{"--registry-overrides=" + c.Flag}, Env: []corev1.EnvVar{{Name: EnvName, Value: c.Env}}}}),
		},
		{
			name:        "flag ending command, value first in args",
			in:          deployment(nil, []corev1.Container{{Name: "a", Command: []string{"/bin/x", "--registry-overrides"}, Args: []string{"old=x", "-v"}}}),
			want:        deployment(nil, []corev1.Container{{Name: "a", Command: []string{"/bin/x", "--registry-overrides"}, Args: []string{"quay.io/a=m.example.com", "-v"}}}),
			wantChanged: true,
		},
		{
			name: "dangling two-argument flag is left alone",
			in:   deployment(nil, []corev1.Container{{Name: "a", Args: []string{"--registry-overrides"}}}),
			want: deployment(nil, []corev1.Container{{Name: "a", Args: []string{"--registry-overrides"}}}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			if changed := UpdateForeign(got, c); changed != tt.wantChanged {
				t.Errorf("UpdateForeign() changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("UpdateForeign() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareDecodesBeforeComparing(t *testing.T) {
	want := Carriers{Flag: "a.io=m.io,b.io=n.io", Env: "a.io=m.io"}
	d := deployment(nil, []corev1.Container{{Name: "c",
		// Same map, other spelling: not drift.
		Args: []string{"--registry-overrides", "b.io=n.io,a.io=m.io"},
		Env:  []corev1.EnvVar{{Name: EnvName, Value: "a.io=m.io,a.io=x.io"}},
	}})
	got := Compare(want, d)
	if len(got) != 2 || !got[0].InSync || got[1].InSync || got[1].Detail != "[a.io: has [m.io x.io], want [m.io]]" {
		t.Errorf("Compare() = %+v", got)
	}
}
