package registry

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestLimit bounds a manifest read into memory. The distribution spec
// asks registries to accept at least 4 MiB; a larger body is not a manifest
// hcpmirror has any use for.
const manifestLimit = 16 << 20

// configLimit bounds an image config read into memory.
const configLimit = 64 << 20

// acceptManifests are the manifest types hcpmirror reads: OCI and Docker
// schema 2, single images and indexes. Schema 1 is long gone from the
// registries OpenShift uses.
var acceptManifests = strings.Join([]string{
	string(types.OCIManifestSchema1),
	string(types.OCIImageIndex),
	string(types.DockerManifestSchema2),
	string(types.DockerManifestList),
}, ",")

// DefaultPlatform is the platform Image picks from an index when none is
// given, matching OpenShift's default architecture.
var DefaultPlatform = v1.Platform{OS: "linux", Architecture: "amd64"}

// Client is hcpmirror's one registry client. It is safe for concurrent use
// and meant to be long-lived: it keeps connections, authenticated sessions
// and per-registry request slots across calls.
type Client struct {
	opts       Options
	creds      *credentials
	trust      *trust
	transports *transports
	redactor   *redactor

	// rt is the shared stack (retry, limit, base) below
	// go-containerregistry's auth layer.
	rt http.RoundTripper

	sessions sync.Map // session key -> *session
	hung     sync.Map // registry host[:port] -> hungRegistry
}

// hungFor is how long a registry that did not answer a session set-up in
// time is not asked again. The images queued behind the first ones then
// fail at once with the same error instead of each waiting out its own
// timeout: a verify of 190 images through a hung mirror costs one timeout,
// not one per batch of concurrent checks.
const hungFor = 10 * time.Second

// hungRegistry is a registry that timed out, and until when to believe it.
type hungRegistry struct {
	until time.Time
	err   error
}

// New builds a Client. Every file named by the options is read now, and
// every contradiction is reported now, so a bad flag fails the command
// before anything is contacted.
func New(opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	var errs []error
	creds, err := loadCredentials(&o)
	if err != nil {
		errs = append(errs, err)
	}
	tr, err := loadTrust(&o)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ts := newTransports(tr, o.MaxConcurrentPerRegistry)
	red := &redactor{secrets: creds.secrets()}
	var rt http.RoundTripper = &baseTransport{ts: ts}
	if o.Trace != nil {
		rt = &traceTransport{inner: rt, w: o.Trace, redactor: red, clock: o.clock}
	}
	rt = newLimitTransport(rt, o.MaxConcurrentPerRegistry)
	rt = &retryTransport{
		inner:          rt,
		retries:        o.Retries,
		base:           o.RetryBase,
		max:            o.RetryMax,
		timeout:        o.Timeout,
		requestTimeout: o.RequestTimeout,
		clock:          o.clock,
	}
	rt = transport.NewUserAgent(rt, o.UserAgent)
	return &Client{
		opts:       o,
		creds:      creds,
		trust:      tr,
		transports: ts,
		redactor:   red,
		rt:         rt,
	}, nil
}

// Options returns the configuration in effect, defaults filled in, so a
// command can show what it will do before doing it.
func (c *Client) Options() Options {
	o := c.opts
	o.PullSecret = slices.Clone(o.PullSecret)
	o.CAFiles = slices.Clone(o.CAFiles)
	o.CertDirs = slices.Clone(o.CertDirs)
	o.InsecureRegistries = slices.Clone(o.InsecureRegistries)
	return o
}

// Close releases idle connections. In-flight calls are not interrupted;
// cancel their contexts for that.
func (c *Client) Close() {
	c.transports.closeIdle()
}

// Descriptor is what a registry says about a manifest without sending it.
type Descriptor struct {
	// Reference is the physical reference that was asked.
	Reference string
	// MediaType is the manifest's media type.
	MediaType types.MediaType
	// Digest is the manifest's digest as the registry reports it.
	Digest v1.Hash
	// Size is the manifest's length in bytes.
	Size int64
}

// Manifest is a manifest as one physical reference served it. When it was
// asked for by digest, Raw is known to hash to Digest.
type Manifest struct {
	// Reference is the physical reference that served it.
	Reference string
	// MediaType comes from Content-Type, or from the document itself when
	// the registry sent none.
	MediaType types.MediaType
	// Digest is the digest of Raw (with the reference's algorithm when
	// fetched by digest, else sha256).
	Digest v1.Hash
	// Raw is the manifest exactly as served.
	Raw []byte
}

// IsIndex reports whether the manifest lists per-platform manifests.
func (m *Manifest) IsIndex() bool {
	return m.MediaType == types.OCIImageIndex || m.MediaType == types.DockerManifestList
}

// Image is a single-platform image. Its config and layers are read lazily,
// from the repository that served its manifest, with the context given to
// Image: cancelling that context ends any read in progress.
type Image struct {
	v1.Image
	// Reference is the physical reference that was asked and served.
	Reference string
	// Index is the index the platform was chosen from; nil when the
	// reference named a single-platform image.
	Index *Manifest
	// Platform is the index entry's platform; nil without an index.
	Platform *v1.Platform
}

// Head asks for a manifest's descriptor without downloading it. A registry
// that omits Docker-Content-Digest is asked for the manifest instead.
func (c *Client) Head(ctx context.Context, ref string) (Descriptor, error) {
	r, err := c.parse(ref)
	if err != nil {
		return Descriptor{}, c.fail(ctx, ref, "", err)
	}
	d, err := c.head(ctx, r)
	if err != nil {
		return Descriptor{}, c.fail(ctx, ref, r.Context().RegistryStr(), err)
	}
	d.Reference = ref
	return d, nil
}

// Manifest fetches a manifest. By digest, it must hash to that digest or
// the result is a DigestMismatch error.
func (c *Client) Manifest(ctx context.Context, ref string) (*Manifest, error) {
	r, err := c.parse(ref)
	if err != nil {
		return nil, c.fail(ctx, ref, "", err)
	}
	m, err := c.manifest(ctx, r)
	if err != nil {
		return nil, c.fail(ctx, ref, r.Context().RegistryStr(), err)
	}
	m.Reference = ref
	return m, nil
}

// Image resolves ref to a single-platform image. An index is resolved to
// the entry for platform (the zero Platform means DefaultPlatform), and that
// entry is fetched, by digest, from the same repository. A single-platform
// image is returned as is, whatever its platform, as oc does for
// single-architecture release images.
func (c *Client) Image(ctx context.Context, ref string, platform v1.Platform) (*Image, error) {
	r, err := c.parse(ref)
	if err != nil {
		return nil, c.fail(ctx, ref, "", err)
	}
	img, err := c.image(ctx, r, ref, platform)
	if err != nil {
		return nil, c.fail(ctx, ref, r.Context().RegistryStr(), err)
	}
	return img, nil
}

// remoteOptions lets go-containerregistry push through the Client's stack.
// Its own retries are turned off (one step, no retryable codes): the
// Client's retry layer already retries, and stacking both would multiply
// attempts.
func (c *Client) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.rt),
		remote.WithAuthFromKeychain(c.creds),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithJobs(c.opts.MaxConcurrentPerRegistry),
	}
}

// ParseReference reads a physical reference the way every request of this
// client does: registries listed as insecure are parsed as such, so callers
// that talk to go-containerregistry directly (the mirror copy engine) reach
// them over plain HTTP exactly when this client would.
func (c *Client) ParseReference(ref string) (name.Reference, error) {
	return c.parse(ref)
}

// parse reads a physical reference. Registries listed as insecure are
// parsed as such, which lets go-containerregistry fall back to plain HTTP
// for them (and only them).
func (c *Client) parse(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if c.trust.allowsPlainHTTP(r.Context().RegistryStr()) {
		return name.ParseReference(ref, name.Insecure)
	}
	return r, nil
}

// fail wraps err as the *Error for ref. A refusal says whether credentials
// were missing or rejected, and where they were looked for.
func (c *Client) fail(ctx context.Context, ref, registry string, err error) *Error {
	e := newError(ctx, ref, registry, err, c.redactor)
	if e.Kind == Unauthorized && registry != "" && !e.explained {
		repo := ""
		if r, perr := name.ParseReference(ref); perr == nil {
			repo = r.Context().RepositoryStr()
		}
		why := c.creds.explainUnauthorized(registry, repo)
		e.Err = &redactedError{msg: why + ": " + e.Err.Error(), err: e.Err}
		e.explained = true
	}
	return e
}

// session is an authenticated round tripper for one repository and set of
// token scopes, set up once (ping, token exchange) and reused.
type session struct {
	once sync.Once
	rt   http.RoundTripper
	err  error
}

// session returns the session for repo's credentials and scopes (the
// first is repo's own; the order is the one sent to the token server,
// since some servers read only the first scope). Sessions are keyed by
// the scope set, so every caller asking for the same access shares one
// token exchange.
func (c *Client) session(ctx context.Context, repo name.Repository, scopes []string) (*http.Client, error) {
	key := repo.String() + "|" + strings.Join(slices.Sorted(slices.Values(scopes)), " ")
	host := repo.RegistryStr()
	if v, ok := c.hung.Load(host); ok {
		if h := v.(hungRegistry); c.opts.clock.Now().Before(h.until) {
			return nil, h.err
		}
		c.hung.CompareAndDelete(host, v)
	}
	for {
		v, _ := c.sessions.LoadOrStore(key, &session{})
		s := v.(*session)
		s.once.Do(func() {
			auth, err := c.creds.Resolve(repo)
			if err != nil {
				s.err = err
				return
			}
			s.rt, s.err = transport.NewWithContext(ctx, repo.Registry, auth, c.rt, scopes)
			if s.err != nil && ctx.Err() == nil && isTimeout(s.err) {
				c.hung.Store(host, hungRegistry{
					until: c.opts.clock.Now().Add(hungFor),
					err:   fmt.Errorf("%w (not asked again for %v)", s.err, hungFor),
				})
			}
		})
		if s.err == nil {
			return &http.Client{Transport: s.rt}, nil
		}
		c.sessions.CompareAndDelete(key, s)
		// A failure caused by another caller's cancelled context is
		// not ours: set the session up again with our context.
		if ctx.Err() != nil || !(errors.Is(s.err, context.Canceled) || errors.Is(s.err, context.DeadlineExceeded)) {
			return nil, s.err
		}
	}
}

func manifestURL(r name.Reference) string {
	repo := r.Context()
	return fmt.Sprintf("%s://%s/v2/%s/manifests/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), r.Identifier())
}

func blobURL(repo name.Repository, h v1.Hash) string {
	return fmt.Sprintf("%s://%s/v2/%s/blobs/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), h)
}

func (c *Client) do(ctx context.Context, repo name.Repository, method, url, accept string) (*http.Response, error) {
	hc, err := c.session(ctx, repo, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

func (c *Client) head(ctx context.Context, r name.Reference) (Descriptor, error) {
	resp, err := c.do(ctx, r.Context(), http.MethodHead, manifestURL(r), acceptManifests)
	if err != nil {
		return Descriptor{}, err
	}
	resp.Body.Close()
	dh := resp.Header.Get("Docker-Content-Digest")
	if dh == "" {
		m, err := c.manifest(ctx, r)
		if err != nil {
			return Descriptor{}, err
		}
		return Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: int64(len(m.Raw))}, nil
	}
	h, err := v1.NewHash(dh)
	if err != nil {
		return Descriptor{}, fmt.Errorf("registry sent an invalid Docker-Content-Digest: %w", err)
	}
	if d, ok := r.(name.Digest); ok && d.DigestStr() != h.String() {
		want, _ := v1.NewHash(d.DigestStr())
		return Descriptor{}, &errDigestMismatch{want: want, got: h}
	}
	size, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	return Descriptor{
		MediaType: types.MediaType(mediaTypeOnly(resp.Header.Get("Content-Type"))),
		Digest:    h,
		Size:      size,
	}, nil
}

func (c *Client) manifest(ctx context.Context, r name.Reference) (*Manifest, error) {
	resp, err := c.do(ctx, r.Context(), http.MethodGet, manifestURL(r), acceptManifests)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, manifestLimit+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > manifestLimit {
		return nil, fmt.Errorf("manifest is larger than %d bytes", manifestLimit)
	}
	algo := "sha256"
	var want v1.Hash
	d, byDigest := r.(name.Digest)
	if byDigest {
		if want, err = v1.NewHash(d.DigestStr()); err != nil {
			return nil, err
		}
		algo = want.Algorithm
	}
	got, err := hashOf(algo, raw)
	if err != nil {
		return nil, err
	}
	if byDigest && got != want {
		return nil, &errDigestMismatch{want: want, got: got}
	}
	mt := types.MediaType(mediaTypeOnly(resp.Header.Get("Content-Type")))
	if mt == "" || mt == "application/json" || mt == "text/plain" {
		var probe struct {
			MediaType types.MediaType `json:"mediaType"`
		}
		if json.Unmarshal(raw, &probe) == nil {
			mt = probe.MediaType
		}
	}
	return &Manifest{MediaType: mt, Digest: got, Raw: raw}, nil
}

func (c *Client) image(ctx context.Context, r name.Reference, ref string, platform v1.Platform) (*Image, error) {
	if platform.OS == "" && platform.Architecture == "" {
		platform = DefaultPlatform
	}
	m, err := c.manifest(ctx, r)
	if err != nil {
		return nil, err
	}
	m.Reference = ref
	img := &Image{Reference: ref}
	if m.IsIndex() {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
		if err != nil {
			return nil, fmt.Errorf("parsing index: %w", err)
		}
		var child *v1.Descriptor
		for i := range idx.Manifests {
			if matchPlatform(idx.Manifests[i].Platform, platform) {
				child = &idx.Manifests[i]
				break
			}
		}
		if child == nil {
			return nil, &errNoPlatform{want: platform}
		}
		childRef := r.Context().Digest(child.Digest.String())
		cm, err := c.manifest(ctx, childRef)
		if err != nil {
			return nil, fmt.Errorf("platform %s manifest %s: %w", platform.String(), child.Digest, err)
		}
		cm.Reference = childRef.String()
		img.Index, img.Platform, m = m, child.Platform, cm
	}
	if m.IsIndex() {
		return nil, errors.New("index entry for the platform is itself an index")
	}
	parsed, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	core := &remoteImage{c: c, ctx: ctx, repo: r.Context(), manifest: m, parsed: parsed}
	if img.Image, err = partial.CompressedToImage(core); err != nil {
		return nil, err
	}
	return img, nil
}

// matchPlatform compares an index entry with the wanted platform. Empty
// wanted fields match anything; arm64 without a variant is v8, as every
// runtime treats it.
func matchPlatform(have *v1.Platform, want v1.Platform) bool {
	if have == nil || have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	if want.Variant != "" && normVariant(have.Architecture, have.Variant) != normVariant(want.Architecture, want.Variant) {
		return false
	}
	if want.OSVersion != "" && have.OSVersion != want.OSVersion {
		return false
	}
	return true
}

func normVariant(arch, variant string) string {
	if arch == "arm64" && variant == "" {
		return "v8"
	}
	return variant
}

func mediaTypeOnly(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

func hashOf(algo string, b []byte) (v1.Hash, error) {
	h, err := v1.Hasher(algo)
	if err != nil {
		return v1.Hash{}, err
	}
	h.Write(b)
	return v1.Hash{Algorithm: algo, Hex: hex.EncodeToString(h.Sum(nil))}, nil
}

// remoteImage is the minimal image core go-containerregistry's partial
// package completes into a v1.Image. It reads blobs through the Client, so
// they get the same auth, trust, retries and digest checks as manifests.
type remoteImage struct {
	c *Client
	// ctx is the one given to Image. Keeping it is the exception to
	// "ctx as a parameter": v1.Image's methods take none, and blob reads
	// must still end when the caller cancels.
	ctx      context.Context
	repo     name.Repository
	manifest *Manifest
	parsed   *v1.Manifest

	configOnce sync.Once
	config     []byte
	configErr  error
}

func (i *remoteImage) RawManifest() ([]byte, error)        { return i.manifest.Raw, nil }
func (i *remoteImage) MediaType() (types.MediaType, error) { return i.manifest.MediaType, nil }
func (i *remoteImage) Manifest() (*v1.Manifest, error)     { return i.parsed.DeepCopy(), nil }
func (i *remoteImage) Descriptor() (*v1.Descriptor, error) { return i.descriptor(), nil }
func (i *remoteImage) ConfigName() (v1.Hash, error)        { return i.parsed.Config.Digest, nil }
func (i *remoteImage) descriptor() *v1.Descriptor {
	return &v1.Descriptor{MediaType: i.manifest.MediaType, Digest: i.manifest.Digest, Size: int64(len(i.manifest.Raw))}
}

func (i *remoteImage) RawConfigFile() ([]byte, error) {
	i.configOnce.Do(func() {
		cfg := i.parsed.Config
		if cfg.Size > configLimit {
			i.configErr = i.blobError(cfg.Digest, fmt.Errorf("config is larger than %d bytes", configLimit))
			return
		}
		rc, err := i.c.openBlob(i.ctx, i.repo, cfg.Digest, cfg.Size)
		if err != nil {
			i.configErr = err
			return
		}
		defer rc.Close()
		i.config, err = io.ReadAll(io.LimitReader(rc, configLimit))
		if err != nil {
			i.configErr = err
		}
	})
	return i.config, i.configErr
}

func (i *remoteImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.parsed.Config.Digest {
		return &remoteLayer{img: i, desc: i.parsed.Config}, nil
	}
	for _, l := range i.parsed.Layers {
		if l.Digest == h {
			return &remoteLayer{img: i, desc: l}, nil
		}
	}
	return nil, i.blobError(h, &errNotInManifest{h: h})
}

func (i *remoteImage) blobError(h v1.Hash, err error) error {
	ref := i.repo.Digest(h.String()).String()
	return i.c.fail(i.ctx, ref, i.repo.RegistryStr(), err)
}

type errNotInManifest struct{ h v1.Hash }

func (e *errNotInManifest) Error() string { return fmt.Sprintf("blob %s is not in the manifest", e.h) }

// remoteLayer is one blob of a remoteImage.
type remoteLayer struct {
	img  *remoteImage
	desc v1.Descriptor
}

func (l *remoteLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *remoteLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *remoteLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *remoteLayer) Descriptor() (*v1.Descriptor, error) { d := l.desc; return &d, nil }
func (l *remoteLayer) Compressed() (io.ReadCloser, error) {
	return l.img.c.openBlob(l.img.ctx, l.img.repo, l.desc.Digest, l.desc.Size)
}

// openBlob streams a blob, following redirects to blob storage, and checks
// its size and digest as it is read: the read that reaches the end returns
// a DigestMismatch *Error instead of io.EOF when the content is wrong.
func (c *Client) openBlob(ctx context.Context, repo name.Repository, h v1.Hash, size int64) (io.ReadCloser, error) {
	ref := repo.Digest(h.String()).String()
	resp, err := c.do(ctx, repo, http.MethodGet, blobURL(repo, h), "")
	if err != nil {
		return nil, c.fail(ctx, ref, repo.RegistryStr(), err)
	}
	hasher, err := v1.Hasher(h.Algorithm)
	if err != nil {
		resp.Body.Close()
		return nil, c.fail(ctx, ref, repo.RegistryStr(), err)
	}
	return &verifyingReader{
		rc: resp.Body, h: hasher, want: h, size: size,
		fail: func(err error) error { return c.fail(ctx, ref, repo.RegistryStr(), err) },
	}, nil
}

type verifyingReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	size int64 // <= 0: unknown
	n    int64
	fail func(error) error
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.size > 0 && v.n > v.size {
		v.err = v.fail(&errDigestMismatch{want: v.want, got: v1.Hash{Algorithm: v.want.Algorithm, Hex: "(more than " + strconv.FormatInt(v.size, 10) + " bytes)"}})
		return n, v.err
	}
	switch {
	case errors.Is(err, io.EOF):
		got := v1.Hash{Algorithm: v.want.Algorithm, Hex: hex.EncodeToString(v.h.Sum(nil))}
		if got != v.want || (v.size > 0 && v.n != v.size) {
			v.err = v.fail(&errDigestMismatch{want: v.want, got: got})
			return n, v.err
		}
		v.err = io.EOF
	case err != nil:
		v.err = v.fail(err)
	}
	return n, v.err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }
