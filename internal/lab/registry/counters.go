package registry

import (
	"maps"
	"net"
	"net/http"
	"sync"
)

// counters records what reached a registry. Tests read it to prove where
// traffic went (a mirror) and where it did not (a source).
type counters struct {
	mu          sync.Mutex
	connections int
	byPath      map[string]int
	byHost      map[string]int
	total       int
}

func newCounters() *counters {
	return &counters{byPath: map[string]int{}, byHost: map[string]int{}}
}

func (c *counters) request(r *http.Request) {
	c.mu.Lock()
	c.total++
	c.byPath[r.URL.Path]++
	c.byHost[r.Host]++
	c.mu.Unlock()
}

func (c *counters) connection() {
	c.mu.Lock()
	c.connections++
	c.mu.Unlock()
}

// wrap counts every request before any fault sees it, so injected failures
// are counted too.
func (c *counters) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.request(r)
		next.ServeHTTP(w, r)
	})
}

func (c *counters) snapshot() (conns, total int, byPath, byHost map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connections, c.total, maps.Clone(c.byPath), maps.Clone(c.byHost)
}

// countingListener counts accepted TCP connections, below TLS, so a
// connection whose handshake fails still counts.
type countingListener struct {
	net.Listener
	c *counters
}

func (l countingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.c.connection()
	}
	return conn, err
}
