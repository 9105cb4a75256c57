package releaseinfo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/lint"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// DefaultVerifyConcurrency bounds the images checked at once. The registry
// client also bounds requests per registry, so a higher value mostly helps
// when components are spread over several mirrors.
const DefaultVerifyConcurrency = 16

// CheckKind says what role an image plays in a release.
type CheckKind string

// The images a release needs.
const (
	// CheckRelease is the release image itself, by digest: HyperShift
	// runs the cluster-version-operator from it.
	CheckRelease CheckKind = "release"
	// CheckComponent is an image-references entry.
	CheckComponent CheckKind = "component"
	// CheckKubeVirt is the KubeVirt boot image (the boot image stream's
	// digest-ref), which image-references does not list.
	CheckKubeVirt CheckKind = "kubevirt"
)

// Note is a finding about an image that matters in a disconnected
// environment even when the image was reachable here. Code is the lint
// catalogue's (docs/semantics.md §9) where one applies.
type Note struct {
	// Code is the lint code (lint.CodeUnmirroredRepository,
	// CodeTagWithoutTagMirrors, CodeKubeVirtUnmirrored), empty for a plain
	// note.
	Code string
	// Message says what is wrong and what it breaks, naming the image and
	// the source.
	Message string
}

// Check is the outcome for one image of a release.
type Check struct {
	// Kind and Name identify the image: "release", a component name, or
	// "kubevirt".
	Kind CheckKind
	Name string
	// Image is the canonical reference checked.
	Image string
	// Source is the mirror-set source covering Image; empty when none does.
	Source string
	// SourceBlocked means that source is NeverContactSource.
	SourceBlocked bool
	// PullSources are the physical references tried, in order.
	PullSources []string
	// ServedBy is the pull source that had the manifest; empty on failure.
	ServedBy string
	// Digest is the manifest digest the serving source reported.
	Digest string
	// Unpinned means the payload references the image by tag.
	Unpinned bool
	// Err is why the image is missing: a *registry.SourcesError listing
	// every attempt, an *UnpullableError when no pull source is left, or a
	// reference that cannot be parsed or rewritten. Nil when served.
	Err error
	// Notes are disconnected-environment findings (tag references, images
	// no mirror covers).
	Notes []Note
}

// OK reports whether a pull source served the image.
func (c *Check) OK() bool { return c.Err == nil }

// Attempts lists each pull source's failure, in try order; empty when the
// image was served or nothing could be tried.
func (c *Check) Attempts() []*registry.Error {
	var se *registry.SourcesError
	if errors.As(c.Err, &se) {
		return se.Attempts
	}
	return nil
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Concurrency bounds the images checked at once; zero means
	// DefaultVerifyConcurrency.
	Concurrency int
	// Progress, when set, is called after each image with the number
	// checked so far and the total. Calls are serialised.
	Progress func(done, total int)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	// Release is the release read; nil when the release image itself could
	// not be read (Checks then holds only its check).
	Release *Release
	// Checks lists the release image, the components sorted by name and
	// the KubeVirt boot image.
	Checks []Check
}

// OK reports whether every image was served through a mirror: an image the
// source served because no mirror set covers it (HCM009, an error in the
// lint catalogue) is reachable from here but not in a disconnected data
// center, so it fails the check too.
func (r *VerifyReport) OK() bool { return len(r.Missing()) == 0 && len(r.Unmirrored()) == 0 }

// Unmirrored returns the checks whose repository no mirror set covers
// (HCM009), in report order.
func (r *VerifyReport) Unmirrored() []*Check {
	var out []*Check
	for i := range r.Checks {
		for _, n := range r.Checks[i].Notes {
			if n.Code == lint.CodeUnmirroredRepository {
				out = append(out, &r.Checks[i])
				break
			}
		}
	}
	return out
}

// Missing returns the checks no pull source served, in report order.
func (r *VerifyReport) Missing() []*Check {
	var out []*Check
	for i := range r.Checks {
		if !r.Checks[i].OK() {
			out = append(out, &r.Checks[i])
		}
	}
	return out
}

// Verify checks that everything a cluster pulls from the release named by
// image is reachable through mirrors: the release image (by its resolved
// digest, which is what HyperShift runs), every component, and the KubeVirt
// boot image. Each image gets a HEAD through its own pull sources, so a
// NeverContactSource source is never contacted, and an image is reported
// missing with each source's failure. Images shared by several components
// are asked for once.
//
// A release image that no source serves is not an error: the report holds
// that one failed check. Errors are for what stops verification itself: a
// malformed reference or payload, or ctx ending.
func (p *Provider) Verify(ctx context.Context, mirrors *mirrorset.Config, image string, pullSecret []byte, opts VerifyOptions) (*VerifyReport, error) {
	conc := opts.Concurrency
	if conc == 0 {
		conc = DefaultVerifyConcurrency
	}
	if conc < 0 {
		return nil, fmt.Errorf("verify concurrency %d is negative", conc)
	}
	if mirrors == nil {
		mirrors = emptyConfig
	}
	client, err := p.clientFor(pullSecret, secretID(pullSecret))
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{}
	rel, err := p.Lookup(ctx, mirrors, image, pullSecret)
	if err != nil {
		var se *registry.SourcesError
		var ue *UnpullableError
		if ctx.Err() != nil || !(errors.As(err, &se) || errors.As(err, &ue)) {
			return nil, err
		}
		c := Check{Kind: CheckRelease, Name: "release", Image: image}
		describe(&c, mirrors)
		c.Err = err
		noteTag(&c)
		rep.Checks = []Check{c}
		return rep, nil
	}
	rep.Release = rel
	rep.Checks = append(rep.Checks, Check{Kind: CheckRelease, Name: "release", Image: rel.Image})
	unpinned := map[string]bool{}
	for _, n := range rel.Unpinned {
		unpinned[n] = true
	}
	for _, n := range rel.ComponentNames() {
		rep.Checks = append(rep.Checks, Check{Kind: CheckComponent, Name: n, Image: rel.Components[n], Unpinned: unpinned[n]})
	}
	if rel.KubeVirt != "" {
		rep.Checks = append(rep.Checks, Check{Kind: CheckKubeVirt, Name: "kubevirt", Image: rel.KubeVirt})
	}

	// One HEAD per distinct image; the checks sharing it get its result.
	byImage := map[string][]int{}
	var order []string
	for i := range rep.Checks {
		c := &rep.Checks[i]
		describe(c, mirrors)
		if c.Err != nil {
			continue
		}
		if _, seen := byImage[c.Image]; !seen {
			order = append(order, c.Image)
		}
		byImage[c.Image] = append(byImage[c.Image], i)
	}
	var (
		mu   sync.Mutex
		done int
	)
	total := len(rep.Checks)
	progress := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		done += n
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	progress(countFailed(rep.Checks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, img := range order {
		idx := byImage[img]
		first := &rep.Checks[idx[0]]
		sources := first.PullSources
		g.Go(func() error {
			d, err := registry.FromSources(gctx, sources, client.Head)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			for _, i := range idx {
				c := &rep.Checks[i]
				if err != nil {
					c.Err = err
				} else {
					c.ServedBy, c.Digest = d.Reference, d.Digest.String()
				}
			}
			progress(len(idx))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("verifying release %s: %w", rel.Image, err)
	}
	for i := range rep.Checks {
		noteTag(&rep.Checks[i])
	}
	return rep, nil
}

func countFailed(checks []Check) int {
	n := 0
	for i := range checks {
		if checks[i].Err != nil {
			n++
		}
	}
	return n
}

// describe resolves a check's image and records where it would be pulled
// from, and the coverage finding that follows from that alone
// (lint.CheckCoverage, the rule lint --release applies too). An image that
// cannot be resolved gets its Err now and is not asked for.
func describe(c *Check, mirrors *mirrorset.Config) {
	ref, err := imageref.Parse(c.Image)
	if err != nil {
		c.Err = err
		return
	}
	res, err := mirrors.ResolveReference(ref)
	if err != nil {
		c.Err = err
		return
	}
	c.PullSources = res.References()
	c.SourceBlocked = res.SourceBlocked
	if res.Registry != nil {
		c.Source = res.Registry.Prefix
	}
	if len(c.PullSources) == 0 {
		c.Err = &UnpullableError{Reference: ref.String(), Source: c.Source}
	}
	if cov := lint.CheckCoverage(mirrors, ref, c.Kind == CheckKubeVirt); !cov.Covered() {
		c.Notes = append(c.Notes, Note{cov.Code, cov.Message(nil)})
	}
}

// noteTag adds, once the image was asked for, the note on a tag reference
// that tag mirrors cover: what it means depends on whether one served it.
func noteTag(c *Check) {
	ref, err := imageref.Parse(c.Image)
	if err != nil || ref.IsDigested() || len(c.Notes) > 0 {
		return
	}
	if c.OK() {
		c.Notes = append(c.Notes, Note{"", fmt.Sprintf("%s is referenced by tag: a tag mirror serves it, but a tag cannot be checked against the content and may move", ref)})
		return
	}
	c.Notes = append(c.Notes, Note{"", fmt.Sprintf("%s is referenced by tag and no tag mirror served it; a digest reference would let digest mirrors serve it and be checked against the content", ref)})
}
