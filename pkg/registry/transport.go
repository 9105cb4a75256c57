package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The HTTP stack below go-containerregistry's auth layer, outermost first:
//
//	retryTransport  retries, per-attempt and per-request timeouts
//	limitTransport  bound on requests in flight per host
//	traceTransport  one line per attempt for -v (only when tracing)
//	baseTransport   plain-HTTP policy, then the http.Transport of the
//	                host's TLS profile
//
// Each layer does one thing and is tested alone.

// baseTransport refuses plain HTTP to registries not listed as insecure and
// sends everything else through the shared transport for the host's TLS
// profile.
type baseTransport struct {
	ts *transports
}

func (b *baseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !b.ts.trust.allowsPlainHTTP(req.URL.Host) {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errPlainHTTP
	}
	return b.ts.get(req.URL.Host).RoundTrip(req)
}

// traceTransport writes one line per attempt: method, redacted URL, status
// or error, and the time to the response headers. It sits below the limit
// so the time is the registry's, not the wait for a slot.
type traceTransport struct {
	inner    http.RoundTripper
	w        io.Writer
	redactor *redactor
	clock    clock

	mu sync.Mutex // one line at a time
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.clock.Now()
	resp, err := t.inner.RoundTrip(req)
	d := t.clock.Now().Sub(start).Round(time.Millisecond)
	outcome := ""
	if err != nil {
		outcome = "error: " + t.redactor.redact(err.Error())
	} else {
		outcome = resp.Status
	}
	t.mu.Lock()
	fmt.Fprintf(t.w, "%s %s %s %v\n", req.Method, t.redactor.redact(req.URL.Redacted()), outcome, d)
	t.mu.Unlock()
	return resp, err
}

// limitTransport bounds requests in flight per host[:port]. A slot is held
// until the response body reaches EOF or is closed, so a slow layer
// download counts for as long as it runs. Reads (GET, HEAD) and writes have
// separate slots: copying within one registry holds a source body open
// while its upload waits for a slot, and with one shared pool enough
// parallel copies would wait on each other forever. Waiting gives up when
// the request's context is done.
type limitTransport struct {
	inner http.RoundTripper
	n     int

	mu   sync.Mutex
	sems map[string]chan struct{}
}

func newLimitTransport(inner http.RoundTripper, n int) *limitTransport {
	return &limitTransport{inner: inner, n: n, sems: map[string]chan struct{}{}}
}

func (l *limitTransport) sem(host, method string) chan struct{} {
	key := strings.ToLower(host) + " write"
	if method == http.MethodGet || method == http.MethodHead || method == "" {
		key = strings.ToLower(host) + " read"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sems[key]
	if !ok {
		s = make(chan struct{}, l.n)
		l.sems[key] = s
	}
	return s
}

func (l *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := l.sem(req.URL.Host, req.Method)
	select {
	case s <- struct{}{}:
	case <-req.Context().Done():
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, req.Context().Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-s }) }
	resp, err := l.inner.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &hookBody{ReadCloser: resp.Body, done: release}
	return resp, nil
}

// hookBody calls done once, when the body reaches EOF (or fails) or is
// closed, whichever is first.
type hookBody struct {
	io.ReadCloser
	done func()
}

func (b *hookBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *hookBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// retryTransport repeats requests that failed for reasons that may pass: a
// connection failure, 408, 429, 500, 502, 503, 504. It waits base·2^n with
// a little jitter, or longer when the server sends Retry-After, but never
// longer than max: a registry asking for more gets its 429 back at once.
// Each attempt may be bounded by timeout, and the request as a whole (its
// attempts and the waits between them) by requestTimeout, until the
// response headers arrive. Requests with a body that cannot be replayed are
// sent once.
type retryTransport struct {
	inner          http.RoundTripper
	retries        int
	base, max      time.Duration
	timeout        time.Duration
	requestTimeout time.Duration
	clock          clock
}

var retryStatus = map[int]bool{
	http.StatusRequestTimeout:      true,
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	var deadline time.Time
	if t.requestTimeout > 0 {
		deadline = t.clock.Now().Add(t.requestTimeout)
	}
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		timeout := t.timeout
		if !deadline.IsZero() {
			left := deadline.Sub(t.clock.Now())
			if left <= 0 {
				return nil, fmt.Errorf("%w after %v", errAttemptTimeout, t.requestTimeout)
			}
			if timeout <= 0 || left < timeout {
				timeout = left
			}
		}
		resp, err := t.attempt(r, timeout)
		if errors.Is(err, errAttemptTimeout) && !deadline.IsZero() && !t.clock.Now().Before(deadline) {
			return nil, fmt.Errorf("%w after %v", errAttemptTimeout, t.requestTimeout)
		}
		if attempt >= t.retries || !replayable || ctx.Err() != nil {
			return resp, err
		}
		wait, again := t.decide(resp, err, attempt)
		if !again {
			return resp, err
		}
		if !deadline.IsZero() && t.clock.Now().Add(wait).After(deadline) {
			// The wait would outlast the request's budget: fail now
			// with this attempt's answer rather than wait for nothing.
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if err := t.clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// decide reports whether to retry and after how long.
func (t *retryTransport) decide(resp *http.Response, err error, attempt int) (time.Duration, bool) {
	wait := t.backoff(attempt)
	if err != nil {
		if isTLSError(err) || errors.Is(err, errPlainHTTP) || !isNetworkError(err) {
			return 0, false
		}
		return wait, true
	}
	if !retryStatus[resp.StatusCode] {
		return 0, false
	}
	if ra, ok := retryAfter(resp.Header.Get("Retry-After"), t.clock.Now()); ok {
		if ra > t.max {
			return 0, false
		}
		wait = max(wait, ra)
	}
	return wait, true
}

func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.base
	for i := 0; i < attempt && d < t.max; i++ {
		d *= 2
	}
	d = min(d, t.max)
	// ±10% so clients that failed together do not retry together.
	jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	return min(d+jitter, t.max)
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// attempt sends req once, bounded by the timeout until headers arrive. The
// time spent sending a request body does not count: while the body is being
// read the timer is reset by every read, so it bounds only a stall (no body
// byte taken for the timeout), and it runs in full from the body's end to
// the response headers. An upload of a large layer on a slow link thus
// never times out as long as it moves, and a registry that takes the last
// byte and then hangs is still cut. On success the timeout's context lives
// on in the response body until it is closed.
func (t *retryTransport) attempt(req *http.Request, timeout time.Duration) (*http.Response, error) {
	if timeout <= 0 {
		return t.inner.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	var fired atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		fired.Store(true)
		cancel()
	})
	r := req.WithContext(ctx)
	var body *progressBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &progressBody{ReadCloser: req.Body, timer: timer, timeout: timeout, fired: &fired}
		r.Body = body
	}
	resp, err := t.inner.RoundTrip(r)
	if body != nil {
		// The transport may still be reading the body (a registry can
		// answer before taking all of it): no read may re-arm the timer
		// once the headers are here.
		body.stop()
	}
	// A fired timer may have been re-armed by a read that returned after
	// it: fired, not Stop's answer, says whether the attempt timed out.
	timer.Stop()
	if fired.Load() {
		if resp != nil {
			_ = resp.Body.Close()
		}
		cancel()
		return nil, fmt.Errorf("%w after %v", errAttemptTimeout, timeout.Round(time.Millisecond))
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &hookBody{ReadCloser: resp.Body, done: cancel}
	return resp, nil
}

// progressBody is a request body that restarts an attempt's timer on every
// read, until stop.
type progressBody struct {
	io.ReadCloser
	timer   *time.Timer
	timeout time.Duration
	fired   *atomic.Bool

	mu      sync.Mutex
	stopped bool
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	if !b.stopped && !b.fired.Load() {
		b.timer.Reset(b.timeout)
	}
	b.mu.Unlock()
	return n, err
}

func (b *progressBody) stop() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
}
