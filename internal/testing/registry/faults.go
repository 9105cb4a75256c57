package registry

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// firstN returns a function that is true for its first n calls (every call
// when n is negative), safe for concurrent requests.
func firstN(n int) func() bool {
	var (
		mu   sync.Mutex
		left = n
	)
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		if left == 0 {
			return false
		}
		if left > 0 {
			left--
		}
		return true
	}
}

// Respond answers the first n requests that reach it with status, the given
// headers and an OCI error body, then lets requests through. A negative n
// answers every request. Use it for rate limits (429 with Retry-After),
// server errors (5xx) and denied access.
func Respond(n int, status int, header http.Header) Middleware {
	take := firstN(n)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !take() {
				next.ServeHTTP(w, r)
				return
			}
			for k, vs := range header {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			writeOCIError(w, status)
		})
	}
}

// DropConnections closes the connection of the first n requests that reach
// it without writing a response, like a load balancer resetting a backend.
// A negative n drops every request.
func DropConnections(n int) Middleware {
	take := firstN(n)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !take() {
				next.ServeHTTP(w, r)
				return
			}
			hj, ok := w.(http.Hijacker)
			if !ok {
				// Registries here speak HTTP/1.1 only, so this does
				// not happen; answer with an error rather than hang.
				writeOCIError(w, http.StatusBadGateway)
				return
			}
			conn, _, err := hj.Hijack()
			if err != nil {
				return
			}
			_ = conn.Close()
		})
	}
}

// Delay holds every request for d before serving it. It gives up early when
// the client goes away, so a cancelled client never leaves a handler behind.
func Delay(d time.Duration) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				next.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		})
	}
}

// Hold blocks every request until release is closed (then serves it) or the
// client goes away. Tests use it to catch a request in flight, for example
// to cancel it, without sleeping.
func Hold(release <-chan struct{}) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
				next.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		})
	}
}

// When applies mw only to requests for which match reports true; others go
// straight to the registry. With it a fault can target manifests and leave
// the /v2/ ping and blobs alone.
func When(match func(*http.Request) bool, mw Middleware) Middleware {
	return func(next http.Handler) http.Handler {
		faulty := mw(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(r) {
				faulty.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ManifestRequests matches requests for manifests (by tag or digest), the
// requests that decide which mirror serves an image. Pushes match too: a
// fault meant for pulls is best installed after the test images are pushed,
// or combined with a method check.
func ManifestRequests(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v2/") && strings.Contains(r.URL.Path, "/manifests/")
}

// BlobRequests matches requests for blobs (configs and layers), not uploads.
func BlobRequests(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v2/") && strings.Contains(r.URL.Path, "/blobs/") &&
		!strings.Contains(r.URL.Path, "/blobs/uploads")
}

// writeOCIError writes an error body in the distribution-spec format, so a
// client sees the same shape a real registry would send for that status.
func writeOCIError(w http.ResponseWriter, status int) {
	code := "UNKNOWN"
	switch status {
	case http.StatusUnauthorized:
		code = "UNAUTHORIZED"
	case http.StatusForbidden:
		code = "DENIED"
	case http.StatusNotFound:
		code = "NAME_UNKNOWN"
	case http.StatusTooManyRequests:
		code = "TOOMANYREQUESTS"
	case http.StatusServiceUnavailable:
		code = "UNAVAILABLE"
	}
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]string{{"code": code, "message": "injected by test: " + http.StatusText(status)}},
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Switch is a fault installed after the registry started: tests push images
// first (a fault on manifests would hit the pushes too), learn their digests,
// then Set the fault that targets them. Pass Switch.Wrap to WithHandler.
type Switch struct {
	mu sync.Mutex
	mw Middleware
}

// Set replaces the active fault; nil removes it.
func (s *Switch) Set(mw Middleware) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mw = mw
}

// Wrap is the Middleware to give WithHandler.
func (s *Switch) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		mw := s.mw
		s.mu.Unlock()
		if mw == nil {
			next.ServeHTTP(w, r)
			return
		}
		mw(next).ServeHTTP(w, r)
	})
}
