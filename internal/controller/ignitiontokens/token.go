package ignitiontokens

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The token Secret's shape, as the contract between the control-plane
// components fixes it (docs/semantics.md §7.2).
const (
	// TokenLabel marks token Secrets; the ignition server watches by it.
	TokenLabel = "hcpmirror.io/ignition-token"
	// NodePoolAnnotation names the pool, "namespace/name", as HyperShift does.
	NodePoolAnnotation = "hypershift.openshift.io/node-pool"
	// IssuedAnnotation is when the current token was made (RFC 3339).
	IssuedAnnotation = "hcpmirror.io/token-issued"
	// PreviousExpiresAnnotation is until when PreviousTokenKey is accepted.
	PreviousExpiresAnnotation = "hcpmirror.io/previous-token-expires"

	TokenKey         = "token"
	PreviousTokenKey = "previous-token"
	ReleaseKey       = "release"
	ConfigKey        = "config"
)

// SecretName is the token Secret of a pool: "token-<pool>-<hash>", the
// hash being 8 hex characters of SHA-256 over the release image and the
// config, so that a new release or config gets a new Secret (and token).
func SecretName(pool, release string, config []byte) string {
	h := sha256.New()
	h.Write([]byte(release))
	h.Write([]byte{0})
	h.Write(config)
	return "token-" + pool + "-" + hex.EncodeToString(h.Sum(nil))[:8]
}

// newToken is 32 random bytes, hex-encoded: the exact bearer value.
func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// rotate brings s's token in line with the clock: a missing token is
// issued, one older than every is replaced (the old value kept in
// PreviousTokenKey for grace), and a previous token past its expiry is
// dropped. It reports whether s changed and when it next needs looking at.
func rotate(s *corev1.Secret, now time.Time, every, grace time.Duration) (changed bool, next time.Time) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	issued, err := time.Parse(time.RFC3339, s.Annotations[IssuedAnnotation])
	switch {
	case len(s.Data[TokenKey]) == 0 || err != nil:
		s.Data[TokenKey] = []byte(newToken())
		issued, changed = now, true
	case !now.Before(issued.Add(every)):
		s.Data[PreviousTokenKey] = s.Data[TokenKey]
		s.Data[TokenKey] = []byte(newToken())
		s.Annotations[PreviousExpiresAnnotation] = now.Add(grace).UTC().Format(time.RFC3339)
		issued, changed = now, true
	}
	if changed {
		s.Annotations[IssuedAnnotation] = issued.UTC().Format(time.RFC3339)
	}
	next = issued.Add(every)
	if _, ok := s.Data[PreviousTokenKey]; ok {
		expires, err := time.Parse(time.RFC3339, s.Annotations[PreviousExpiresAnnotation])
		if err != nil || !now.Before(expires) {
			delete(s.Data, PreviousTokenKey)
			delete(s.Annotations, PreviousExpiresAnnotation)
			changed = true
		} else if expires.Before(next) {
			next = expires
		}
	}
	return changed, next
}
