package releaseinfo

import (
	"container/list"
	"sync"
	"time"
)

// lru is a size-bounded, least-recently-used map whose entries may expire.
// It is safe for concurrent use. A zero expiry never expires.
type lru[V any] struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front = most recently used; values are *lruEntry[V]
	entries map[string]*list.Element
	onEvict func(V)
}

type lruEntry[V any] struct {
	key     string
	val     V
	expires time.Time
}

// newLRU returns a cache holding at most max entries; max < 1 holds none.
// onEvict, when set, is called (outside the lock) for entries pushed out by
// size or purged; not for replaced values or for expired ones found on
// lookup, which are simply dropped.
func newLRU[V any](max int, onEvict func(V)) *lru[V] {
	return &lru[V]{max: max, order: list.New(), entries: map[string]*list.Element{}, onEvict: onEvict}
}

// get returns the value for key unless it is absent or expired at now.
func (c *lru[V]) get(key string, now time.Time) (V, bool) {
	var zero V
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*lruEntry[V])
	if !e.expires.IsZero() && !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.entries, key)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.val, true
}

// add stores val under key until expires (zero: no expiry), evicting the
// least recently used entries beyond the bound.
func (c *lru[V]) add(key string, val V, expires time.Time) {
	if c.max < 1 {
		return
	}
	var evicted []V
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*lruEntry[V])
		e.val, e.expires = val, expires
		c.order.MoveToFront(el)
	} else {
		c.entries[key] = c.order.PushFront(&lruEntry[V]{key: key, val: val, expires: expires})
	}
	for c.order.Len() > c.max {
		el := c.order.Back()
		e := el.Value.(*lruEntry[V])
		c.order.Remove(el)
		delete(c.entries, e.key)
		evicted = append(evicted, e.val)
	}
	c.mu.Unlock()
	if c.onEvict != nil {
		for _, v := range evicted {
			c.onEvict(v)
		}
	}
}

// len is the number of entries, expired ones included until looked up.
func (c *lru[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// purge removes every entry.
func (c *lru[V]) purge() {
	c.mu.Lock()
	var evicted []V
	for el := c.order.Front(); el != nil; el = el.Next() {
		evicted = append(evicted, el.Value.(*lruEntry[V]).val)
	}
	c.order.Init()
	c.entries = map[string]*list.Element{}
	c.mu.Unlock()
	if c.onEvict != nil {
		for _, v := range evicted {
			c.onEvict(v)
		}
	}
}
