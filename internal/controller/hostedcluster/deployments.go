package hostedcluster

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The deployments hcpmirror owns in every hosted control plane namespace.
const (
	ControlPlaneOperatorName = "control-plane-operator"
	IgnitionServerName       = "ignition-server"

	// ManagedByLabel marks objects hcpmirror created and fully manages.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "hcpmirror"

	registriesMountPath = "/etc/hcpmirror"
	registriesVolume    = "registries"
)

// ownedDeployment describes one deployment hcpmirror owns.
type ownedDeployment struct {
	name  string
	image string
	args  []string
	env   []corev1.EnvVar
}

// desiredOwned returns the owned deployments for a hosted control plane.
// Images stay canonical (source repository by digest): nodes of the
// management cluster apply the mirror sets themselves. The components read
// the registries ConfigMap live, so a set change needs no restart to reach
// them, but the flag and variable still change for HyperShift-built ones.
func desiredOwned(image, releaseImage string, c Carriers) []ownedDeployment {
	env := []corev1.EnvVar{{Name: EnvName, Value: c.Env}}
	return []ownedDeployment{
		{
			name:  ControlPlaneOperatorName,
			image: image,
			args:  []string{"run", FlagName + "=" + c.Flag, "--registries-conf=" + registriesMountPath + "/" + RegistriesConfKey},
			env:   append([]corev1.EnvVar{{Name: "RELEASE_IMAGE", Value: releaseImage}}, env...),
		},
		{
			name:  IgnitionServerName,
			image: image,
			args:  []string{"start", FlagName + "=" + c.Flag, "--registries-conf=" + registriesMountPath + "/" + RegistriesConfKey},
			env:   env,
		},
	}
}

// keepReleaseFields returns o with the image and RELEASE_IMAGE that d already
// runs, for when the release could not be read this time.
func keepReleaseFields(o ownedDeployment, d *appsv1.Deployment) ownedDeployment {
	for _, ct := range d.Spec.Template.Spec.Containers {
		if ct.Name != o.name {
			continue
		}
		o.image = ct.Image
		env := make([]corev1.EnvVar, len(o.env))
		copy(env, o.env)
		for i := range env {
			for _, cur := range ct.Env {
				if env[i].Name == "RELEASE_IMAGE" && cur.Name == "RELEASE_IMAGE" {
					env[i].Value = cur.Value
				}
			}
		}
		o.env = env
	}
	return o
}

// applyOwned sets the fields hcpmirror manages on d, leaving fields the API
// server defaults alone so that an unchanged desired state causes no write.
func applyOwned(d *appsv1.Deployment, o ownedDeployment) {
	labels := map[string]string{"app": o.name, ManagedByLabel: ManagedByValue}
	if d.Labels == nil {
		d.Labels = map[string]string{}
	}
	for k, v := range labels {
		d.Labels[k] = v
	}
	if d.Spec.Selector == nil { // immutable once set
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": o.name}}
	}
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = ptr.To[int32](1)
	}
	tpl := &d.Spec.Template
	if tpl.Labels == nil {
		tpl.Labels = map[string]string{}
	}
	for k, v := range labels {
		tpl.Labels[k] = v
	}
	var ct *corev1.Container
	for i := range tpl.Spec.Containers {
		if tpl.Spec.Containers[i].Name == o.name {
			ct = &tpl.Spec.Containers[i]
		}
	}
	if ct == nil {
		tpl.Spec.Containers = append(tpl.Spec.Containers, corev1.Container{Name: o.name})
		ct = &tpl.Spec.Containers[len(tpl.Spec.Containers)-1]
	}
	ct.Image = o.image
	ct.Args = o.args
	ct.Env = o.env
	ct.VolumeMounts = []corev1.VolumeMount{{Name: registriesVolume, MountPath: registriesMountPath, ReadOnly: true}}
	vol := corev1.Volume{Name: registriesVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: RegistriesConfigMap},
		DefaultMode:          ptr.To[int32](0o644),
	}}}
	found := false
	for i := range tpl.Spec.Volumes {
		if tpl.Spec.Volumes[i].Name == registriesVolume {
			tpl.Spec.Volumes[i].VolumeSource = vol.VolumeSource
			found = true
		}
	}
	if !found {
		tpl.Spec.Volumes = append(tpl.Spec.Volumes, vol)
	}
}
