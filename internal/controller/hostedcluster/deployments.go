package hostedcluster

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The deployments hcpmirror owns in every hosted control plane namespace.
// Both run the operator's own image (`hcpmirror render --image`), as
// subcommands of the same binary.
const (
	ControlPlaneOperatorName = "control-plane-operator"
	IgnitionServerName       = "ignition-server"

	// ManagedByLabel marks objects hcpmirror created and fully manages.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "hcpmirror"

	// Binary is the image's executable; the kubelet runs command ++ args.
	Binary = "hcpmirror"

	registriesMountPath = "/var/run/configmaps/registries"
	registriesVolume    = "registries"

	// ServingCertMountPath is where the ignition server finds its
	// certificate (tls.crt, tls.key): its --cert-file and --key-file defaults.
	ServingCertMountPath = "/var/run/secrets/ignition/serving-cert"
	servingCertVolume    = "serving-cert"
	// ServingCertSecret is the Secret the control-plane-operator keeps it in.
	ServingCertSecret = "ignition-server-serving-cert"

	// TrustBundleConfigMap is the copy of the HostedCluster's
	// additionalTrustBundle in the hosted control plane namespace, named as
	// HyperShift names it; TrustBundleKey holds the PEM certificates.
	TrustBundleConfigMap = "user-ca-bundle"
	TrustBundleKey       = "ca-bundle.crt"
	trustBundleMountPath = "/var/run/configmaps/trust-bundle"
	trustBundleVolume    = "trust-bundle"

	// IgnitionServerPort is the ignition server's HTTPS port in the pod; the
	// Service exposes it on 443.
	IgnitionServerPort = 9090
	metricsPort        = 8080
	probePort          = 8081
)

// ownedDeployment describes one deployment hcpmirror owns.
type ownedDeployment struct {
	name           string
	serviceAccount string
	image          string
	args           []string
	env            []corev1.EnvVar
	ports          []corev1.ContainerPort
	probePort      string // the port name of /healthz and /readyz
	mounts         []corev1.VolumeMount
	volumes        []corev1.Volume
}

// componentInput is what the owned deployments are written from.
type componentInput struct {
	image             string // the operator's own image
	nodePoolNamespace string // the HostedCluster's namespace
	trustBundle       bool   // an additionalTrustBundle was copied in
	carriers          Carriers
}

// desiredOwned returns the owned deployments for a hosted control plane:
// the subcommands with their flags, HyperShift's override carriers
// (OPENSHIFT_IMG_OVERRIDES and --registry-overrides, read at start), and
// the registries ConfigMap mounted (the lossless, live form). The
// additionalTrustBundle, when there is one, is trusted for every registry.
func desiredOwned(in componentInput) []ownedDeployment {
	env := []corev1.EnvVar{
		{Name: EnvName, Value: in.carriers.Env},
		{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
	}
	mounts := []corev1.VolumeMount{{Name: registriesVolume, MountPath: registriesMountPath, ReadOnly: true}}
	volumes := []corev1.Volume{configMapVolume(registriesVolume, RegistriesConfigMap)}
	var trust []string
	if in.trustBundle {
		mounts = append(mounts, corev1.VolumeMount{Name: trustBundleVolume, MountPath: trustBundleMountPath, ReadOnly: true})
		volumes = append(volumes, configMapVolume(trustBundleVolume, TrustBundleConfigMap))
		trust = []string{"--ca-file=" + trustBundleMountPath + "/" + TrustBundleKey}
	}
	cpo := ownedDeployment{
		name:           ControlPlaneOperatorName,
		serviceAccount: ControlPlaneOperatorName,
		image:          in.image,
		args: append([]string{ControlPlaneOperatorName,
			FlagName + "=" + in.carriers.Flag,
			"--nodepool-namespace=" + in.nodePoolNamespace,
			"--image=" + in.image,
			"--leader-elect",
			"--metrics-bind-address=:8080",
			"--health-probe-bind-address=:8081",
		}, trust...),
		env:       env,
		ports:     []corev1.ContainerPort{{Name: "metrics", ContainerPort: metricsPort}, {Name: "probes", ContainerPort: probePort}},
		probePort: "probes",
		mounts:    mounts,
		volumes:   volumes,
	}
	ign := ownedDeployment{
		name:           IgnitionServerName,
		serviceAccount: IgnitionServerName,
		image:          in.image,
		args: append([]string{IgnitionServerName,
			"--listen=:9090",
			"--metrics-addr=:8080",
			FlagName + "=" + in.carriers.Flag,
		}, trust...),
		env:       env,
		ports:     []corev1.ContainerPort{{Name: "https", ContainerPort: IgnitionServerPort}, {Name: "metrics", ContainerPort: metricsPort}},
		probePort: "metrics",
		mounts:    append([]corev1.VolumeMount{{Name: servingCertVolume, MountPath: ServingCertMountPath, ReadOnly: true}}, mounts...),
		volumes: append([]corev1.Volume{{Name: servingCertVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: ServingCertSecret, DefaultMode: ptr.To[int32](0o640)}}}}, volumes...),
	}
	return []ownedDeployment{cpo, ign}
}

func configMapVolume(name, configMap string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
		DefaultMode:          ptr.To[int32](0o644),
	}}}
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
	tpl.Spec.ServiceAccountName = o.serviceAccount
	tpl.Spec.AutomountServiceAccountToken = ptr.To(true)
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
	ct.Command = []string{Binary}
	ct.Args = o.args
	ct.Env = o.env
	ct.VolumeMounts = o.mounts
	if !samePorts(ct.Ports, o.ports) {
		ct.Ports = o.ports
	}
	if ct.ReadinessProbe == nil || ct.ReadinessProbe.HTTPGet == nil || ct.ReadinessProbe.HTTPGet.Port.StrVal != o.probePort {
		ct.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString(o.probePort)}}}
		ct.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString(o.probePort)}}}
	}
	ct.SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	// Volumes we do not declare (any more) go: a stale mount would keep a
	// pod from starting.
	ours := map[string]bool{registriesVolume: true, servingCertVolume: true, trustBundleVolume: true}
	kept := tpl.Spec.Volumes[:0]
	for _, v := range tpl.Spec.Volumes {
		if !ours[v.Name] {
			kept = append(kept, v)
		}
	}
	tpl.Spec.Volumes = kept
	for _, want := range o.volumes {
		tpl.Spec.Volumes = append(tpl.Spec.Volumes, want)
	}
}

// samePorts compares what we set of container ports (the server defaults
// the protocol).
func samePorts(a, b []corev1.ContainerPort) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].ContainerPort != b[i].ContainerPort {
			return false
		}
	}
	return true
}
