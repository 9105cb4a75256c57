package registry

import (
	"context"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
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

// PushClient returns an HTTP client that sends requests to repo's registry
// through this Client's stack, authenticated with push and pull scope on
// repo, for a caller that speaks the distribution API itself (the mirror's
// one-request blob uploads, which go-containerregistry does not make).
// Sessions are shared with the Client's other requests.
func (c *Client) PushClient(ctx context.Context, repo name.Repository) (*http.Client, error) {
	return c.session(ctx, repo, transport.PushScope)
}
