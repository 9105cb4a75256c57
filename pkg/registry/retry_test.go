package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
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
			_, err := FromSources(ctx, []string{ref, next.Ref("a/b@" + dgst)}, c.Manifest)
			errc <- err
		}()
		waitFor(t, "the manifest request to reach the registry", func() bool { return held.RequestsByPath()[path] > before })
		cancel()
		err := <-errc
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("FromSources(Manifest) after cancel = %v, want context.Canceled", err)
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

// silentAddr accepts connections and never answers: a mirror that is up but
// hung, the case that cost minutes per image before --request-timeout.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestRequestTimeout bounds a request to a registry that accepts and never
// answers, retries included, over HTTPS (a hung TLS handshake) and plain
// HTTP, with the library's default per-attempt timeout and retries.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	for _, insecure := range []bool{false, true} {
		t.Run(fmt.Sprintf("insecure=%v", insecure), func(t *testing.T) {
			t.Parallel()
			addr := silentAddr(t)
			opts := []Option{WithoutDefaultAuthFile(), WithRequestTimeout(300 * time.Millisecond)}
			if insecure {
				opts = append(opts, WithInsecureRegistry(addr))
			}
			c, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			_, err = c.Head(t.Context(), addr+"/a/b:1")
			took := time.Since(start)
			if k, ok := kindOf(err); !ok || k != Unreachable {
				t.Fatalf("Head from a hung registry = %v, want kind Unreachable", err)
			}
			if !strings.Contains(err.Error(), "request timed out after 300ms") {
				t.Errorf("error %q does not say the request timed out after 300ms", err)
			}
			// The ping and its plain-HTTP fallback may each take the
			// budget; nothing may take the default 30 s per attempt.
			if took > 3*time.Second {
				t.Errorf("Head took %v with a 300ms request timeout", took)
			}
		})
	}
}

// TestTrace writes one line per HTTP attempt, with the status and without
// credentials or signed query parameters.
func TestTrace(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t, testreg.WithBasicAuth("robot", "robot-pw-1"))
	_, ref := newFixture(t, reg).image("a/b:1")
	var buf syncBuffer
	c := newClient(t, WithInsecureRegistry(reg.Addr), WithTrace(&buf),
		WithPullSecret(dockerConfig(t, map[string][2]string{reg.Addr: {"robot", "robot-pw-1"}})))
	if _, err := c.Head(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Head(t.Context(), reg.Addr+"/a/missing:1"); err == nil {
		t.Fatal("Head of a missing tag = nil error")
	}
	out := buf.String()
	_, dgst, _ := strings.Cut(ref, "@")
	for _, want := range []string{
		"GET http://" + reg.Addr + "/v2/ 401 Unauthorized ",
		"HEAD http://" + reg.Addr + "/v2/a/b/manifests/" + dgst + " 200 OK ",
		"HEAD http://" + reg.Addr + "/v2/a/missing/manifests/1 404 Not Found ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace does not contain %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"robot-pw-1", b64("robot:robot-pw-1")} {
		if strings.Contains(out, secret) {
			t.Errorf("trace leaks %q:\n%s", secret, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !regexp.MustCompile(`^(GET|HEAD) https?://\S+ (\d{3} .*|error: .*) \d+(\.\d+)?(ms|µs|s|ns)$`).MatchString(line) {
			t.Errorf("trace line %q is not METHOD URL STATUS DURATION", line)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHungRegistryAskedOnce: many images through a registry that never
// answers cost one request timeout, not one per batch: once a session
// set-up timed out, the registry is not asked again for a while.
func TestHungRegistryAskedOnce(t *testing.T) {
	t.Parallel()
	addr := silentAddr(t)
	c, err := New(WithoutDefaultAuthFile(), WithRequestTimeout(300*time.Millisecond), WithMaxConcurrentPerRegistry(2))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 40)
	sem := make(chan struct{}, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, errs[i] = c.Head(t.Context(), fmt.Sprintf("%s/ns/img%d@sha256:%064d", addr, i, i))
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for i, err := range errs {
		if k, ok := kindOf(err); !ok || k != Unreachable || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("image %d: %v, want kind Unreachable, timed out", i, err)
		}
	}
	// 40 images, 4 at a time, would take 10 timeouts (3 s) if each
	// batch waited out its own.
	if took > 1500*time.Millisecond {
		t.Errorf("40 images through a hung registry took %v, want about one 300ms timeout", took)
	}
}
