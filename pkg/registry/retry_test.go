package registry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

func TestRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      testreg.Middleware
		retries    int
		wantErr    bool
		wantKind   Kind
		wantHits   int             // manifest requests the registry saw
		atLeast    bool            // wantHits is a minimum: net/http itself may replay a request on a reused connection
		wantSleeps []time.Duration // minimum per wait; nil: don't check
	}{
		{
			name:       "429 twice then success, Retry-After honoured",
			fault:      testreg.Respond(2, http.StatusTooManyRequests, http.Header{"Retry-After": {"2"}}),
			retries:    3,
			wantHits:   3,
			wantSleeps: []time.Duration{2 * time.Second, 2 * time.Second},
		},
		{
			name:       "503 once then success",
			fault:      testreg.Respond(1, http.StatusServiceUnavailable, nil),
			retries:    3,
			wantHits:   2,
			wantSleeps: []time.Duration{0},
		},
		{
			name:     "500 persists",
			fault:    testreg.Respond(-1, http.StatusInternalServerError, nil),
			retries:  2,
			wantErr:  true,
			wantKind: Server,
			wantHits: 3,
		},
		{
			name:     "429 without retries",
			fault:    testreg.Respond(-1, http.StatusTooManyRequests, nil),
			retries:  0,
			wantErr:  true,
			wantKind: RateLimited,
			wantHits: 1,
		},
		{
			name:       "Retry-After beyond the cap gives up at once",
			fault:      testreg.Respond(-1, http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}}),
			retries:    3,
			wantErr:    true,
			wantKind:   RateLimited,
			wantHits:   1,
			wantSleeps: []time.Duration{},
		},
		{
			name:     "404 is not retried",
			fault:    testreg.Respond(-1, http.StatusNotFound, nil),
			retries:  3,
			wantErr:  true,
			wantKind: NotFound,
			wantHits: 1,
		},
		{
			name:     "dropped connection is retried",
			fault:    testreg.DropConnections(1),
			retries:  3,
			wantHits: 2,
		},
		{
			name:     "dropped connection is retried on a fresh connection",
			fault:    testreg.DropConnections(2),
			retries:  3,
			wantHits: 3,
			atLeast:  true,
		},
		{
			name:     "dropped connections persist",
			fault:    testreg.DropConnections(-1),
			retries:  1,
			wantErr:  true,
			wantKind: Unreachable,
			wantHits: 2,
			atLeast:  true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mw := &testreg.Switch{}
			reg := testreg.Start(t, testreg.WithHandler(mw.Wrap))
			_, ref := newFixture(t, reg).image("a/b:1")
			mw.Set(testreg.When(testreg.ManifestRequests, tc.fault))
			clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			c := newClient(t, WithInsecureRegistry(reg.Addr), WithRetries(tc.retries, time.Millisecond, time.Minute), withClock(clk))
			path := "/v2/a/b/manifests/" + ref[strings.Index(ref, "@")+1:]
			before := reg.RequestsByPath()[path]

			_, err := c.Manifest(t.Context(), ref)
			switch {
			case tc.wantErr:
				if k, ok := kindOf(err); !ok || k != tc.wantKind {
					t.Fatalf("Manifest = %v, want kind %v", err, tc.wantKind)
				}
			case err != nil:
				t.Fatalf("Manifest = %v", err)
			}
			if got := reg.RequestsByPath()[path] - before; got != tc.wantHits && !(tc.atLeast && got > tc.wantHits) {
				t.Errorf("registry saw %d manifest requests, want %d", got, tc.wantHits)
			}
			if tc.wantSleeps != nil {
				got := clk.Sleeps()
				if len(got) != len(tc.wantSleeps) {
					t.Fatalf("waits = %v, want %d", got, len(tc.wantSleeps))
				}
				for i, w := range tc.wantSleeps {
					if got[i] < w {
						t.Errorf("wait %d = %v, want at least %v", i, got[i], w)
					}
				}
			}
		})
	}
}

func TestBackoffGrows(t *testing.T) {
	t.Parallel()
	rt := &retryTransport{base: 100 * time.Millisecond, max: time.Second}
	prev := time.Duration(0)
	for attempt := range 6 {
		d := rt.backoff(attempt)
		if d > rt.max {
			t.Errorf("backoff(%d) = %v, above max %v", attempt, d, rt.max)
		}
		if attempt < 3 && d <= prev {
			t.Errorf("backoff(%d) = %v, not above backoff(%d) = %v", attempt, d, attempt-1, prev)
		}
		prev = d
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range tests {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	hold := &testreg.Switch{}
	held := testreg.Start(t, testreg.WithHandler(hold.Wrap))
	_, ref := newFixture(t, held).image("a/b:1")
	hold.Set(testreg.When(testreg.ManifestRequests, testreg.Hold(release)))
	dgst := ref[strings.Index(ref, "@")+1:]
	next := testreg.Start(t)
	newFixture(t, next).image("a/b:1")
	c := newClient(t, WithInsecureRegistry(held.Addr), WithInsecureRegistry(next.Addr))

	t.Run("in flight", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		path := "/v2/a/b/manifests/" + dgst
		before := held.RequestsByPath()[path]
		nextBefore := next.Requests()
		errc := make(chan error, 1)
		go func() {
			_, err := c.ManifestFromSources(ctx, []string{ref, next.Ref("a/b@" + dgst)})
			errc <- err
		}()
		waitFor(t, "the manifest request to reach the registry", func() bool { return held.RequestsByPath()[path] > before })
		cancel()
		err := <-errc
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ManifestFromSources after cancel = %v, want context.Canceled", err)
		}
		if k, ok := kindOf(err); !ok || k != Other {
			t.Errorf("kind = %v, want Other for a cancelled call", k)
		}
		if next.Requests() != nextBefore {
			t.Error("the next source was tried after the caller cancelled")
		}
	})
	t.Run("before the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		before := held.Requests()
		_, err := c.Manifest(ctx, ref)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Manifest with a cancelled context = %v, want context.Canceled", err)
		}
		if held.Requests() != before {
			t.Error("a request was sent with a cancelled context")
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		fault := &testreg.Switch{}
		reg := testreg.Start(t, testreg.WithHandler(fault.Wrap))
		_, ref := newFixture(t, reg).image("a/b:1")
		fault.Set(testreg.When(testreg.ManifestRequests,
			testreg.Respond(-1, http.StatusServiceUnavailable, http.Header{"Retry-After": {"30"}})))
		slow := newClient(t, WithInsecureRegistry(reg.Addr), WithRetries(5, time.Millisecond, time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, err := slow.Manifest(ctx, ref)
			errc <- err
		}()
		waitFor(t, "the first 503", func() bool { return reg.RequestsByPath()["/v2/a/b/manifests/"+ref[strings.Index(ref, "@")+1:]] > 0 })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("Manifest cancelled during a 30s backoff = %v, want context.Canceled", err)
		}
	})
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	hold := &testreg.Switch{}
	reg := testreg.Start(t, testreg.WithHandler(hold.Wrap))
	_, ref := newFixture(t, reg).image("a/b:1")
	hold.Set(testreg.When(testreg.ManifestRequests, testreg.Hold(release)))
	c := newClient(t, WithInsecureRegistry(reg.Addr), WithTimeout(50*time.Millisecond), WithRetries(1, time.Millisecond, time.Millisecond))
	_, err := c.Manifest(t.Context(), ref)
	if k, ok := kindOf(err); !ok || k != Unreachable {
		t.Fatalf("Manifest from a registry that never answers = %v, want kind Unreachable", err)
	}
	if !strings.Contains(err.Error(), "timed out") {
		t.Errorf("error %q does not say it timed out", err)
	}
	if got := reg.RequestsByPath()["/v2/a/b/manifests/"+ref[strings.Index(ref, "@")+1:]]; got != 2 {
		t.Errorf("manifest requests = %d, want 2 (one retry)", got)
	}
}

// inflight counts concurrent requests at the registry and lets them go one
// token at a time.
type inflight struct {
	mu       sync.Mutex
	now, max int
	arrived  int
	tokens   chan struct{}
}

func (f *inflight) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.now++
		f.arrived++
		f.max = max(f.max, f.now)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.now--
			f.mu.Unlock()
		}()
		select {
		case <-f.tokens:
		case <-r.Context().Done():
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *inflight) snapshot() (now, maxSeen, arrived int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now, f.max, f.arrived
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	f := &inflight{tokens: make(chan struct{})}
	late := &testreg.Switch{}
	reg := testreg.Start(t, testreg.WithHandler(late.Wrap))
	_, ref := newFixture(t, reg).image("a/b:1")
	late.Set(testreg.When(testreg.ManifestRequests, f.wrap))
	const limit, calls = 2, 6
	c := newClient(t, WithInsecureRegistry(reg.Addr), WithMaxConcurrentPerRegistry(limit))

	errc := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.Manifest(t.Context(), ref)
			errc <- err
		}()
	}
	for i := range calls {
		waitFor(t, "a request to be held", func() bool { now, _, _ := f.snapshot(); return now >= min(limit, calls-i) })
		f.tokens <- struct{}{}
	}
	for range calls {
		if err := <-errc; err != nil {
			t.Errorf("Manifest = %v", err)
		}
	}
	if _, maxSeen, arrived := f.snapshot(); maxSeen > limit || arrived != calls {
		t.Errorf("registry saw %d requests, at most %d at once; want %d, at most %d", arrived, maxSeen, calls, limit)
	}
}
