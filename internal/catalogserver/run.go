package catalogserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/go-logr/logr"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// DefaultPollInterval is how often a catalog named by tag is re-resolved.
const DefaultPollInterval = 10 * time.Minute

// Port is the gRPC port a catalog is served on, as `opm serve` and
// HyperShift's catalog Deployments do.
const Port = 50051

// retryInterval is how soon a failed first pull is tried again.
const retryInterval = 5 * time.Second

// RunOptions configure Run.
type RunOptions struct {
	// CatalogImage is the catalog image: by digest (pulled once), or by
	// tag (re-resolved every PollInterval, pulled again when it moved).
	CatalogImage string
	// Listen is the gRPC address (":50051").
	Listen string
	// PollInterval is how often a tag is re-resolved; DefaultPollInterval
	// when zero.
	PollInterval time.Duration
	// CacheDir, when set, keeps the last catalog served, so that a
	// restarted server answers at once (and while the registries are out
	// of reach) with it; a tag is then re-resolved at once.
	CacheDir string
	// Mirrors returns the mirror configuration to pull through (nil: pull
	// as named), or the error that forbids pulling now.
	Mirrors func() (*mirrorset.Config, error)
	// Registry returns a registry client for one refresh (so that
	// credentials mounted from a Secret are read afresh), closed after it.
	// Required.
	Registry func() (*registry.Client, error)
	// Log receives what was pulled from where, and failures.
	Log logr.Logger
	// Listening, when set, is called with the bound address (tests listen
	// on port 0).
	Listening func(net.Addr)
}

// pulled is the catalog last loaded and where it came from.
type pulled struct {
	Reference string `json:"reference"` // the catalog image asked for
	Digest    string `json:"digest"`    // its manifest digest
	ServedBy  string `json:"servedBy"`  // the physical reference that served it
}

// Run serves the catalog image until ctx ends: it listens at once (health
// NOT_SERVING), pulls the image through the mirrors and loads it (SERVING),
// and for a tag re-resolves it every poll interval, loading the new
// content when the digest moved. A pull or load that fails keeps the
// catalog in service; before the first success it is retried every few
// seconds.
func Run(ctx context.Context, o RunOptions) error {
	if o.CatalogImage == "" {
		return errors.New("no catalog image")
	}
	if o.Registry == nil {
		return errors.New("no registry client")
	}
	ref, err := imageref.Parse(o.CatalogImage)
	if err != nil {
		return fmt.Errorf("catalog image %q: %w", o.CatalogImage, err)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Mirrors == nil {
		o.Mirrors = func() (*mirrorset.Config, error) { return nil, nil }
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	if o.Listening != nil {
		o.Listening(ln.Addr())
	}
	s := &Server{}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()

	r := &runner{o: o, s: s, byDigest: ref.Digest() != ""}
	r.loadCache()
	delay := time.Duration(0)
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return <-errc
		case <-time.After(delay):
		}
		if r.byDigest && r.last != nil {
			delay = 1<<63 - 1 // nothing will change
			continue
		}
		if err := r.refresh(ctx); err != nil && ctx.Err() == nil {
			o.Log.Error(err, "refreshing the catalog; the catalog in service stays", "catalog", o.CatalogImage, "serving", s.Serving())
		}
		delay = o.PollInterval
		if !s.Serving() {
			delay = min(retryInterval, o.PollInterval)
		}
	}
}

type runner struct {
	o        RunOptions
	s        *Server
	byDigest bool
	last     *pulled
}

// refresh resolves the catalog image to a digest through the mirrors and,
// when it is not the one loaded, pulls and loads it.
func (r *runner) refresh(ctx context.Context) error {
	cfg, err := r.o.Mirrors()
	if err != nil {
		return fmt.Errorf("mirrors: %w", err)
	}
	sources := []string{r.o.CatalogImage}
	if cfg != nil {
		res, err := cfg.Resolve(r.o.CatalogImage)
		if err != nil {
			return err
		}
		sources = res.References()
	}
	c, err := r.o.Registry()
	if err != nil {
		return err
	}
	defer c.Close()
	if !r.byDigest {
		d, err := registry.FromSources(ctx, sources, c.Head)
		if err != nil {
			return fmt.Errorf("resolving %s: %w", r.o.CatalogImage, err)
		}
		if r.last != nil && r.last.Digest == d.Digest.String() {
			return nil
		}
		// Pull what was resolved, from where it was found: the tag may
		// move again meanwhile.
		served, err := imageref.Parse(d.Reference)
		if err != nil {
			return err
		}
		sources = []string{served.Name() + "@" + d.Digest.String()}
	}
	start := time.Now()
	got, err := registry.FromSources(ctx, sources, func(ctx context.Context, src string) (loaded, error) {
		return pull(ctx, c, src)
	})
	if err != nil {
		return fmt.Errorf("pulling %s: %w", r.o.CatalogImage, err)
	}
	st, err := r.s.Load(got.cfg)
	if err != nil {
		return fmt.Errorf("%s (%s): %w", r.o.CatalogImage, got.servedBy, err)
	}
	r.last = &pulled{Reference: r.o.CatalogImage, Digest: got.digest, ServedBy: got.servedBy}
	r.o.Log.Info("catalog loaded", "catalog", r.o.CatalogImage, "digest", got.digest, "servedBy", got.servedBy,
		"packages", st.Packages, "channels", st.Channels, "bundles", st.Bundles, "took", time.Since(start).Round(time.Millisecond).String())
	r.saveCache(got.cfg)
	// The image's layers and the parsed catalog are garbage now; a server
	// holds the view for hours, so the heap they took goes back to the
	// system at once rather than when the scavenger gets to it.
	got.cfg = nil
	debug.FreeOSMemory()
	return nil
}

// loaded is one pulled catalog.
type loaded struct {
	cfg      *catalog.Config
	digest   string
	servedBy string
}

// pull reads the catalog of the image at ref: of a multi-architecture
// image, its image for this platform (every image of a catalog index
// holds the same catalog).
func pull(ctx context.Context, c *registry.Client, ref string) (loaded, error) {
	img, err := c.Image(ctx, ref, v1.Platform{})
	if err != nil {
		return loaded{}, err
	}
	digest, err := img.Digest()
	if err != nil {
		return loaded{}, err
	}
	if img.Index != nil {
		digest = img.Index.Digest
	}
	cfg, err := catalog.Load(ctx, img)
	if err != nil {
		return loaded{}, fmt.Errorf("%s: %w", ref, err)
	}
	return loaded{cfg: cfg, digest: digest.String(), servedBy: ref}, nil
}

// The cache directory holds the last catalog served, as one FBC stream,
// and where it came from.
const (
	cacheState   = "catalog-state.json"
	cacheCatalog = "fbc"
	cacheFile    = "catalog.json"
)

// loadCache serves the cached catalog when it was pulled for this catalog
// image.
func (r *runner) loadCache() {
	if r.o.CacheDir == "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(r.o.CacheDir, cacheState))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var p pulled
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	if err != nil || p.Reference != r.o.CatalogImage {
		if err != nil {
			r.o.Log.Error(err, "reading the catalog cache; it is not used", "cacheDir", r.o.CacheDir)
		}
		return
	}
	cfg, err := catalog.LoadFS(os.DirFS(filepath.Join(r.o.CacheDir, cacheCatalog)))
	if err == nil {
		_, err = r.s.Load(cfg)
	}
	if err != nil {
		r.o.Log.Error(err, "loading the cached catalog; it is not used", "cacheDir", r.o.CacheDir)
		return
	}
	r.last = &p
	r.o.Log.Info("cached catalog loaded", "catalog", p.Reference, "digest", p.Digest, "servedBy", p.ServedBy)
}

// saveCache writes cfg as the last catalog served. A failure costs the
// next restart its head start, nothing else.
func (r *runner) saveCache(cfg *catalog.Config) {
	if r.o.CacheDir == "" {
		return
	}
	err := func() error {
		files, err := catalog.Write(cfg)
		if err != nil {
			return err
		}
		var stream []byte
		for _, f := range files {
			stream = append(stream, f.Data...)
		}
		dir := filepath.Join(r.o.CacheDir, cacheCatalog)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		// The state is written last: a catalog without its state is
		// never used.
		_ = os.Remove(filepath.Join(r.o.CacheDir, cacheState))
		if err := atomicfile.WriteFile(filepath.Join(dir, cacheFile), stream, 0o644); err != nil {
			return err
		}
		state, _ := json.Marshal(r.last)
		return atomicfile.WriteFile(filepath.Join(r.o.CacheDir, cacheState), state, 0o644)
	}()
	if err != nil {
		r.o.Log.Error(err, "writing the catalog cache", "cacheDir", r.o.CacheDir)
	}
}
