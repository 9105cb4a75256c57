package registry

import (
	"context"
	"net/http"
)

// WrapError classifies err, returned by go-containerregistry calls made with
// RemoteOptions, as the *Error for ref on registry (host[:port]), with the
// Client's redaction applied: code that drives go-containerregistry itself,
// such as the mirror copy engine, reports failures in the same terms as the
// Client's own calls.
func (c *Client) WrapError(ctx context.Context, ref, registry string, err error) *Error {
	return c.fail(ctx, ref, registry, err)
}

// HTTPTransport is the Client's HTTP stack (trust, retries, per-host limits,
// no registry authentication), for other HTTPS services a command talks to
// with the same --ca-file and --cert-dir, such as an update service.
func (c *Client) HTTPTransport() http.RoundTripper { return c.rt }
