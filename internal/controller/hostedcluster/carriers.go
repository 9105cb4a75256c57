package hostedcluster

import (
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

// Names of what carries overrides into a hosted control plane namespace
// (docs/semantics.md §7.1).
const (
	// FlagName is the argument HyperShift components take.
	FlagName = "--registry-overrides"
	// EnvName is the variable the control-plane-operator and ignition server read.
	EnvName = "OPENSHIFT_IMG_OVERRIDES"
	// RegistriesConfigMap holds the lossless form: the rendered registries.conf.
	RegistriesConfigMap = "hcpmirror-registries"
	// RegistriesConfKey is the ConfigMap key of registries.conf.
	RegistriesConfKey = "registries.conf"
)

// Carriers is what the current mirror sets mean, in each form a component reads.
type Carriers struct {
	// Flag is the --registry-overrides value: per source its first mirror,
	// overlaid by the operator's static overrides.
	Flag string
	// Env is the OPENSHIFT_IMG_OVERRIDES value: every mirror in try order.
	Env string
	// RegistriesConf is the rendered registries.conf, the only form that
	// keeps NeverContactSource and digest-versus-tag.
	RegistriesConf string
}

// NewCarriers encodes cfg (and the operator's static overrides) into the
// three carriers.
func NewCarriers(cfg *mirrorset.Config, static map[string]string) (Carriers, error) {
	env, flag := overrides.FromConfig(cfg)
	maps.Copy(flag, static) // the operator's own overrides win over the sets
	flagValue, err := overrides.EncodeFlag(flag)
	if err != nil {
		return Carriers{}, err
	}
	envValue, err := overrides.EncodeEnv(env)
	if err != nil {
		return Carriers{}, err
	}
	return Carriers{Flag: flagValue, Env: envValue, RegistriesConf: string(cfg.RegistriesConf())}, nil
}

// UpdateForeign rewrites the carriers in a Deployment hcpmirror does not own,
// touching only what is already there: a --registry-overrides argument (in
// args or command, in either the "--flag=value" or the "--flag value" form,
// kept as found) and an OPENSHIFT_IMG_OVERRIDES variable. Adding the flag to
// a process that does not declare it would crash it, so nothing is added.
// It reports whether anything changed, so unchanged Deployments are not
// written (no rollout churn).
func UpdateForeign(d *appsv1.Deployment, c Carriers) bool {
	changed := false
	spec := &d.Spec.Template.Spec
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			ct := &list[i]
			if setFlag(ct.Args, c.Flag) {
				changed = true
			}
			if setFlag(ct.Command, c.Flag) {
				changed = true
			}
			// The kubelet runs command ++ args: the flag may end command
			// with its value first in args.
			if n := len(ct.Command); n > 0 && ct.Command[n-1] == FlagName && len(ct.Args) > 0 && ct.Args[0] != c.Flag {
				ct.Args[0] = c.Flag
				changed = true
			}
			for j := range ct.Env {
				if ct.Env[j].Name == EnvName && ct.Env[j].ValueFrom == nil && ct.Env[j].Value != c.Env {
					ct.Env[j].Value = c.Env
					changed = true
				}
			}
		}
	}
	return changed
}

// setFlag sets every occurrence of the flag in args to value, in place.
func setFlag(args []string, value string) bool {
	changed := false
	for i := 0; i < len(args); i++ {
		switch {
		case strings.HasPrefix(args[i], FlagName+"="):
			if args[i] != FlagName+"="+value {
				args[i] = FlagName + "=" + value
				changed = true
			}
		case args[i] == FlagName && i+1 < len(args):
			if args[i+1] != value {
				args[i+1] = value
				changed = true
			}
			i++
		}
	}
	return changed
}

// ContainerCarriers is what one container carries, as found.
type ContainerCarriers struct {
	Container string
	Init      bool
	// Flag and Env are nil when the container does not carry them.
	Flag *string
	Env  *string
}

// FindCarriers lists, per container, the override values a Deployment carries.
func FindCarriers(d *appsv1.Deployment) []ContainerCarriers {
	var out []ContainerCarriers
	spec := &d.Spec.Template.Spec
	for _, group := range []struct {
		list []corev1.Container
		init bool
	}{{spec.InitContainers, true}, {spec.Containers, false}} {
		for _, ct := range group.list {
			cc := ContainerCarriers{Container: ct.Name, Init: group.init}
			if v, ok := flagValue(append(append([]string(nil), ct.Command...), ct.Args...)); ok {
				cc.Flag = &v
			}
			for _, e := range ct.Env {
				if e.Name == EnvName && e.ValueFrom == nil {
					v := e.Value
					cc.Env = &v
				}
			}
			if cc.Flag != nil || cc.Env != nil {
				out = append(out, cc)
			}
		}
	}
	return out
}

func flagValue(args []string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, FlagName+"="); ok {
			return v, true
		}
		if a == FlagName && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}
