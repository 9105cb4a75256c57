package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Defaults for Options. They suit a mirror on the local network: quick to
// give up on a dead endpoint so the next mirror gets its turn, patient
// enough for a registry that is briefly overloaded.
const (
	// DefaultTimeout bounds one HTTP attempt up to its response headers.
	DefaultTimeout = 30 * time.Second
	// DefaultRetries is how many times a request is repeated after a
	// 408, 429, 5xx or connection failure.
	DefaultRetries = 3
	// DefaultRetryBase is the first backoff; each retry doubles it.
	DefaultRetryBase = 250 * time.Millisecond
	// DefaultRetryMax caps one wait, including a server's Retry-After.
	DefaultRetryMax = 30 * time.Second
	// DefaultMaxConcurrentPerRegistry bounds requests in flight to one
	// host[:port] across the whole Client.
	DefaultMaxConcurrentPerRegistry = 8
	// DefaultUserAgent is sent with every request.
	DefaultUserAgent = "hcpmirror"
)

// Options is the interpreted configuration of a Client. Options (the
// functions) fill it in; New checks it once, so a contradiction is reported
// before any request is made. Command-line flag groups produce Options so
// that every command shares one spelling of --authfile, --ca-file and
// --insecure-registry.
type Options struct {
	// AuthFile is a credentials file given explicitly (podman's
	// --authfile): a docker config.json, a containers auth.json, or a
	// Kubernetes Secret of type kubernetes.io/dockerconfigjson (YAML or
	// JSON). It must exist. Empty: REGISTRY_AUTH_FILE if set (it must
	// exist too), else every one of ${XDG_RUNTIME_DIR}/containers/auth.json
	// and $DOCKER_CONFIG/config.json or ~/.docker/config.json that exists,
	// in that order, as podman and skopeo read them.
	AuthFile string
	// NoDefaultAuthFile skips that search, so only AuthFile and
	// PullSecret supply credentials. Tests and controllers use it to stay
	// independent of the environment.
	NoDefaultAuthFile bool
	// PullSecret is the content of a .dockerconfigjson (or legacy
	// .dockercfg) secret, such as a HostedCluster's pull secret. It is
	// consulted before the auth file.
	PullSecret []byte
	// CAFiles are PEM bundles trusted for every registry, on top of the
	// system roots.
	CAFiles []string
	// CertDirs are laid out like /etc/containers/certs.d: a directory per
	// host[:port] whose *.crt files are trusted for that registry only.
	CertDirs []string
	// InsecureRegistries are host[:port] names for which TLS is not
	// verified and plain HTTP is allowed. Every other registry must
	// present a trusted certificate over HTTPS.
	InsecureRegistries []string
	// Timeout bounds each HTTP attempt until its response headers
	// arrive; 0 means no bound. Sending a request body does not count
	// (only a body stalled for Timeout does), so an upload of any size is
	// not cut off while it moves; response bodies are bounded by the
	// caller's context only.
	Timeout time.Duration
	// RequestTimeout bounds one request until its response headers
	// arrive, retries and backoffs included, so an unresponsive registry
	// costs at most this much per request; 0 means only Timeout and
	// Retries bound it.
	RequestTimeout time.Duration
	// Trace, when set, gets one line per HTTP attempt: method, URL
	// (redacted), status or error, and duration. It is for -v.
	Trace io.Writer
	// Retries is how many times a failed request is repeated; 0 disables
	// retries.
	Retries int
	// RetryBase is the first backoff; it doubles on every retry.
	RetryBase time.Duration
	// RetryMax caps one wait. A Retry-After asking for longer ends the
	// retries with a RateLimited error rather than stalling the caller.
	RetryMax time.Duration
	// MaxConcurrentPerRegistry bounds requests in flight per host[:port],
	// reads (GET, HEAD) and writes counted apart. A response body holds
	// its slot until it is read to the end or closed, so one goroutine
	// holding many bodies of one registry open at once can exhaust it.
	MaxConcurrentPerRegistry int
	// UserAgent is sent with every request.
	UserAgent string

	authFileSet bool
	clock       clock
}

// Option sets one field of Options. Options are applied in order after the
// defaults; New rejects contradictions.
type Option func(*Options) error

// WithAuthFile reads credentials from path, which must exist. Giving two
// different files is an error: only one is read.
func WithAuthFile(path string) Option {
	return func(o *Options) error {
		if path == "" {
			return errors.New("auth file path is empty")
		}
		if o.authFileSet && o.AuthFile != path {
			return fmt.Errorf("two auth files given: %s and %s", o.AuthFile, path)
		}
		o.AuthFile, o.authFileSet = path, true
		return nil
	}
}

// WithoutDefaultAuthFile stops the search for REGISTRY_AUTH_FILE and
// ~/.docker/config.json, so the environment cannot change which
// credentials are used.
func WithoutDefaultAuthFile() Option {
	return func(o *Options) error {
		o.NoDefaultAuthFile = true
		return nil
	}
}

// WithPullSecret uses the content of a .dockerconfigjson secret. Its
// entries are consulted before those of the auth file. Giving two is an
// error.
func WithPullSecret(dockerConfigJSON []byte) Option {
	return func(o *Options) error {
		if len(dockerConfigJSON) == 0 {
			return errors.New("pull secret is empty")
		}
		if o.PullSecret != nil {
			return errors.New("two pull secrets given")
		}
		o.PullSecret = append([]byte(nil), dockerConfigJSON...)
		return nil
	}
}

// WithCAFile trusts the certificates in a PEM file for every registry.
func WithCAFile(path string) Option {
	return func(o *Options) error {
		if path == "" {
			return errors.New("ca file path is empty")
		}
		o.CAFiles = append(o.CAFiles, path)
		return nil
	}
}

// WithCertDir trusts, per registry, the *.crt files of dir/<host[:port]>/,
// as podman does with /etc/containers/certs.d.
func WithCertDir(dir string) Option {
	return func(o *Options) error {
		if dir == "" {
			return errors.New("certificate directory path is empty")
		}
		o.CertDirs = append(o.CertDirs, dir)
		return nil
	}
}

// WithInsecureRegistry turns off TLS verification and allows plain HTTP for
// one host[:port], exactly as written: "m.local" does not cover
// "m.local:5000".
func WithInsecureRegistry(hostPort string) Option {
	return func(o *Options) error {
		h, err := normalizeHostPort(hostPort)
		if err != nil {
			return fmt.Errorf("insecure registry: %w", err)
		}
		o.InsecureRegistries = append(o.InsecureRegistries, h)
		return nil
	}
}

// WithTimeout bounds each HTTP attempt until its response headers arrive; 0
// removes the bound.
func WithTimeout(d time.Duration) Option {
	return func(o *Options) error {
		o.Timeout = d
		return nil
	}
}

// WithRequestTimeout bounds one request, retries included, until its
// response headers arrive; 0 removes the bound. See Options.RequestTimeout.
func WithRequestTimeout(d time.Duration) Option {
	return func(o *Options) error {
		o.RequestTimeout = d
		return nil
	}
}

// WithTrace writes a line per HTTP attempt to w (see Options.Trace); nil
// turns tracing off.
func WithTrace(w io.Writer) Option {
	return func(o *Options) error {
		o.Trace = w
		return nil
	}
}

// WithRetries sets how many times a request is repeated after a 408, 429,
// 5xx or connection failure, and the backoff: base doubles on each retry and
// no single wait exceeds maxWait. A Retry-After header longer than the backoff
// is honoured up to maxWait.
func WithRetries(n int, base, maxWait time.Duration) Option {
	return func(o *Options) error {
		o.Retries, o.RetryBase, o.RetryMax = n, base, maxWait
		return nil
	}
}

// WithMaxConcurrentPerRegistry bounds requests in flight to one
// host[:port], so a verify of a whole release does not flood a mirror.
func WithMaxConcurrentPerRegistry(n int) Option {
	return func(o *Options) error {
		o.MaxConcurrentPerRegistry = n
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *Options) error {
		o.UserAgent = ua
		return nil
	}
}

// withClock replaces the clock that times backoffs, for tests.
func withClock(c clock) Option {
	return func(o *Options) error {
		o.clock = c
		return nil
	}
}

func defaultOptions() Options {
	return Options{
		Timeout:                  DefaultTimeout,
		Retries:                  DefaultRetries,
		RetryBase:                DefaultRetryBase,
		RetryMax:                 DefaultRetryMax,
		MaxConcurrentPerRegistry: DefaultMaxConcurrentPerRegistry,
		UserAgent:                DefaultUserAgent,
		clock:                    realClock{},
	}
}

// validate reports every contradiction at once.
func (o *Options) validate() error {
	var errs []error
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", o.Timeout))
	}
	if o.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("request timeout %v is negative", o.RequestTimeout))
	}
	if o.Retries < 0 {
		errs = append(errs, fmt.Errorf("retries %d is negative", o.Retries))
	}
	if o.Retries > 0 && o.RetryBase <= 0 {
		errs = append(errs, fmt.Errorf("retry base %v must be positive", o.RetryBase))
	}
	if o.Retries > 0 && o.RetryMax < o.RetryBase {
		errs = append(errs, fmt.Errorf("retry max %v is below retry base %v", o.RetryMax, o.RetryBase))
	}
	if o.MaxConcurrentPerRegistry < 1 {
		errs = append(errs, fmt.Errorf("max concurrent requests per registry %d must be at least 1", o.MaxConcurrentPerRegistry))
	}
	if o.clock == nil {
		errs = append(errs, errors.New("no clock"))
	}
	return errors.Join(errs...)
}

// normalizeHostPort checks a host[:port] as registries are named in
// references, and lowercases it.
func normalizeHostPort(s string) (string, error) {
	if s == "" {
		return "", errors.New("host is empty")
	}
	if strings.Contains(s, "://") {
		return "", fmt.Errorf("%q: give host[:port] without a scheme", s)
	}
	if strings.ContainsAny(s, "/@?# ") {
		return "", fmt.Errorf("%q: give host[:port] without a path", s)
	}
	u, err := url.Parse("//" + s)
	if err != nil || u.Host != s {
		return "", fmt.Errorf("%q: not a valid host[:port]", s)
	}
	return strings.ToLower(s), nil
}

// clock times backoffs. Tests inject one that does not sleep.
type clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
