package olmcatalogs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// MinorFallback is how many earlier minors are tried when a catalog tag is
// missing, as HyperShift does.
const MinorFallback = 3

// PinnedCatalog is one catalog resolved to a digest.
type PinnedCatalog struct {
	Catalog string `json:"catalog"`
	// Tag is the image asked for: the default image, overridden.
	Tag string `json:"tag"`
	// Served is the physical reference that answered (a mirror, or the
	// source).
	Served string `json:"served"`
	// Digest is the manifest digest the tag pointed at.
	Digest string `json:"digest"`
	// Pin is the annotation value: the serving repository by digest, so it
	// pulls from where it was found even without digest mirrors.
	Pin string `json:"pin"`
}

// HeadFunc asks a registry for a manifest's descriptor; registry.Client.Head.
type HeadFunc func(ctx context.Context, ref string) (registry.Descriptor, error)

// Pin resolves the four catalogs' tags for release 4.minor to digests: each
// default image with the override annotation value applied (candidates in
// order), each candidate through cfg's pull sources (nil: pulled as named);
// when no candidate has the tag, up to MinorFallback earlier minors. Every
// catalog must resolve, or the error names each that did not: pins are all
// or none.
func Pin(ctx context.Context, cfg *mirrorset.Config, head HeadFunc, overridesValue string, minor int) ([]PinnedCatalog, error) {
	o, err := ParseOverrides(overridesValue)
	if err != nil {
		return nil, err
	}
	var out []PinnedCatalog
	var errs []error
	for _, c := range Catalogs {
		p, err := pinOne(ctx, cfg, head, o, c, minor)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("catalog %s: %w", c.Name, err))
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func pinOne(ctx context.Context, cfg *mirrorset.Config, head HeadFunc, o *Overrides, c Catalog, minor int) (PinnedCatalog, error) {
	var errs []error
	if minor > MaxMinor {
		minor = MaxMinor
	}
	for m := minor; m >= 0 && m >= minor-MinorFallback; m-- {
		cands, err := o.Candidates(c.DefaultImage(m))
		if err != nil {
			return PinnedCatalog{}, err
		}
		for _, cand := range cands {
			sources := []string{cand}
			if cfg != nil {
				res, err := cfg.Resolve(cand)
				if err != nil {
					return PinnedCatalog{}, err
				}
				sources = res.References()
			}
			d, err := registry.FromSources(ctx, sources, head)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", cand, err))
				continue
			}
			served, err := imageref.Parse(d.Reference)
			if err != nil {
				return PinnedCatalog{}, fmt.Errorf("%s served as %q: %w", cand, d.Reference, err)
			}
			pin := served.Name() + "@" + d.Digest.String()
			if _, err := ParsePin(pin); err != nil {
				return PinnedCatalog{}, fmt.Errorf("%s: digest %s %w", cand, d.Digest, err)
			}
			return PinnedCatalog{Catalog: c.Name, Tag: cand, Served: d.Reference, Digest: d.Digest.String(), Pin: pin}, nil
		}
	}
	return PinnedCatalog{}, errors.Join(errs...)
}

// PinAnnotations are the four pin annotations for pins.
func PinAnnotations(pins []PinnedCatalog) map[string]string {
	out := map[string]string{}
	for _, p := range pins {
		for _, c := range Catalogs {
			if c.Name == p.Catalog {
				out[c.PinAnnotation()] = p.Pin
			}
		}
	}
	return out
}

// OverridesFromConfig derives the override annotation from the management
// mirror sets, as sync-ics derives imageContentSources: for every source
// that covers a default catalog repository, the source and each of its
// mirrors in try order (repeated keys are ordered candidates). Only sources
// matching a catalog are written; a catalog no source covers is pulled as
// named. The result is "" when no source covers any catalog.
func OverridesFromConfig(cfg *mirrorset.Config) string {
	seen := map[string]bool{}
	var pairs []string
	for _, c := range Catalogs {
		r := cfg.Find(c.Repository())
		if r == nil || seen[r.Prefix] || mirrorset.IsWildcard(r.Prefix) {
			continue
		}
		seen[r.Prefix] = true
		for _, m := range mirrorset.DedupMirrors(append(append([]string{}, r.DigestMirrors...), r.TagMirrors...)) {
			if m != r.Prefix {
				pairs = append(pairs, r.Prefix+"="+m)
			}
		}
	}
	s := ""
	for i, p := range pairs {
		if i > 0 {
			s += ","
		}
		s += p
	}
	return s
}
