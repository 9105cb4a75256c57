package registry

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slowBody sends n chunks, waiting gap before each.
type slowBody struct {
	n   int
	gap time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(b.gap)
	b.n--
	return copy(p, "0123456789"), nil
}

// TestUploadTimeout: an attempt's timeout does not count the time its body
// takes to send, as long as the body moves; a stalled body and a registry
// that hangs after the last byte are still cut.
func TestUploadTimeout(t *testing.T) {
	t.Parallel()
	// Wide margins: the suite runs on loaded machines.
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name     string
		body     io.Reader
		hang     time.Duration // server wait after reading the body
		wantFail bool
	}{
		{name: "upload of 5x the timeout, moving", body: &slowBody{n: 30, gap: 50 * time.Millisecond}},
		{name: "body stalls", body: &slowBody{n: 2, gap: 3 * timeout}, wantFail: true},
		{name: "server hangs after the body", body: strings.NewReader("layer"), hang: 3 * timeout, wantFail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				select {
				case <-time.After(tc.hang):
				case <-r.Context().Done():
					return
				}
				w.WriteHeader(http.StatusCreated)
			}))
			t.Cleanup(srv.Close)
			rt := &retryTransport{inner: srv.Client().Transport, timeout: timeout}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.URL+"/v2/a/blobs/uploads/1", io.NopCloser(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			resp, err := rt.RoundTrip(req)
			if resp != nil {
				_ = resp.Body.Close()
			}
			if tc.wantFail {
				if !errors.Is(err, errAttemptTimeout) {
					t.Fatalf("RoundTrip = %v, want a timeout", err)
				}
				return
			}
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("RoundTrip after %v = %v, %v; want 201", time.Since(start), resp, err)
			}
			if d := time.Since(start); d < 4*timeout {
				t.Errorf("upload took %v: not slower than the timeout, the test proves nothing", d)
			}
		})
	}
}
