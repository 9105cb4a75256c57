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

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/pkg/release"
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
		{name: "htpasswd-file", args: []string{"--htpasswd-file", credentialsFile(t, "demo:from-a-file\n")}, wantScheme: "http", wantStatus: http.StatusUnauthorized},
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

	for _, tc := range []struct {
		name, args, want string
		code             int
	}{
		{"bad-htpasswd", "--htpasswd nopassword", "--htpasswd: want USER:PASSWORD", 1},
		{"bad-htpasswd-file", "--htpasswd-file " + credentialsFile(t, "nopassword\n"), "want USER:PASSWORD", 1},
		{"empty-htpasswd-file", "--htpasswd-file " + credentialsFile(t, "\n"), "first line empty, want USER:PASSWORD", 1},
		// Flags that exclude each other are a usage error, as in hcpmirror.
		{"both", "--htpasswd a:b --htpasswd-file " + credentialsFile(t, "a:b"), "none of the others can be", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Execute(t.Context(), append([]string{"registry", "serve", "--addr", "127.0.0.1:0"}, strings.Fields(tc.args)...), strings.NewReader(""), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}

// credentialsFile writes content to a private file and returns its path.
func credentialsFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// served is a running `registry serve` and what it printed.
type served struct {
	addr, caFile, authFile, out string
	stop                        func()
}

// serve runs `registry serve` with args until the test ends or stop is
// called, and waits for it to print where it is.
func serve(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, append([]string{"registry", "serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), &stdout, &stderr)
	}()
	stopped := false
	s := &served{stop: func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("registry serve: exit %d on interrupt, stderr %q", code, stderr.String())
		}
	}}
	t.Cleanup(s.stop)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("registry serve printed no address; stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	s.out = stdout.String()
	for _, line := range strings.Split(s.out, "\n") {
		if v, ok := strings.CutPrefix(line, "registry serving on "); ok {
			s.addr, _, _ = strings.Cut(v, " ")
		}
		if v, ok := strings.CutPrefix(line, "CA certificate: "); ok {
			s.caFile = v
		}
		if v, ok := strings.CutPrefix(line, "auth file: "); ok {
			s.authFile = v
		}
	}
	return s
}

// TestRegistryServeDataDir publishes a release with the command lines
// `registry serve` prints (its CA, its auth file), restarts the registry on
// the same --data-dir, and pulls the release and a component back.
func TestRegistryServeDataDir(t *testing.T) {
	cliEnv(t)
	data := filepath.Join(t.TempDir(), "registry")
	creds := credentialsFile(t, "lab:lab-password\n")
	args := []string{"--tls", "--htpasswd-file", creds, "--data-dir", data}
	first := serve(t, args...)
	if first.caFile == "" || first.authFile != filepath.Join(data, "auth.json") {
		t.Fatalf("serve printed CA %q, auth file %q; want both, the auth file in %s:\n%s", first.caFile, first.authFile, data, first.out)
	}
	if strings.Contains(first.out, "lab-password") {
		t.Errorf("serve printed the password:\n%s", first.out)
	}
	for _, want := range []string{
		"hcpmirror-lab release publish --to " + first.addr + " --ca-file " + first.caFile + " --authfile " + first.authFile,
		"hcpmirror verify -f mirrorsets.yaml --ca-file " + first.caFile + " --authfile " + first.authFile,
		"images are kept in " + data,
	} {
		if !strings.Contains(first.out, want) {
			t.Errorf("serve output lacks %q:\n%s", want, first.out)
		}
	}
	ms := filepath.Join(t.TempDir(), "mirrorsets.yaml")
	var stdout, stderr bytes.Buffer
	if code := Execute(t.Context(), []string{"release", "publish", "--to", first.addr, "--ca-file", first.caFile, "--authfile", first.authFile, "--components", "3", "--mirrorsets-out", ms}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("publish with the printed flags: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	var mirror string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "mirror:  "); ok {
			mirror = v
		}
	}
	first.stop()

	second := serve(t, args...) // most likely on another port
	if second.caFile != first.caFile || second.authFile != first.authFile {
		t.Errorf("after a restart: CA %s, auth file %s; want the same files as before, %s and %s", second.caFile, second.authFile, first.caFile, first.authFile)
	}
	ca, err := os.ReadFile(first.caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	pull := func(ref string) v1.Image {
		t.Helper()
		r, err := name.ParseReference(strings.Replace(ref, first.addr, second.addr, 1))
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(r, remote.WithTransport(tr), remote.WithContext(t.Context()),
			remote.WithAuth(&authn.Basic{Username: "lab", Password: "lab-password"}))
		if err != nil {
			t.Fatalf("pulling %s after a restart: %v", r, err)
		}
		return img
	}
	p, err := release.Parse(pull(mirror))
	if err != nil {
		t.Fatalf("release after a restart: %v", err)
	}
	if len(p.Components) != 3 {
		t.Errorf("release after a restart has %d components, want 3", len(p.Components))
	}
	_, digest, _ := strings.Cut(p.Components[1].Image, "@")
	if _, err := pull(first.addr + "/openshift/release@" + digest).RawManifest(); err != nil {
		t.Errorf("component %s after a restart: %v", p.Components[1].Name, err)
	}
	// The auth file now names the new address.
	auth, err := os.ReadFile(second.authFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(auth), `"`+second.addr+`"`) || second.addr != first.addr && strings.Contains(string(auth), first.addr) {
		t.Errorf("auth file after a restart = %s, want an entry for %s only", auth, second.addr)
	}
}
