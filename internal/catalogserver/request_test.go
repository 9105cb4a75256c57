package catalogserver_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hcpmirror/hcpmirror/internal/catalogserver"
)

// h2cClient speaks cleartext HTTP/2 with prior knowledge, as gRPC does.
func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}

// rawCall posts a request whose length prefix claims claim bytes, followed by
// body, and returns the grpc-status trailer. The body stays open until
// release is closed (nil: it ends after body).
func rawCall(t *testing.T, c *http.Client, addr string, claim uint32, body []byte, release <-chan struct{}) string {
	t.Helper()
	return rawCallPrefix(t, c, addr, claim, 5, release, body...)
}

// rawCallPrefix is rawCall sending only the first prefixLen bytes of the
// length prefix before body.
func rawCallPrefix(t *testing.T, c *http.Client, addr string, claim uint32, prefixLen int, release <-chan struct{}, body ...byte) string {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		var prefix [5]byte
		binary.BigEndian.PutUint32(prefix[1:], claim)
		_, _ = pw.Write(prefix[:prefixLen])
		_, _ = pw.Write(body)
		if release != nil {
			<-release
		}
		_ = pw.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api.Registry/ListPackages", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.Trailer.Get("Grpc-Status")
}

// TestRequestLength sends requests whose length prefix is larger than the
// body that follows, or than any request of the API: the stream ends with
// an error status, and a claim costs no memory until the bytes arrive.
func TestRequestLength(t *testing.T) {
	var s catalogserver.Server
	addr := serve(t, &s)
	c := h2cClient()
	for _, tc := range []struct {
		name  string
		claim uint32
		body  []byte
		want  string
	}{
		{"4 MiB claimed, no body", 4 << 20, nil, "8"},    // ResourceExhausted
		{"64 KiB + 1 claimed", 64<<10 + 1, nil, "8"},     // ResourceExhausted
		{"64 KiB claimed, no body", 64 << 10, nil, "13"}, // Internal, as a truncated message
		{"10 claimed, 3 sent", 10, []byte{1, 2, 3}, "13"},
		{"empty request", 0, nil, "0"}, // ListPackages on no catalog
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawCall(t, c, addr, tc.claim, tc.body, nil); got != tc.want && !(tc.want == "0" && got == "14") {
				t.Errorf("grpc-status %q, want %q", got, tc.want)
			}
		})
	}

	// Many open streams each claiming the most a request may be, with no
	// body yet, against as many stopped within the prefix (the control:
	// the transport's own cost per stream): the server must not hold a
	// buffer of the claimed size for each.
	if raceEnabled {
		t.Skip("the race detector distorts the heap measured")
	}
	const streams = 64
	open := func(prefixLen int) (allocated int64) {
		var before, during runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		release := make(chan struct{})
		var wg sync.WaitGroup
		codes := make([]string, streams)
		for i := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = rawCallPrefix(t, c, addr, 64<<10, prefixLen, release)
			}()
		}
		time.Sleep(500 * time.Millisecond) // the server has read what was sent
		runtime.GC()
		runtime.ReadMemStats(&during)
		close(release)
		wg.Wait()
		for i, code := range codes {
			if code != "13" {
				t.Errorf("stream %d (%d prefix bytes): grpc-status %q, want 13", i, prefixLen, code)
			}
		}
		return int64(during.HeapAlloc) - int64(before.HeapAlloc) // held while the streams are open
	}
	open(4) // warm-up: the connection's buffers
	control := open(4)
	claimed := open(5)
	t.Logf("%d streams: %d KiB more heap held with the 64 KiB claims read, %d KiB stopped within the prefix", streams, claimed>>10, control>>10)
	if extra, limit := claimed-control, int64(streams)*(64<<10)/2; extra > limit {
		t.Errorf("%d KiB more heap held for %d KiB claimed and not sent", extra>>10, streams*64)
	}
}
