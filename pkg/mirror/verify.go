package mirror

import (
	"context"
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// CheckAdditional is the kind of an additionalImages check.
const CheckAdditional releaseinfo.CheckKind = "additional"

// CheckOperator is the kind of a bundle or related image check.
const CheckOperator releaseinfo.CheckKind = "operator"

// VerifyImageSetOptions configures VerifyImageSet.
type VerifyImageSetOptions struct {
	Graphs   GraphSource
	GraphURL string
	releaseinfo.VerifyOptions
}

// VerifyImageSet answers `verify -c`: is every image isc names reachable
// through mirrors? Releases come from the update graph (the same selection
// as a mirror run) or platform.release; each is verified as `verify
// --release` verifies one (release image, components, KubeVirt image, read
// through the mirrors), then every additionalImages entry not blocked, and
// every bundle and related image the operators entries keep, gets a HEAD
// through its pull sources. Catalogs are read (and filtered as a mirror run
// filters them) from their source, so the upstream catalog must be
// reachable from where verify runs; one that is not is a failed check
// naming it. The checks of all releases form one
// report; each check's Name starts with its release version. Release is the
// first release's.
func VerifyImageSet(ctx context.Context, p *releaseinfo.Provider, c *registry.Client, mirrors *mirrorset.Config, isc *imageset.ImageSetConfiguration, o VerifyImageSetOptions) (*releaseinfo.VerifyReport, error) {
	var refs []string
	pl := isc.Mirror.Platform
	if pl.Release != "" {
		refs = append(refs, pl.Release)
	}
	graphs := o.Graphs
	if graphs == nil {
		graphs = &cincinnati.Client{}
	}
	for ci, ch := range pl.Channels {
		for _, arch := range pl.Archs() {
			g, err := graphs.Graph(ctx, cincinnati.URL(o.GraphURL, ch.Type), ch.Name, arch)
			if err != nil {
				return nil, fmt.Errorf("mirror.platform.channels[%d] (%s): %w", ci, ch.Name, err)
			}
			nodes, err := cincinnati.Select(g, cincinnati.Selection{MinVersion: ch.MinVersion, MaxVersion: ch.MaxVersion, ShortestPath: ch.ShortestPath, Full: ch.Full})
			if err != nil {
				return nil, fmt.Errorf("mirror.platform.channels[%d] (%s, %s): %w", ci, ch.Name, arch, err)
			}
			for _, n := range nodes {
				refs = append(refs, n.Payload)
			}
		}
	}
	out := &releaseinfo.VerifyReport{}
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		rep, err := p.Verify(ctx, mirrors, ref, nil, o.VerifyOptions)
		if err != nil {
			return nil, err
		}
		if out.Release == nil {
			out.Release = rep.Release
		}
		prefix := ref + " "
		if rep.Release != nil {
			prefix = rep.Release.Version + " "
		}
		for _, ch := range rep.Checks {
			if !pl.KubeVirtContainer && ch.Kind == releaseinfo.CheckKubeVirt {
				continue
			}
			ch.Name = prefix + ch.Name
			out.Checks = append(out.Checks, ch)
		}
	}
	plan := &Plan{}
	if err := plan.planAdditional(isc); err != nil {
		return nil, err
	}
	// A catalog that cannot be read (its source unreachable from here) is
	// a failed check naming it, not the end of the report.
	for i, op := range isc.Mirror.Operators {
		if err := plan.planCatalog(ctx, c, op); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			out.Checks = append(out.Checks, releaseinfo.Check{Kind: CheckOperator, Name: op.Catalog, Image: op.Catalog,
				Err: fmt.Errorf("mirror.operators[%d]: reading the catalog to list its bundles: %w", i, err)})
		}
	}
	if err := plan.block(isc); err != nil {
		return nil, err
	}
	if err := plan.dedupe(); err != nil {
		return nil, err
	}
	for _, im := range plan.Images {
		kind := CheckAdditional
		switch im.Kind {
		case KindCatalog:
			// Clusters reach catalogs through their CatalogSource, not
			// through mirror sets; what they serve is checked below.
			continue
		case KindBundle, KindRelated:
			kind = CheckOperator
		}
		ch := releaseinfo.Check{Kind: kind, Name: im.Source, Image: im.Source}
		res, err := mirrors.Resolve(im.Source)
		if err != nil {
			ch.Err = err
			out.Checks = append(out.Checks, ch)
			continue
		}
		ch.PullSources = res.References()
		ch.SourceBlocked = res.SourceBlocked
		if res.Registry != nil {
			ch.Source = res.Registry.Prefix
		} else {
			ch.Notes = append(ch.Notes, releaseinfo.Note{Code: "HCM009", Message: fmt.Sprintf("%s: no mirror set covers %s: it is pulled from its source", im.Source, res.Reference.Name())})
		}
		if len(ch.PullSources) == 0 {
			ch.Err = &releaseinfo.UnpullableError{Reference: res.Reference.String(), Source: ch.Source}
			out.Checks = append(out.Checks, ch)
			continue
		}
		d, err := registry.FromSources(ctx, ch.PullSources, c.Head)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			ch.Err = err
		} else {
			ch.ServedBy, ch.Digest = d.Reference, d.Digest.String()
		}
		out.Checks = append(out.Checks, ch)
	}
	return out, nil
}
