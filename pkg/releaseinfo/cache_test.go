package releaseinfo

import (
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

func TestLRU(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evicted []int
	c := newLRU(2, func(v int) { evicted = append(evicted, v) })
	c.add("a", 1, time.Time{})
	c.add("b", 2, t0.Add(time.Minute))
	if _, ok := c.get("a", t0); !ok { // a is now the most recent
		t.Fatal("get(a) missed")
	}
	c.add("c", 3, time.Time{}) // evicts b, the least recently used
	if !slices.Equal(evicted, []int{2}) {
		t.Errorf("evicted %v, want [2]", evicted)
	}
	if _, ok := c.get("b", t0); ok {
		t.Error("get(b) hit after eviction")
	}
	c.add("c", 30, t0.Add(time.Second)) // replace: no eviction callback
	if v, ok := c.get("c", t0); !ok || v != 30 {
		t.Errorf("get(c) = %d, %v; want 30, true", v, ok)
	}
	if _, ok := c.get("c", t0.Add(time.Second)); ok {
		t.Error("get(c) hit at its expiry")
	}
	if v, ok := c.get("a", t0.Add(100*365*24*time.Hour)); !ok || v != 1 {
		t.Errorf("entry without expiry: get(a) = %d, %v; want 1, true", v, ok)
	}
	if n := c.len(); n != 1 {
		t.Errorf("len = %d, want 1", n)
	}
	c.purge()
	if n := c.len(); n != 0 || !slices.Equal(evicted, []int{2, 1}) {
		t.Errorf("after purge: len %d, evicted %v; want 0, [2 1]", n, evicted)
	}

	off := newLRU[int](0, nil)
	off.add("a", 1, time.Time{})
	if _, ok := off.get("a", t0); ok {
		t.Error("a cache of size 0 stored an entry")
	}
}

func TestNewOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"negative cache size": WithCacheSize(-1),
		"nil clock":           WithClock(nil),
		"nil client":          WithClient(nil),
		"platform without os": WithPlatform(v1.Platform{Architecture: "amd64"}),
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("New(%s) = nil error", name)
		}
	}
	if _, err := New(WithRegistryOptions(registry.WithCAFile("/nonexistent/ca.pem"))); err == nil {
		t.Error("New with a missing CA file = nil error, want the file reported before any lookup")
	}
}
