package registry

import (
	"errors"
	"net"
	"sync"
	"testing"
)

// Unreachable returns a loopback host:port that must never be contacted,
// for use as the source registry of a mirrored image. Any connection to it
// is accepted and closed at once, so a client sees a failure, and the test
// fails at cleanup with the number of attempts. Counting at the listener
// proves more than an unresolvable name would: a client that tried the
// source and gave up quietly still gets caught.
func Unreachable(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for the unreachable source: %v", err)
	}
	var (
		mu       sync.Mutex
		attempts int
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			mu.Lock()
			attempts++
			mu.Unlock()
			_ = conn.Close()
		}
	}()
	addr := ln.Addr().String()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if attempts > 0 {
			t.Errorf("source %s must never be contacted, got %d connection(s)", addr, attempts)
		}
	})
	return addr
}
