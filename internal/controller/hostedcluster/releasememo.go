package hostedcluster

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// releaseMemoTTL bounds how long a successful lookup is reused without
// reading the pull secret again: a secret that lost its credentials is
// noticed within it (at once when the HostedCluster is edited or
// annotated). It is the release provider's own trust in a tag's answer
// (releaseinfo.DefaultTagTTL).
const releaseMemoTTL = releaseinfo.DefaultTagTTL

// releaseMemo remembers each HostedCluster's last successful release lookup.
// One mirror-set edit reconciles every HostedCluster, and each reconcile's
// own writes reconcile it once more; without the memo each of those rounds
// reads the pull secret from the API server (pull secrets are not cached),
// although neither the HostedCluster nor where its release is pulled from
// changed. The provider's cache makes the registry side cheap already.
type releaseMemo struct {
	mu      sync.Mutex
	entries map[types.UID]memoEntry
}

type memoEntry struct {
	key     string
	release *Release
	at      time.Time
}

// memoKey is what a lookup's answer depends on: the HostedCluster's spec
// (its generation: release image, pull secret reference) and annotations
// (an edit there is how people ask for a fresh look, status churn is not),
// and the pull sources of its release image. "" when they cannot be
// computed.
func memoKey(hc *hypershiftv1beta1.HostedCluster, cfg *mirrorset.Config) string {
	res, err := cfg.Resolve(hc.Spec.Release.Image)
	if err != nil {
		return ""
	}
	// fmt prints maps sorted by key.
	return fmt.Sprintf("%d\x00%v\x00%s", hc.Generation, hc.Annotations, strings.Join(res.References(), "\x00"))
}

func (m *releaseMemo) get(uid types.UID, key string, now time.Time) *Release {
	if key == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[uid]
	if !ok || e.key != key || now.Sub(e.at) > releaseMemoTTL {
		return nil
	}
	return e.release
}

func (m *releaseMemo) put(uid types.UID, key string, rel *Release, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if key == "" || rel == nil {
		delete(m.entries, uid)
		return
	}
	if m.entries == nil {
		m.entries = map[types.UID]memoEntry{}
	}
	m.entries[uid] = memoEntry{key: key, release: rel, at: now}
}

func (m *releaseMemo) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, uid)
}
