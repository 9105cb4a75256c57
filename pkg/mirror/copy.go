package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// DefaultParallel is how many images are copied at once. Blobs of one image
// are copied blobsPerImage at a time on top; the registry client's
// per-registry bound keeps the total in check.
const (
	DefaultParallel = 8
	blobsPerImage   = 4
)

// Side says which end of a copy failed, as oras-go's copy errors do: a
// source failure needs the source fixed (credentials, image gone), a
// destination failure the mirror registry.
type Side string

// The sides of a copy.
const (
	SideSource      Side = "source"
	SideDestination Side = "destination"
)

// Status is the outcome of one image.
type Status string

// The outcomes.
const (
	// StatusCopied: written to the destination in this run.
	StatusCopied Status = "copied"
	// StatusPresent: the destination tag already pointed at the source
	// digest; nothing was sent.
	StatusPresent Status = "present"
	// StatusPlanned: a dry run resolved it and copied nothing.
	StatusPlanned Status = "planned"
	// StatusFailed: see Side and Error.
	StatusFailed Status = "failed"
)

// Result is what happened to one image.
type Result struct {
	Image  Image  `json:"image"`
	Status Status `json:"status"`
	// Digest is the manifest digest at the destination (= at the source).
	Digest string `json:"digest,omitempty"`
	// Bytes is the number of blob bytes sent for this image.
	Bytes int64 `json:"bytes,omitempty"`
	// Side and Error say why a failed image failed.
	Side  Side   `json:"side,omitempty"`
	Error string `json:"error,omitempty"`
	// Kind classifies Error (unauthorized, not found, unreachable, …).
	Kind string `json:"kind,omitempty"`
}

// Progress receives events while copying. Calls come from many goroutines.
type Progress interface {
	// Start is called once with the number of images.
	Start(images int)
	// ImageStarted and ImageDone bracket one image.
	ImageStarted(im Image)
	ImageDone(r Result)
	// Bytes reports n more blob bytes sent.
	Bytes(n int64)
}

// CopyOptions configures Copy.
type CopyOptions struct {
	// Parallel bounds images in flight (DefaultParallel when 0).
	Parallel int
	// Progress, when set, hears about every image and every byte.
	Progress Progress
}

// copyError is a failure with its side.
type copyError struct {
	side Side
	err  error
}

func (e *copyError) Error() string { return string(e.side) + ": " + e.err.Error() }
func (e *copyError) Unwrap() error { return e.err }

// Source is where images are read from: registries, or a directory written
// by a disk-mode run.
type Source interface {
	// Manifest returns the manifest ref names (by tag or digest).
	Manifest(ctx context.Context, ref string) (raw []byte, mt types.MediaType, digest v1.Hash, err error)
	// Digest returns the digest ref names, as cheaply as possible (HEAD).
	Digest(ctx context.Context, ref string) (v1.Hash, error)
	// Blob opens one blob of ref's repository.
	Blob(ctx context.Context, ref string, d v1.Descriptor) (io.ReadCloser, error)
}

// Target is where images are written: a registry, or a directory.
type Target interface {
	// Tagged returns the digest repo:tag points at, ok false when it does
	// not exist.
	Tagged(ctx context.Context, repo, tag string) (v1.Hash, bool, error)
	// PutBlob stores a blob in repo unless it is there; open reads it from
	// the source. It returns the bytes actually sent.
	PutBlob(ctx context.Context, repo string, d v1.Descriptor, open func() (io.ReadCloser, error)) (int64, error)
	// PutManifest stores a manifest in repo under ref (a tag or the
	// manifest's digest). Everything it references is already stored.
	PutManifest(ctx context.Context, repo, ref string, raw []byte, mt types.MediaType) error
}

// Copy copies every image of images from src to dst, opts.Parallel at a
// time, and returns one Result per image in the order given. It never stops
// at a failed image; a cancelled ctx ends the images in flight and marks
// the rest failed with the context's error.
//
// Release images are copied after everything else, so that a cluster (or
// a reader) that finds a release image finds its components too.
func Copy(ctx context.Context, src Source, dst Target, images []Image, opts CopyOptions) []Result {
	par := opts.Parallel
	if par <= 0 {
		par = DefaultParallel
	}
	prog := opts.Progress
	if prog == nil {
		prog = nopProgress{}
	}
	prog.Start(len(images))
	results := make([]Result, len(images))
	order := make([]int, len(images))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return images[order[a]].Kind != KindRelease && images[order[b]].Kind == KindRelease
	})
	c := &copier{src: src, dst: dst, prog: prog, blobs: map[string]*flight{}, absent: make([]bool, len(images))}
	order = c.skipPresent(ctx, images, order, results, 2*par)
	run := func(idx []int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, par)
		for _, i := range idx {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				results[i] = failed(images[i], &copyError{SideSource, fmt.Errorf("not started: %w", context.Cause(ctx))})
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				prog.ImageStarted(images[i])
				results[i] = c.copyImage(ctx, images[i], c.absent[i])
				prog.ImageDone(results[i])
			}()
		}
		wg.Wait()
	}
	split := len(order)
	for j, i := range order {
		if images[i].Kind == KindRelease {
			split = j
			break
		}
	}
	run(order[:split])
	run(withComponents(images, results, order[split:]))
	return results
}

// withComponents drops from releases (indexes into images) every release
// image one of whose components or boot images failed, marking it failed
// too: a release image is what clusters select, and one in the mirror
// whose components are not would be chosen and fail to install.
func withComponents(images []Image, results []Result, releases []int) []int {
	var failedTags []string
	for i, r := range results {
		if r.Status == StatusFailed && images[i].Repo == ComponentsRepo {
			failedTags = append(failedTags, images[i].Tag)
		}
	}
	if len(failedTags) == 0 {
		return releases
	}
	kept := releases[:0:0]
	for _, i := range releases {
		missing := 0
		for _, t := range failedTags {
			if strings.HasPrefix(t, images[i].Tag+"-") {
				missing++
			}
		}
		if missing == 0 {
			kept = append(kept, i)
			continue
		}
		results[i] = failed(images[i], &copyError{SideDestination, fmt.Errorf("not pushed: %d of its component images failed (see them above); run again once they copy", missing)})
	}
	return kept
}

// skipPresent asks the destination, wide (width requests at a time), for
// the tag of every image whose source digest is known, completes those
// whose tag already points at it, and returns the rest in order. A re-run
// with nothing new is then one HEAD per image at full width, not a copy
// slot per image.
func (c *copier) skipPresent(ctx context.Context, images []Image, order []int, results []Result, width int) []int {
	present := make([]bool, len(images))
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for _, i := range order {
		want, ok := digestOf(images[i].Source)
		if !ok {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return order
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			have, ok, err := c.dst.Tagged(ctx, images[i].Repo, images[i].Tag)
			if err == nil && ok && have == want {
				present[i] = true
			}
			// Answered, and not there: copyImage need not ask again.
			c.absent[i] = err == nil && !present[i]
		}()
	}
	wg.Wait()
	rest := order[:0:0]
	for _, i := range order {
		if !present[i] {
			rest = append(rest, i)
			continue
		}
		c.prog.ImageStarted(images[i])
		results[i] = Result{Image: images[i], Status: StatusPresent, Digest: digestString(images[i].Source)}
		c.prog.ImageDone(results[i])
	}
	return rest
}

func digestString(ref string) string {
	d, _ := digestOf(ref)
	return d.String()
}

func failed(im Image, err error) Result {
	r := Result{Image: im, Status: StatusFailed, Side: SideSource, Error: err.Error()}
	var ce *copyError
	if errors.As(err, &ce) {
		r.Side = ce.side
		r.Error = ce.err.Error()
	}
	var re *registry.Error
	if errors.As(err, &re) {
		r.Kind = re.Kind.String()
	}
	if errors.Is(err, context.Canceled) {
		r.Kind = "interrupted"
	}
	return r
}

type copier struct {
	src  Source
	dst  Target
	prog Progress

	mu    sync.Mutex
	blobs map[string]*flight // "@digest" (anywhere) or "repo@digest" -> upload in progress or done

	// absent[i] is true when skipPresent found that images[i]'s tag does
	// not hold its digest, which copyImage then does not ask again.
	absent []bool
}

// flight is one blob upload other images may wait for.
type flight struct {
	done chan struct{}
	val  string
	err  error
}

func (c *copier) copyImage(ctx context.Context, im Image, absent bool) Result {
	var want v1.Hash
	var err error
	if d, ok := digestOf(im.Source); ok {
		want = d
	} else if want, err = c.src.Digest(ctx, im.Source); err != nil {
		return failed(im, &copyError{SideSource, err})
	}
	if !absent {
		have, ok, err := c.dst.Tagged(ctx, im.Repo, im.Tag)
		if err != nil {
			return failed(im, &copyError{SideDestination, err})
		}
		if ok && have == want {
			return Result{Image: im, Status: StatusPresent, Digest: want.String()}
		}
	}
	var sent atomic.Int64
	raw, mt, err := c.copyManifest(ctx, im, im.Source, want, &sent)
	if err != nil {
		return failed(im, err)
	}
	if err := c.dst.PutManifest(ctx, im.Repo, im.Tag, raw, mt); err != nil {
		return failed(im, &copyError{SideDestination, fmt.Errorf("tagging %s:%s: %w", im.Repo, im.Tag, err)})
	}
	return Result{Image: im, Status: StatusCopied, Digest: want.String(), Bytes: sent.Load()}
}

// copyManifest copies the manifest ref names (digest want) and everything it
// references into im.Repo, by digest, children before parents.
func (c *copier) copyManifest(ctx context.Context, im Image, ref string, want v1.Hash, sent *atomic.Int64) ([]byte, types.MediaType, error) {
	byDigest := repoOf(ref) + "@" + want.String()
	raw, mt, got, err := c.src.Manifest(ctx, byDigest)
	if err != nil {
		return nil, "", &copyError{SideSource, err}
	}
	if got != want {
		return nil, "", &copyError{SideSource, fmt.Errorf("%s: served manifest has digest %s", byDigest, got)}
	}
	switch {
	case mt.IsIndex():
		idx, err := v1.ParseIndexManifest(bytesReader(raw))
		if err != nil {
			return nil, "", &copyError{SideSource, fmt.Errorf("%s: %w", byDigest, err)}
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(blobsPerImage)
		for _, m := range idx.Manifests {
			g.Go(func() error {
				craw, cmt, err := c.copyManifest(gctx, im, ref, m.Digest, sent)
				if err != nil {
					return err
				}
				if err := c.dst.PutManifest(gctx, im.Repo, m.Digest.String(), craw, cmt); err != nil {
					return &copyError{SideDestination, fmt.Errorf("manifest %s: %w", m.Digest, err)}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, "", err
		}
	case mt.IsImage() || mt == types.OCIManifestSchema1:
		m, err := v1.ParseManifest(bytesReader(raw))
		if err != nil {
			return nil, "", &copyError{SideSource, fmt.Errorf("%s: %w", byDigest, err)}
		}
		descs := append([]v1.Descriptor{m.Config}, m.Layers...)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(blobsPerImage)
		for _, d := range descs {
			g.Go(func() error { return c.copyBlob(gctx, im.Repo, ref, d, sent) })
		}
		if err := g.Wait(); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", &copyError{SideSource, fmt.Errorf("%s: unsupported manifest media type %q", byDigest, mt)}
	}
	return raw, mt, nil
}

// copyBlob stores one blob in repo. A blob is sent to the target at most
// once, however many images and repositories need it at the same time:
// the first image uploads it into its repository, the others wait and then
// put it into theirs, which the registry target does by a cross-repository
// mount (and the disk target by finding the file).
func (c *copier) copyBlob(ctx context.Context, repo, ref string, d v1.Descriptor, sent *atomic.Int64) error {
	put := func() (string, error) {
		var srcErr atomic.Bool
		n, err := c.dst.PutBlob(ctx, repo, d, func() (io.ReadCloser, error) {
			rc, err := c.src.Blob(ctx, ref, d)
			if err != nil {
				srcErr.Store(true)
				return nil, err
			}
			return &countingReader{rc: rc, prog: c.prog, failed: &srcErr}, nil
		})
		sent.Add(n)
		if err != nil {
			side := SideDestination
			if srcErr.Load() {
				side = SideSource
			}
			return "", &copyError{side, fmt.Errorf("blob %s: %w", d.Digest, err)}
		}
		return repo, nil
	}
	first, err := c.once(ctx, "@"+d.Digest.String(), put)
	if err != nil || first == repo {
		return err
	}
	_, err = c.once(ctx, repo+"@"+d.Digest.String(), put)
	return err
}

// once runs fn for key unless it ran successfully before or is running: then
// it waits and returns that run's result. A failed run is forgotten, so the
// next caller tries again.
func (c *copier) once(ctx context.Context, key string, fn func() (string, error)) (string, error) {
	for {
		c.mu.Lock()
		f, ok := c.blobs[key]
		if !ok {
			f = &flight{done: make(chan struct{})}
			c.blobs[key] = f
			c.mu.Unlock()
			f.val, f.err = fn()
			if f.err != nil {
				c.mu.Lock()
				delete(c.blobs, key)
				c.mu.Unlock()
			}
			close(f.done)
			return f.val, f.err
		}
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", &copyError{SideSource, ctx.Err()}
		}
		if f.err == nil {
			return f.val, nil
		}
	}
}

// countingReader reports bytes read and remembers whether the source failed.
type countingReader struct {
	rc     io.ReadCloser
	prog   Progress
	failed *atomic.Bool
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if n > 0 {
		r.prog.Bytes(int64(n))
	}
	if err != nil && err != io.EOF {
		r.failed.Store(true)
	}
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }

type nopProgress struct{}

func (nopProgress) Start(int)          {}
func (nopProgress) ImageStarted(Image) {}
func (nopProgress) ImageDone(Result)   {}
func (nopProgress) Bytes(int64)        {}
