package ignition

import "sync"

// payloadCache holds built payloads by key, at most max of them; when full,
// the oldest entry goes. Any overrides change purges it whole.
type payloadCache struct {
	mu    sync.Mutex
	max   int
	order []string
	byKey map[string][]byte
}

func (c *payloadCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.byKey[key]
	return b, ok
}

func (c *payloadCache) add(key string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = map[string][]byte{}
	}
	if _, ok := c.byKey[key]; ok {
		c.byKey[key] = b
		return
	}
	for len(c.order) >= c.max && len(c.order) > 0 {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	c.order = append(c.order, key)
	c.byKey[key] = b
}

func (c *payloadCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order, c.byKey = nil, nil
}

func (c *payloadCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}
