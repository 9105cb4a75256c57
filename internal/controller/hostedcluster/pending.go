package hostedcluster

import (
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pendingMaxAge bounds how long a write of ours is assumed to be on its way
// to the cache; past it the cache is trusted again whatever it shows.
const pendingMaxAge = 30 * time.Second

// pendingWrites remembers, per object, the version each of our writes
// started from until the cache shows a newer one. Every write is echoed by
// a watch event that reconciles the HostedCluster again; that reconcile may
// run before the cache has the other writes of the first, and would send
// them again (no-ops, or conflicts for the optimistically locked patches).
// An object the cache still shows at the version we wrote over is skipped
// instead: its own event reconciles once the cache has it.
type pendingWrites struct {
	mu      sync.Mutex
	entries map[string]pendingWrite
}

type pendingWrite struct {
	from string // resourceVersion our write started from
	at   time.Time
}

func pendingKey(kind string, obj client.Object) string {
	return kind + "/" + obj.GetNamespace() + "/" + obj.GetName()
}

// behind reports whether obj, as the cache shows it, is still the version
// an earlier write of ours started from. Any other version ends the wait.
func (p *pendingWrites) behind(kind string, obj client.Object, now time.Time) bool {
	key := pendingKey(kind, obj)
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.entries[key]
	if !ok {
		return false
	}
	if w.from == obj.GetResourceVersion() && now.Sub(w.at) < pendingMaxAge {
		return true
	}
	delete(p.entries, key)
	return false
}

// wrote records a write of obj that started from version from.
func (p *pendingWrites) wrote(kind string, obj client.Object, from string, now time.Time) {
	if from == "" || from == obj.GetResourceVersion() {
		return // a create, or the server changed nothing
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil {
		p.entries = map[string]pendingWrite{}
	}
	p.entries[pendingKey(kind, obj)] = pendingWrite{from: from, at: now}
}
