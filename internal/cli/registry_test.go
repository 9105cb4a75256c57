package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write from the command's goroutine
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRegistryServeCommand(t *testing.T) {
	certDir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantScheme string
		wantStatus int // of GET /v2/ without credentials
	}{
		{name: "plain", args: nil, wantScheme: "http", wantStatus: http.StatusOK},
		{name: "tls", args: []string{"--tls"}, wantScheme: "https", wantStatus: http.StatusOK},
		{name: "tls-htpasswd-cert-dir", args: []string{"--htpasswd", "demo:demo-pass", "--cert-dir", certDir}, wantScheme: "https", wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stdout, stderr syncBuffer
			done := make(chan int, 1)
			go func() {
				args := append([]string{"registry", "serve", "--addr", "127.0.0.1:0"}, tt.args...)
				done <- Execute(ctx, args, strings.NewReader(""), &stdout, &stderr)
			}()
			var line string
			deadline := time.Now().Add(10 * time.Second)
			for line == "" {
				if time.Now().After(deadline) {
					t.Fatalf("no address printed; stdout %q, stderr %q", stdout.String(), stderr.String())
				}
				if first, _, ok := strings.Cut(stdout.String(), "\n"); ok && strings.Contains(stdout.String(), "press Ctrl-C") {
					line = first
				}
				time.Sleep(time.Millisecond)
			}
			// "registry serving on 127.0.0.1:PORT (scheme)"
			fields := strings.Fields(line)
			if len(fields) != 5 || fields[4] != "("+tt.wantScheme+")" {
				t.Fatalf("first line = %q, want the address and (%s)", line, tt.wantScheme)
			}
			addr := fields[3]

			client := &http.Client{Timeout: 10 * time.Second}
			if tt.wantScheme == "https" {
				_, caLine, ok := strings.Cut(stdout.String(), "CA certificate: ")
				if !ok {
					t.Fatalf("no CA path printed:\n%s", stdout.String())
				}
				caFile, _, _ := strings.Cut(caLine, "\n")
				if strings.Contains(strings.Join(tt.args, " "), "--cert-dir") && caFile != filepath.Join(certDir, "ca.crt") {
					t.Errorf("CA file = %s, want it in --cert-dir %s", caFile, certDir)
				}
				pem, err := os.ReadFile(caFile)
				if err != nil {
					t.Fatal(err)
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					t.Fatalf("%s holds no certificate", caFile)
				}
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			}
			resp, err := client.Get(tt.wantScheme + "://" + addr + "/v2/")
			if err != nil {
				t.Fatalf("GET /v2/: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("GET /v2/ = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			client.CloseIdleConnections()

			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit status = %d, want 0 on interrupt; stderr %q", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("registry serve did not stop when interrupted")
			}
		})
	}

	t.Run("bad-htpasswd", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := Execute(t.Context(), []string{"registry", "serve", "--addr", "127.0.0.1:0", "--htpasswd", "nopassword"}, strings.NewReader(""), &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "--htpasswd: want USER:PASSWORD") {
			t.Errorf("exit %d, stderr %q; want 1 and the flag named", code, stderr.String())
		}
	})
}
