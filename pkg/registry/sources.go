package registry

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The FromSources calls implement mirror fall-through: given the ordered
// physical references a resolver produced for one image (mirrors first,
// then the source unless it is never to be contacted), try each in order
// until one serves. Any failure moves on to the next reference, as
// containers/image does: a mirror that lacks the image, refuses the
// credentials, fails TLS, is down, or serves content that does not match
// the digest. Only the caller's context stops the walk early. References
// after the one that served are never contacted.
//
// The resolver's list is taken as plain strings so this package does not
// depend on how mirror sets are matched.

// HeadFromSources returns the descriptor from the first source that has
// the manifest. Descriptor.Reference tells which one.
func (c *Client) HeadFromSources(ctx context.Context, sources []string) (Descriptor, error) {
	return fromSources(ctx, sources, c.Head)
}

// ManifestFromSources returns the manifest from the first source that
// serves it (verified against the digest when the references carry one).
// Manifest.Reference tells which source served it.
func (c *Client) ManifestFromSources(ctx context.Context, sources []string) (*Manifest, error) {
	return fromSources(ctx, sources, c.Manifest)
}

// ImageFromSources resolves the image for platform from the first source
// that serves both the requested manifest and, for an index, the platform's
// manifest; a mirror with an incomplete copy of an index is passed over.
// Image.Reference tells which source served it; config and layers are read
// from there.
func (c *Client) ImageFromSources(ctx context.Context, sources []string, platform v1.Platform) (*Image, error) {
	return fromSources(ctx, sources, func(ctx context.Context, ref string) (*Image, error) {
		return c.Image(ctx, ref, platform)
	})
}

// fromSources runs get on each source in order. The result on total failure
// is a *SourcesError listing every attempt; on cancellation it is the
// attempt's *Error, whose chain holds the context's error.
func fromSources[T any](ctx context.Context, sources []string, get func(context.Context, string) (T, error)) (T, error) {
	var zero T
	if len(sources) == 0 {
		return zero, &SourcesError{}
	}
	attempts := make([]*Error, 0, len(sources))
	for _, src := range sources {
		v, err := get(ctx, src)
		if err == nil {
			return v, nil
		}
		e, ok := err.(*Error)
		if !ok {
			e = &Error{Reference: src, Kind: Other, Err: err}
		}
		if ctx.Err() != nil {
			return zero, e
		}
		attempts = append(attempts, e)
	}
	return zero, &SourcesError{Attempts: attempts}
}
