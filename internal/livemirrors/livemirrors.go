// Package livemirrors is the mirror configuration a control-plane component
// pulls images through, live: the hcpmirror-registries ConfigMap of its
// hosted control plane namespace, which the management operator keeps
// current from the mirror sets (the lossless form of the overrides), and
// while that ConfigMap is absent, the overrides the component was started
// with (OPENSHIFT_IMG_OVERRIDES and --registry-overrides, HyperShift's
// carriers). The ignition server and the catalog server both read their
// images through it.
//
// Only a change of the ConfigMap (its resourceVersion, or its appearing or
// going) installs a new configuration, and each installation has a new
// generation, so a cache of what was built through the previous one can
// tell it is stale. A ConfigMap that does not parse installs its error:
// pulls are refused until it is fixed, rather than silently made through
// the environment's (possibly older) overrides.
package livemirrors

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/overrides"
)

// Mirrors is the live configuration. Build it with New; feed it the
// ConfigMap with Refresh (from an informer of one's own) or let Watch do
// it.
type Mirrors struct {
	fallback *mirrorset.Config
	log      logr.Logger

	// refreshMu is held from reading the ConfigMap to installing it, so
	// two refreshes racing cannot install the older one last.
	refreshMu sync.Mutex
	rv        string // of the ConfigMap installed; "" while absent
	installed bool

	mu         sync.RWMutex
	cfg        *mirrorset.Config
	err        error
	generation uint64
}

// New compiles the environment's overrides (OPENSHIFT_IMG_OVERRIDES's value
// and the --registry-overrides values), the configuration used while the
// ConfigMap is absent. Nothing is installed until the first Refresh.
func New(envOverrides string, flagOverrides []string, log logr.Logger) (*Mirrors, error) {
	flag, err := overrides.DecodeFlag(flagOverrides...)
	if err != nil {
		return nil, fmt.Errorf("--registry-overrides: %w", err)
	}
	fallback, err := overrides.ToConfig(overrides.DecodeEnv(envOverrides), flag)
	if err != nil {
		return nil, fmt.Errorf("%s and --registry-overrides: %w", hostedcluster.EnvName, err)
	}
	return &Mirrors{fallback: fallback, log: log}, nil
}

// Get returns the configuration installed, its generation, and the error
// that replaces it while the ConfigMap does not parse. Before the first
// Refresh it is nil, 0, nil.
func (m *Mirrors) Get() (*mirrorset.Config, uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cfg, m.generation, m.err
}

// Refresh reads the ConfigMap with get (nil: absent) and installs it when
// it changed, reporting whether it did.
func (m *Mirrors) Refresh(get func() *corev1.ConfigMap) bool {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	cm := get()
	rv := ""
	if cm != nil {
		rv = cm.ResourceVersion
	}
	if m.installed && m.rv == rv {
		return false
	}
	m.rv, m.installed = rv, true
	var cfg *mirrorset.Config
	var err error
	if cm == nil {
		cfg = m.fallback
		m.log.Info("overrides from the environment", "configMap", hostedcluster.RegistriesConfigMap, "reason", "absent")
	} else if cfg, err = Parse(cm); err != nil {
		m.log.Error(err, "the overrides ConfigMap does not parse; pulls are refused until it is fixed")
	} else {
		m.log.Info("overrides from the ConfigMap", "configMap", hostedcluster.RegistriesConfigMap, "resourceVersion", rv, "registries", cfg.Len())
	}
	m.mu.Lock()
	m.cfg, m.err = cfg, err
	m.generation++
	m.mu.Unlock()
	return true
}

// Parse reads an hcpmirror-registries ConfigMap.
func Parse(cm *corev1.ConfigMap) (*mirrorset.Config, error) {
	data, ok := cm.Data[hostedcluster.RegistriesConfKey]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s/%s has no key %q", cm.Namespace, cm.Name, hostedcluster.RegistriesConfKey)
	}
	cfg, _, err := mirrorset.ParseRegistriesConf([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s key %s: %w", cm.Namespace, cm.Name, hostedcluster.RegistriesConfKey, err)
	}
	return cfg, nil
}

// Watch keeps the configuration current from the hcpmirror-registries
// ConfigMap of namespace, watched by name (a field selector, so a Role
// that names the ConfigMap suffices: list and watch with resourceNames).
// It returns once the first state is installed; the watch ends with ctx.
func (m *Mirrors) Watch(ctx context.Context, kube kubernetes.Interface, namespace string) error {
	f := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", hostedcluster.RegistriesConfigMap).String()
		}))
	inf := f.Core().V1().ConfigMaps()
	lister := inf.Lister().ConfigMaps(namespace)
	refresh := func() {
		m.Refresh(func() *corev1.ConfigMap {
			cm, err := lister.Get(hostedcluster.RegistriesConfigMap)
			if err != nil {
				return nil
			}
			return cm
		})
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { refresh() },
		UpdateFunc: func(any, any) { refresh() },
		DeleteFunc: func(any) { refresh() },
	}); err != nil {
		return err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return fmt.Errorf("watching ConfigMap %s/%s: %w", namespace, hostedcluster.RegistriesConfigMap, context.Cause(ctx))
	}
	refresh()
	return nil
}
