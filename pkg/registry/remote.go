package registry

import (
	"context"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RemoteOptions returns go-containerregistry options that send requests
// through this Client's credentials, trust, retries and per-registry limits.
// Code that drives go-containerregistry itself, such as synthrelease.Publish,
// then pushes with the same --authfile, --ca-file and --insecure-registry
// handling as every other command instead of a second, differently
// configured HTTP stack. ctx bounds every request made with them. It is the
// one way hcpmirror pushes: the Client itself only reads.
func (c *Client) RemoteOptions(ctx context.Context) []remote.Option {
	return c.remoteOptions(ctx)
}
