package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// RegistrySource reads images from their registries through one
// registry.Client: its credentials, trust, retries and per-registry limits.
type RegistrySource struct {
	client *registry.Client
	puller *remote.Puller
}

// NewRegistrySource reads with c. ctx bounds every request.
func NewRegistrySource(ctx context.Context, c *registry.Client) (*RegistrySource, error) {
	p, err := remote.NewPuller(c.RemoteOptions(ctx)...)
	if err != nil {
		return nil, err
	}
	return &RegistrySource{client: c, puller: p}, nil
}

func (s *RegistrySource) wrap(ctx context.Context, ref string, r name.Reference, err error) error {
	reg := ""
	if r != nil {
		reg = r.Context().RegistryStr()
	}
	return s.client.WrapError(ctx, ref, reg, err)
}

// Manifest implements Source.
func (s *RegistrySource) Manifest(ctx context.Context, ref string) ([]byte, types.MediaType, v1.Hash, error) {
	r, err := s.client.ParseReference(ref)
	if err != nil {
		return nil, "", v1.Hash{}, s.wrap(ctx, ref, nil, err)
	}
	d, err := s.puller.Get(ctx, r)
	if err != nil {
		return nil, "", v1.Hash{}, s.wrap(ctx, ref, r, err)
	}
	return d.Manifest, d.MediaType, d.Digest, nil
}

// Digest implements Source with one HEAD.
func (s *RegistrySource) Digest(ctx context.Context, ref string) (v1.Hash, error) {
	r, err := s.client.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, s.wrap(ctx, ref, nil, err)
	}
	d, err := s.puller.Head(ctx, r)
	if err != nil {
		return v1.Hash{}, s.wrap(ctx, ref, r, err)
	}
	return d.Digest, nil
}

// Blob implements Source; the content is checked against its digest.
func (s *RegistrySource) Blob(ctx context.Context, ref string, d v1.Descriptor) (io.ReadCloser, error) {
	bref := repoOf(ref) + "@" + d.Digest.String()
	r, err := s.client.ParseReference(bref)
	if err != nil {
		return nil, s.wrap(ctx, bref, nil, err)
	}
	dg, ok := r.(name.Digest)
	if !ok {
		return nil, fmt.Errorf("%s: not a digest reference", bref)
	}
	l, err := s.puller.Layer(ctx, dg)
	if err != nil {
		return nil, s.wrap(ctx, bref, r, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, s.wrap(ctx, bref, r, err)
	}
	return rc, nil
}

// RegistryTarget writes into a registry below a root (host[:port][/path]).
// A blob is mounted from another repository of the same registry that is
// known to hold it (it was written or found there in this run) instead of
// being uploaded again.
type RegistryTarget struct {
	root   string
	client *registry.Client
	pusher *remote.Pusher
	puller *remote.Puller

	mu    sync.Mutex
	where map[v1.Hash]string // blob -> a repository of root's registry holding it
	// mounts holds, per destination and source repository, the answer to
	// the first mount between them: a refusal (401, 403: the credentials
	// for the destination cannot pull from the source) stops the others,
	// which wait for it instead of each costing the registry a refused
	// POST and the token server a refresh.
	mounts map[[2]string]*mountTry
}

// mountTry is the first mount from one repository into another.
type mountTry struct {
	done    chan struct{} // closed once refused is known
	refused bool
}

// NewRegistryTarget writes below root with c.
func NewRegistryTarget(ctx context.Context, c *registry.Client, root string) (*RegistryTarget, error) {
	opts := c.RemoteOptions(ctx)
	p, err := remote.NewPusher(opts...)
	if err != nil {
		return nil, err
	}
	pl, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	return &RegistryTarget{root: strings.TrimSuffix(root, "/"), client: c, pusher: p, puller: pl, where: map[v1.Hash]string{}, mounts: map[[2]string]*mountTry{}}, nil
}

// Root is the destination root.
func (t *RegistryTarget) Root() string { return t.root }

func (t *RegistryTarget) wrap(ctx context.Context, ref string, err error) error {
	reg, _, _ := strings.Cut(t.root, "/")
	return t.client.WrapError(ctx, ref, reg, err)
}

// Tagged implements Target with one HEAD.
func (t *RegistryTarget) Tagged(ctx context.Context, repo, tag string) (v1.Hash, bool, error) {
	ref := t.root + "/" + repo + ":" + tag
	r, err := t.client.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, false, t.wrap(ctx, ref, err)
	}
	d, err := t.puller.Head(ctx, r)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return v1.Hash{}, false, nil
		}
		return v1.Hash{}, false, t.wrap(ctx, ref, err)
	}
	return d.Digest, true, nil
}

// PutBlob implements Target: mount, else upload, in one POST and at most
// one PUT (see upload).
func (t *RegistryTarget) PutBlob(ctx context.Context, repo string, d v1.Descriptor, open func() (io.ReadCloser, error)) (int64, error) {
	ref := t.root + "/" + repo
	r, err := t.client.ParseReference(ref + "@" + d.Digest.String())
	if err != nil {
		return 0, t.wrap(ctx, ref, err)
	}
	l := &streamLayer{desc: d, open: open}
	from := r.Context()
	t.mu.Lock()
	other, ok := t.where[d.Digest]
	t.mu.Unlock()
	if ok && other != repo {
		if o, err := t.client.ParseReference(t.root + "/" + other + "@" + d.Digest.String()); err == nil {
			from = o.Context()
		}
	}
	if err := t.upload(ctx, r.Context(), from, l); err != nil {
		if l.srcErr != nil {
			return l.n, l.srcErr
		}
		return l.n, t.wrap(ctx, ref+"@"+d.Digest.String(), err)
	}
	t.mu.Lock()
	if _, ok := t.where[d.Digest]; !ok {
		t.where[d.Digest] = repo
	}
	t.mu.Unlock()
	return l.n, nil
}

// upload stores one blob in repo in at most two requests. The POST that
// opens the upload asks to mount the blob from another repository of the
// registry known to hold it (a blob written or found there in this run), or
// else from repo itself: a registry that can mount it, or whose repo holds
// it, answers 201 and nothing is sent (the existence check a HEAD would
// make, in the same request); one that cannot, or does not mount, opens an
// upload (202, as the distribution spec requires), and one PUT carries the
// whole blob and its digest (the monolithic upload). A registry that
// refuses the mount parameters is asked again without them, as
// go-containerregistry does (its issue 1404). go-containerregistry makes a
// HEAD, a POST, a PATCH with the body and a PUT committing it: twice the
// requests, and each costs the registry CPU (1-2 ms for distribution on
// disk, about half of what a mirror run costs it; see TestBenchmarkMirror).
//
// A mount asks the token for pull on from as well as push on repo (a
// registry with token auth refuses it otherwise); the session is shared by
// every mount from from into repo. The first mount from from into repo is
// made alone, the blobs behind it waiting for its answer: a refusal (401 or
// 403: the credentials for repo may not pull from from) has the blob
// uploaded with the same session, whose token still pushes into repo, and
// the others uploaded without asking, so that it costs one refused POST
// and one token refresh for the pair, not one per blob.
func (t *RegistryTarget) upload(ctx context.Context, repo, from name.Repository, l *streamLayer) error {
	mounting := from.RepositoryStr() != repo.RepositoryStr()
	// decide settles the mount from from into repo for the blobs waiting
	// on this one, when this one is the first.
	decide := func(bool) {}
	defer func() { decide(false) }()
	if mounting {
		try, first := t.mountTry(repo, from)
		if first {
			decide = func(refused bool) {
				try.refused = refused
				close(try.done)
				decide = func(bool) {}
			}
		} else {
			select {
			case <-try.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if try.refused {
				mounting, from = false, repo
			}
		}
	}
	var hc *http.Client
	var err error
	if mounting {
		hc, err = t.client.PushClient(ctx, repo, from)
		if refused(err) && ctx.Err() == nil {
			// The token server will not grant pull on from at all.
			decide(true)
			mounting, from = false, repo
		} else if err != nil {
			return err
		}
	}
	if !mounting {
		if hc, err = t.client.PushClient(ctx, repo); err != nil {
			return err
		}
	}
	base := fmt.Sprintf("%s://%s/v2/%s/blobs/", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr())
	send := func(method, u string, body io.Reader, size int64, want ...int) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if err := transport.CheckError(resp, want...); err != nil {
			resp.Body.Close()
			return nil, err
		}
		return resp, nil
	}
	probe := url.Values{"mount": {l.desc.Digest.String()}, "from": {from.RepositoryStr()}}
	resp, err := send(http.MethodPost, base+"uploads/?"+probe.Encode(), nil, 0, http.StatusCreated, http.StatusAccepted)
	var te *transport.Error
	if errors.As(err, &te) && ctx.Err() == nil {
		switch auth := te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden; {
		case auth && mounting:
			decide(true)
			resp, err = send(http.MethodPost, base+"uploads/", nil, 0, http.StatusAccepted)
		case auth:
			// Pushing into repo is refused: a plain POST would be
			// refused too, after another token exchange.
		case te.StatusCode >= 400 && te.StatusCode < 500 && te.StatusCode != http.StatusRequestTimeout && te.StatusCode != http.StatusTooManyRequests:
			// The mount parameters refused (a 4xx other than the
			// overload answers the client already retried): ask for a
			// plain upload.
			resp, err = send(http.MethodPost, base+"uploads/", nil, 0, http.StatusAccepted)
		}
	}
	decide(false)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return nil
	}
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	q := loc.Query()
	q.Set("digest", l.desc.Digest.String())
	loc.RawQuery = q.Encode()
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	resp, err = send(http.MethodPut, loc.String(), rc, l.desc.Size, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// mountTry returns the first mount from from into repo, and whether the
// caller makes it.
func (t *RegistryTarget) mountTry(repo, from name.Repository) (*mountTry, bool) {
	key := [2]string{repo.String(), from.String()}
	t.mu.Lock()
	defer t.mu.Unlock()
	if m, ok := t.mounts[key]; ok {
		return m, false
	}
	m := &mountTry{done: make(chan struct{})}
	t.mounts[key] = m
	return m, true
}

// refused is whether err is a registry's or token server's 401 or 403.
func refused(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden)
}

// PutManifest implements Target.
func (t *RegistryTarget) PutManifest(ctx context.Context, repo, ref string, raw []byte, mt types.MediaType) error {
	full := t.root + "/" + repo + ":" + ref
	if strings.Contains(ref, ":") {
		full = t.root + "/" + repo + "@" + ref
	}
	r, err := t.client.ParseReference(full)
	if err != nil {
		return t.wrap(ctx, full, err)
	}
	if err := t.pusher.Put(ctx, r, rawManifest{raw, mt}); err != nil {
		return t.wrap(ctx, full, err)
	}
	return nil
}

// rawManifest is a manifest to put byte for byte.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// streamLayer is a blob known by its descriptor, read from the source only
// if the destination needs the bytes.
type streamLayer struct {
	desc   v1.Descriptor
	open   func() (io.ReadCloser, error)
	n      int64
	srcErr error
}

func (l *streamLayer) Digest() (v1.Hash, error) { return l.desc.Digest, nil }
func (l *streamLayer) DiffID() (v1.Hash, error) {
	return v1.Hash{}, errors.New("diff id not known for a copied blob")
}
func (l *streamLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *streamLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *streamLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("a copied blob is never decompressed")
}
func (l *streamLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.open()
	if err != nil {
		l.srcErr = err
		return nil, err
	}
	return &sizeReader{rc: rc, l: l}, nil
}

type sizeReader struct {
	rc io.ReadCloser
	l  *streamLayer
}

func (r *sizeReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.l.n += int64(n)
	if err != nil && err != io.EOF {
		r.l.srcErr = err
	}
	return n, err
}
func (r *sizeReader) Close() error { return r.rc.Close() }

// digestOf returns the digest of a digest reference.
func digestOf(ref string) (v1.Hash, bool) {
	_, d, ok := strings.Cut(ref, "@")
	if !ok {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(d)
	return h, err == nil
}

// repoOf strips a reference's tag and digest.
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		ref = ref[:i]
	}
	return ref
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
