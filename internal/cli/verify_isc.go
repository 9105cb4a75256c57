package cli

import (
	"context"
	"net/http"

	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/mirror"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// verifyImageSet is `verify -c ISC.yaml`: the releases, KubeVirt images,
// additional images and operator bundle and related images the
// configuration names, checked through the mirrors.
func verifyImageSet(ctx context.Context, p *releaseinfo.Provider, cfg *mirrorset.Config, path, graphURL string, reg registryFlags, opts releaseinfo.VerifyOptions) (*releaseinfo.VerifyReport, error) {
	isc, _, err := imageset.Load(path)
	if err != nil {
		return nil, err
	}
	c, err := registry.New(reg.options()...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	graphs := &cincinnati.Client{HTTP: &http.Client{Transport: graphTransport{tls: c.HTTPTransport()}}}
	return mirror.VerifyImageSet(ctx, p, c, cfg, isc, mirror.VerifyImageSetOptions{Graphs: graphs, GraphURL: graphURL, VerifyOptions: opts})
}
