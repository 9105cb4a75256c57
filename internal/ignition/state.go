package ignition

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// tokenEntry is what a token grants: the Secret it was read from.
type tokenEntry struct {
	secret *corev1.Secret
	// expires is zero for the current token, the previous token's expiry
	// otherwise.
	expires time.Time
}

// tokens indexes the token Secrets by the SHA-256 of each accepted token,
// so a lookup is a map access on a fixed-length key, and no token is kept
// in a form that could be logged by accident.
type tokens struct {
	mu    sync.RWMutex
	bySum map[[32]byte]tokenEntry
}

// rebuild replaces the index with the tokens of secrets.
func (t *tokens) rebuild(secrets []*corev1.Secret) {
	idx := make(map[[32]byte]tokenEntry, len(secrets))
	for _, s := range secrets {
		if tok := s.Data[TokenKey]; len(tok) > 0 {
			idx[sha256.Sum256(tok)] = tokenEntry{secret: s}
		}
		prev := s.Data[PreviousTokenKey]
		exp, err := time.Parse(time.RFC3339, s.Annotations[PreviousTokenExpiresAnnotation])
		if len(prev) > 0 && err == nil {
			sum := sha256.Sum256(prev)
			if _, current := idx[sum]; !current {
				idx[sum] = tokenEntry{secret: s, expires: exp}
			}
		}
	}
	t.mu.Lock()
	t.bySum = idx
	t.mu.Unlock()
}

// lookup returns the Secret token belongs to, if it is accepted at now.
func (t *tokens) lookup(token string, now time.Time) (*corev1.Secret, bool) {
	if token == "" {
		return nil, false
	}
	sum := sha256.Sum256([]byte(token))
	t.mu.RLock()
	e, ok := t.bySum[sum]
	t.mu.RUnlock()
	if !ok {
		return nil, false
	}
	// The map matched on the hash; compare the stored bytes too, in
	// constant time, so a hash collision alone can never authenticate.
	want := e.secret.Data[TokenKey]
	if !e.expires.IsZero() {
		if !now.Before(e.expires) {
			return nil, false
		}
		want = e.secret.Data[PreviousTokenKey]
	}
	if subtle.ConstantTimeCompare(want, []byte(token)) != 1 {
		return nil, false
	}
	return e.secret, true
}

// hostedControlPlane converts an informer object to the typed HCP.
func hostedControlPlane(obj any) (*hypershiftv1beta1.HostedControlPlane, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("unexpected %T in the HostedControlPlane informer", obj)
	}
	var hcp hypershiftv1beta1.HostedControlPlane
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &hcp); err != nil {
		return nil, fmt.Errorf("HostedControlPlane %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return &hcp, nil
}

// errNoHCP is reported while the namespace has no HostedControlPlane.
var errNoHCP = errors.New("no HostedControlPlane in the namespace")

// pickHCP returns the namespace's HostedControlPlane: HyperShift keeps one
// per namespace; of several, the first by name is used, so the choice is
// stable.
func pickHCP(objs []any) (*hypershiftv1beta1.HostedControlPlane, error) {
	var list []*hypershiftv1beta1.HostedControlPlane
	for _, o := range objs {
		h, err := hostedControlPlane(o)
		if err != nil {
			return nil, err
		}
		list = append(list, h)
	}
	if len(list) == 0 {
		return nil, errNoHCP
	}
	slices.SortFunc(list, func(a, b *hypershiftv1beta1.HostedControlPlane) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return list[0], nil
}

// nodeRegistriesConf renders the node registries.conf from the hosted
// control plane's imageContentSources with the one renderer nodes' mirror
// configuration has (pkg/mirrorset, as the machine-config-operator renders
// it): digest mirrors, the source as fallback.
func nodeRegistriesConf(hcp *hypershiftv1beta1.HostedControlPlane) ([]byte, error) {
	set := mirrorset.Set{Kind: mirrorset.KindImageContentSources, Name: hcp.Namespace + "/" + hcp.Name}
	for _, e := range hcp.Spec.ImageContentSources {
		set.Entries = append(set.Entries, mirrorset.Entry{Source: e.Source, Mirrors: slices.Clone(e.Mirrors)})
	}
	sets := []mirrorset.Set{set}
	if err := mirrorset.Validate(sets); err != nil {
		return nil, fmt.Errorf("HostedControlPlane %s: spec.imageContentSources: %w", set.Name, err)
	}
	cfg, err := mirrorset.Compile(sets)
	if err != nil {
		return nil, fmt.Errorf("HostedControlPlane %s: spec.imageContentSources: %w", set.Name, err)
	}
	return cfg.RegistriesConf(), nil
}
