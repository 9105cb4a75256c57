package registry

import (
	"context"
	"errors"
)

// FromSources is mirror fall-through, the one implementation of "try each
// pull source in turn" in hcpmirror: given the ordered physical references
// a resolver produced for one image (mirrors first, then the source unless
// it is never to be contacted), it runs get on each in order until one
// serves. Any *Error moves on to the next reference, as containers/image
// does: a mirror that lacks the image, refuses the credentials, fails TLS,
// is down, or serves content that does not match the digest. An error that
// is not an *Error (content that was read but is malformed, which every
// source would serve alike) ends the walk and is returned as is, and so
// does the caller's context ending. References after the one that served
// are never contacted.
//
// get is typically a Client method (Head, Manifest) or a closure around
// Image that also reads what the caller needs, so that a source with an
// incomplete copy is passed over like one without the manifest. The
// resolver's list is taken as plain strings so this package does not depend
// on how mirror sets are matched.
//
// On total failure the error is a *SourcesError listing every attempt; on
// cancellation it is the attempt's *Error, whose chain holds the context's
// error.
func FromSources[T any](ctx context.Context, sources []string, get func(ctx context.Context, ref string) (T, error)) (T, error) {
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
		var e *Error
		if !errors.As(err, &e) {
			return zero, err
		}
		if ctx.Err() != nil {
			return zero, e
		}
		attempts = append(attempts, e)
	}
	return zero, &SourcesError{Attempts: attempts}
}
