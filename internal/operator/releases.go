package operator

import (
	"context"

	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// Releases adapts a releaseinfo.Provider to the controller: lookups go
// through the current mirror sets with each HostedCluster's pull secret,
// cached per (image, pull secret, resolved pull sources, platform).
func Releases(p *releaseinfo.Provider) hostedcluster.ReleaseProvider { return releases{p} }

type releases struct{ p *releaseinfo.Provider }

func (r releases) Lookup(ctx context.Context, mirrors *mirrorset.Config, image string, pullSecret []byte) (*hostedcluster.Release, error) {
	rel, err := r.p.Lookup(ctx, mirrors, image, pullSecret)
	if err != nil {
		return nil, err
	}
	return &hostedcluster.Release{Image: rel.Image, Version: rel.Version, ServedBy: rel.ServedBy, Components: rel.Components}, nil
}
