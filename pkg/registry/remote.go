package registry

import (
	"context"
	"fmt"
	"net/http"
	"slices"

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
//
// Each repository of mountFrom (of the same registry, other than repo)
// adds pull scope on it to the token: a registry with token auth refuses a
// cross-repository mount (POST .../blobs/uploads/?mount=...&from=...) whose
// token cannot pull from the source repository, as Docker's token
// specification has it. Sessions are shared with the Client's other
// requests and keyed by their scope set, so the many mounts from one
// repository into another make one token exchange between them.
func (c *Client) PushClient(ctx context.Context, repo name.Repository, mountFrom ...name.Repository) (*http.Client, error) {
	scopes := []string{repo.Scope(transport.PushScope)}
	for _, f := range mountFrom {
		if f.RegistryStr() != repo.RegistryStr() {
			return nil, fmt.Errorf("mount from %s into %s: not the same registry", f, repo)
		}
		if s := f.Scope(transport.PullScope); f.RepositoryStr() != repo.RepositoryStr() && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return c.session(ctx, repo, scopes)
}
