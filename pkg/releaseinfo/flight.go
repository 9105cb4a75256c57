package releaseinfo

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
)

// flightGroup collapses concurrent fetches of one key into one, like
// singleflight, and adds what a shared fetch needs on top:
//
//   - each caller waits only as long as its own context allows;
//   - the fetch runs on a context of its own (carrying the first caller's
//     values but not its cancellation), so one impatient caller cannot fail
//     the others;
//   - when every caller has gone, the fetch is cancelled rather than left
//     running for nobody.
type flightGroup struct {
	g singleflight.Group

	mu    sync.Mutex
	calls map[string]*flight

	running atomic.Int64 // fetches in progress, for tests
}

// flight is the context shared by the callers of one key and how many of
// them are still waiting.
type flight struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int
}

// flightResult carries whether the fetch failed because its shared context
// was cancelled (every caller had left), which a newly arrived caller must
// not take as its own failure.
type flightResult struct {
	val     any
	aborted bool
}

// do runs fn once for all concurrent callers of key and returns its result,
// or ctx's error as soon as ctx is done.
func (fg *flightGroup) do(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	for {
		f := fg.join(ctx, key)
		ch := fg.g.DoChan(key, func() (any, error) {
			fg.running.Add(1)
			defer fg.running.Add(-1)
			v, err := fn(f.ctx)
			return flightResult{val: v, aborted: err != nil && f.ctx.Err() != nil}, err
		})
		select {
		case res := <-ch:
			fg.leave(key, f)
			r, _ := res.Val.(flightResult)
			if r.aborted && ctx.Err() == nil {
				// We joined a fetch whose callers had all left just
				// before; it was cancelled for them, not for us.
				continue
			}
			return r.val, res.Err
		case <-ctx.Done():
			fg.leave(key, f)
			return nil, ctx.Err()
		}
	}
}

// join registers a waiter on key's flight context, creating it if needed.
func (fg *flightGroup) join(ctx context.Context, key string) *flight {
	fg.mu.Lock()
	defer fg.mu.Unlock()
	if fg.calls == nil {
		fg.calls = map[string]*flight{}
	}
	f := fg.calls[key]
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{ctx: fctx, cancel: cancel}
		fg.calls[key] = f
	}
	f.waiters++
	return f
}

// leave unregisters a waiter; the last one cancels the shared context,
// which ends a fetch still in progress and frees its resources otherwise.
func (fg *flightGroup) leave(key string, f *flight) {
	fg.mu.Lock()
	defer fg.mu.Unlock()
	f.waiters--
	if f.waiters == 0 {
		f.cancel()
		if fg.calls[key] == f {
			delete(fg.calls, key)
		}
	}
}

// waiting is the number of callers waiting on key, for tests.
func (fg *flightGroup) waiting(key string) int {
	fg.mu.Lock()
	defer fg.mu.Unlock()
	if f := fg.calls[key]; f != nil {
		return f.waiters
	}
	return 0
}
