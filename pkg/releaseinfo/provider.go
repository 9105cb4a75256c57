package releaseinfo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// Defaults of a Provider. A management cluster reconciles a handful of
// releases over and over; these keep every one of them warm without letting
// a moved tag go unnoticed for long.
const (
	// DefaultCacheSize bounds the cached releases. A cached release with
	// 190 components is a few tens of KiB.
	DefaultCacheSize = 64
	// DefaultTagTTL is how long an answer for a tag reference is trusted:
	// tags move when a release is re-pushed or a mirror is refreshed.
	DefaultTagTTL = 5 * time.Minute
	// DefaultDigestTTL is how long an answer for a digest reference is
	// kept. The content cannot change; the bound only lets ServedBy follow
	// a mirror that went away.
	DefaultDigestTTL = 24 * time.Hour
	// DefaultSecretClients bounds the registry clients kept per distinct
	// pull secret (one per hosted cluster, typically).
	DefaultSecretClients = 16
)

// Option configures a Provider. Options are applied in order; New rejects
// contradictions before anything is contacted.
type Option func(*options) error

type options struct {
	client            *registry.Client
	registryOptions   []registry.Option
	cacheSize         int
	tagTTL            time.Duration
	digestTTL         time.Duration
	now               func() time.Time
	platform          v1.Platform
	requireBootImages bool
}

// WithClient makes lookups without a pull secret use c, sharing its
// connections and sessions with the rest of the program. The Provider does
// not close it. Lookups with a pull secret need a client carrying those
// credentials, which the Provider builds from WithRegistryOptions.
func WithClient(c *registry.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("registry client is nil")
		}
		if o.client != nil {
			return errors.New("two registry clients given")
		}
		o.client = c
		return nil
	}
}

// WithRegistryOptions configures the registry clients the Provider builds:
// the one for lookups without a pull secret (unless WithClient is given)
// and one per pull secret, which adds registry.WithPullSecret to these. They
// must therefore not contain a pull secret themselves.
func WithRegistryOptions(opts ...registry.Option) Option {
	return func(o *options) error {
		o.registryOptions = append(o.registryOptions, opts...)
		return nil
	}
}

// WithCacheSize bounds the number of cached releases. Zero turns caching
// off; concurrent lookups are still collapsed into one fetch.
func WithCacheSize(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("cache size %d is negative", n)
		}
		o.cacheSize = n
		return nil
	}
}

// WithTTL sets how long an answer for a tag (or name-only) reference is
// reused. Zero keeps it until evicted; a negative TTL never caches tag
// references, for callers that must see a moved tag at once.
func WithTTL(d time.Duration) Option {
	return func(o *options) error {
		o.tagTTL = d
		return nil
	}
}

// WithDigestTTL sets how long an answer for a digest reference is reused.
// Zero keeps it until evicted; a negative TTL never caches them.
func WithDigestTTL(d time.Duration) Option {
	return func(o *options) error {
		o.digestTTL = d
		return nil
	}
}

// WithClock replaces time.Now for cache expiry, so tests can move time
// instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("clock is nil")
		}
		o.now = now
		return nil
	}
}

// WithPlatform picks which child of a manifest-list (multi-architecture)
// release is read; the default is linux/amd64, OpenShift's default
// architecture. Single-platform releases are read whatever their platform,
// as oc does.
func WithPlatform(p v1.Platform) Option {
	return func(o *options) error {
		if p.OS == "" || p.Architecture == "" {
			return fmt.Errorf("platform %q: want os/architecture", p.String())
		}
		o.platform = p
		return nil
	}
}

// RequireBootImages makes a release without the coreos-bootimages
// ConfigMap an error, as the operator needs it to boot KubeVirt and other
// NodePools. Without it (release info) its absence is only a warning.
func RequireBootImages() Option {
	return func(o *options) error {
		o.requireBootImages = true
		return nil
	}
}

// Provider looks releases up through mirror sets and caches the answers. It is safe for concurrent use and meant to be
// long-lived: one per process, shared by every reconciler, so they share
// connections and the cache.
type Provider struct {
	opts     options
	base     *registry.Client
	ownsBase bool

	mu      sync.Mutex // guards clients' construction
	clients *lru[*registry.Client]

	releases *lru[*Release]
	files    *lru[*ImageFiles]
	flights  flightGroup
}

// New builds a Provider. Registry options are checked and their files read
// now, so a bad flag fails before any lookup.
func New(opts ...Option) (*Provider, error) {
	o := options{
		cacheSize: DefaultCacheSize,
		tagTTL:    DefaultTagTTL,
		digestTTL: DefaultDigestTTL,
		now:       time.Now,
		platform:  registry.DefaultPlatform,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	p := &Provider{opts: o, base: o.client}
	if p.base == nil {
		c, err := registry.New(o.registryOptions...)
		if err != nil {
			return nil, fmt.Errorf("registry client: %w", err)
		}
		p.base, p.ownsBase = c, true
	}
	p.clients = newLRU(DefaultSecretClients, func(c *registry.Client) { c.Close() })
	p.releases = newLRU[*Release](o.cacheSize, nil)
	p.files = newLRU[*ImageFiles](o.cacheSize, nil)
	return p, nil
}

// Close releases idle connections of the clients the Provider built and
// empties the cache. Lookups in flight are not interrupted.
func (p *Provider) Close() {
	p.clients.purge()
	if p.ownsBase {
		p.base.Close()
	}
	p.releases.purge()
	p.files.purge()
}

// client returns the registry client for a plan's pull secret.
func (p *Provider) client(pl *plan) (*registry.Client, error) {
	return p.clientFor(pl.secret, pl.secretID)
}

// secretID is the identity of a pull secret in cache keys: its SHA-256, so
// the key never holds credentials. No secret has the empty identity.
func secretID(pullSecret []byte) string {
	if len(pullSecret) == 0 {
		return ""
	}
	sum := sha256.Sum256(pullSecret)
	return hex.EncodeToString(sum[:])
}

// clientFor returns the registry client carrying a pull secret, building
// it on first use. Clients are kept per secret (LRU), so a hosted cluster's
// lookups reuse their connections and registry sessions.
func (p *Provider) clientFor(secret []byte, id string) (*registry.Client, error) {
	if id == "" {
		return p.base, nil
	}
	if c, ok := p.clients.get(id, time.Time{}); ok {
		return c, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients.get(id, time.Time{}); ok {
		return c, nil
	}
	opts := append(append([]registry.Option(nil), p.opts.registryOptions...), registry.WithPullSecret(secret))
	c, err := registry.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("registry client for the pull secret: %w", err)
	}
	p.clients.add(id, c, time.Time{})
	return c, nil
}

// UnpullableError is a reference no node could pull: its source is
// NeverContactSource and no mirror serves this kind of pull (for example a
// tag reference whose source has digest mirrors only). Nothing is contacted.
type UnpullableError struct {
	// Reference is the normalised reference asked for.
	Reference string
	// Source is the mirror-set source that blocks it.
	Source string
}

// Error implements error.
func (e *UnpullableError) Error() string {
	pull := "tag"
	if r, err := imageref.Parse(e.Reference); err == nil && r.IsDigested() {
		pull = "digest"
	}
	return fmt.Sprintf("%s cannot be pulled: source %q is NeverContactSource and no mirror serves %s pulls (no pull sources)",
		e.Reference, e.Source, pull)
}

// plan is one lookup decided before any I/O: what to fetch, from where, with
// which credentials, and under which cache key.
type plan struct {
	ref      imageref.Reference
	res      mirrorset.Resolution
	sources  []string
	secret   []byte
	secretID string
	key      string
}

// emptyConfig stands for "no mirror sets": every reference is pulled from
// where it names.
var emptyConfig = func() *mirrorset.Config {
	c, err := mirrorset.Compile(nil)
	if err != nil {
		panic(err)
	}
	return c
}()

// plan resolves image through mirrors and builds the cache key. kind names
// what is fetched, so that answers of different kinds never share a key.
func (p *Provider) plan(kind string, mirrors *mirrorset.Config, image string, pullSecret []byte) (*plan, error) {
	ref, err := imageref.Parse(image)
	if err != nil {
		return nil, err
	}
	if mirrors == nil {
		mirrors = emptyConfig
	}
	res, err := mirrors.ResolveReference(ref)
	if err != nil {
		return nil, err
	}
	if len(res.PullSources) == 0 {
		src := ""
		if res.Registry != nil {
			src = res.Registry.Prefix
		}
		return nil, &UnpullableError{Reference: ref.String(), Source: src}
	}
	pl := &plan{ref: ref, res: res, sources: res.References()}
	if len(pullSecret) > 0 {
		pl.secret, pl.secretID = pullSecret, secretID(pullSecret)
	}
	var b strings.Builder
	b.Grow(len(kind) + len(pl.secretID) + 32 + 96*(len(pl.sources)+1))
	for _, s := range []string{kind, ref.String(), pl.secretID, p.opts.platform.String()} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, s := range pl.sources {
		b.WriteString(s)
		b.WriteByte(0)
	}
	pl.key = b.String()
	return pl, nil
}

// expiry is when an answer fetched now for pl stops being reused; ok is
// false when it must not be cached at all.
func (p *Provider) expiry(pl *plan, now time.Time) (time.Time, bool) {
	ttl := p.opts.tagTTL
	if pl.ref.IsDigested() {
		ttl = p.opts.digestTTL
	}
	switch {
	case ttl < 0:
		return time.Time{}, false
	case ttl == 0:
		return time.Time{}, true
	}
	return now.Add(ttl), true
}

// cached returns the cached answer for pl or fetches it, once for all
// concurrent callers, caching a success.
func cached[V any](ctx context.Context, p *Provider, c *lru[V], pl *plan, fetch func(context.Context, *plan) (V, error)) (V, error) {
	if v, ok := c.get(pl.key, p.opts.now()); ok {
		return v, nil
	}
	v, err := p.flights.do(ctx, pl.key, func(fctx context.Context) (any, error) {
		// A flight that ended just before this one may have stored it.
		if v, ok := c.get(pl.key, p.opts.now()); ok {
			return v, nil
		}
		v, err := fetch(fctx, pl)
		if err != nil {
			return nil, err
		}
		if exp, ok := p.expiry(pl, p.opts.now()); ok {
			c.add(pl.key, v, exp)
		}
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return v.(V), nil
}
