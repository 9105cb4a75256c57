package registry

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// remoteOpts reaches r: its CA, its credentials.
func remoteOpts(t *testing.T, r *Registry) []remote.Option {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.CertPool}}
	t.Cleanup(tr.CloseIdleConnections)
	var auth authn.Authenticator = authn.Anonymous
	if r.Username != "" {
		auth = &authn.Basic{Username: r.Username, Password: r.Password}
	}
	return []remote.Option{remote.WithTransport(tr), remote.WithAuth(auth), remote.WithContext(t.Context())}
}

// TestDataDirSurvivesRestart pushes to a registry, stops it, starts another
// on the same data directory (another port) and pulls the image back by tag
// and by digest, blobs included, trusting the CA the first one had.
func TestDataDirSurvivesRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"tls and basic auth", []Option{WithTLS(), WithBasicAuth("lab", "lab-password")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			opts := append([]Option{WithDataDir(dir)}, tc.opts...)
			first, err := Listen("127.0.0.1:0", opts...)
			if err != nil {
				t.Fatal(err)
			}
			img, err := random.Image(512, 2)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := name.NewTag(first.Ref("lab/app:v1"))
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(tag, img, remoteOpts(t, first)...); err != nil {
				t.Fatalf("pushing %s: %v", tag, err)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}

			second, err := Listen("127.0.0.1:0", opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = second.Close() })
			if second.CAFile != first.CAFile {
				t.Errorf("CA file %s after a restart, want the data directory's %s", second.CAFile, first.CAFile)
			}
			// Clients keep trusting the registry through the CA they had.
			second.CertPool = first.CertPool
			want, _ := img.Digest()
			for _, ref := range []string{second.Ref("lab/app:v1"), second.Ref("lab/app@" + want.String())} {
				r, err := name.ParseReference(ref)
				if err != nil {
					t.Fatal(err)
				}
				got, err := remote.Image(r, remoteOpts(t, second)...)
				if err != nil {
					t.Fatalf("pulling %s after a restart: %v", ref, err)
				}
				if d, _ := got.Digest(); d != want {
					t.Errorf("%s = %s after a restart, want %s", ref, d, want)
				}
				layers, err := got.Layers()
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range layers {
					rc, err := l.Compressed()
					if err != nil {
						t.Fatalf("blob of %s after a restart: %v", ref, err)
					}
					rc.Close()
				}
			}
		})
	}
}

// TestAuthFile checks the auth file a registry with basic auth writes: the
// containers-auth.json shape, for its address, private to its owner, kept in
// the data directory and removed with the temporary files otherwise.
func TestAuthFile(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	for _, dir := range []string{"", dataDir} {
		opts := []Option{WithTLS(), WithBasicAuth("lab", "pa:ss")}
		if dir != "" {
			opts = append(opts, WithDataDir(dir))
		}
		r, err := Listen("127.0.0.1:0", opts...)
		if err != nil {
			t.Fatal(err)
		}
		if dir != "" && (r.AuthFile != filepath.Join(dir, "auth.json") || r.CAFile != filepath.Join(dir, "tls", "ca.crt")) {
			t.Errorf("AuthFile, CAFile = %s, %s, want both in the data directory %s", r.AuthFile, r.CAFile, dir)
		}
		b, err := os.ReadFile(r.AuthFile)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Auths map[string]struct{ Auth string } `json:"auths"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("auth file %s: %v", r.AuthFile, err)
		}
		if got, want := f.Auths[r.Addr].Auth, base64.StdEncoding.EncodeToString([]byte("lab:pa:ss")); got != want || len(f.Auths) != 1 {
			t.Errorf("auth file = %s, want one entry for %s with %s", b, r.Addr, want)
		}
		if fi, _ := os.Stat(r.AuthFile); fi.Mode().Perm() != 0o600 {
			t.Errorf("auth file mode %v, want 0600", fi.Mode().Perm())
		}
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(r.CAFile)
		if !pool.AppendCertsFromPEM(pem) {
			t.Errorf("CAFile %s holds no certificate", r.CAFile)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = os.Stat(r.AuthFile)
		if kept := err == nil; kept != (dir != "") {
			t.Errorf("auth file kept after Close = %v, want %v", kept, dir != "")
		}
	}
	anon, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if anon.AuthFile != "" {
		t.Errorf("anonymous registry AuthFile = %q, want none", anon.AuthFile)
	}
}
