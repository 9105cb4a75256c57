package ignition

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps a token bucket per client IP. Buckets unused for idleAfter
// are dropped, so a scan from many addresses cannot grow it without bound.
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	now     func() time.Time
	clients map[string]*client
	swept   time.Time
}

type client struct {
	l    *rate.Limiter
	seen time.Time
}

const idleAfter = 10 * time.Minute

func newLimiter(r float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate.Limit(r), burst: burst, now: now, clients: map[string]*client{}}
}

// allow takes one token from ip's bucket.
func (l *limiter) allow(ip string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleAfter {
		for k, c := range l.clients {
			if now.Sub(c.seen) > idleAfter {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c, ok := l.clients[ip]
	if !ok {
		c = &client{l: rate.NewLimiter(l.rate, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c.l.AllowN(now, 1)
}
