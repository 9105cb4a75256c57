package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t, testreg.WithBasicAuth("mirror-user", "correct-horse"))
	_, ref := newFixture(t, reg).image("ocp/release:4.18")
	authFile := writeFile(t, t.TempDir(), "auth.json", dockerConfig(t, map[string][2]string{reg.Addr: {"mirror-user", "correct-horse"}}))

	tests := []struct {
		name     string
		opts     []Option
		wantKind Kind // meaningful when wantErr
		wantErr  bool
	}{
		{
			name: "pull secret",
			opts: []Option{WithPullSecret(dockerConfig(t, map[string][2]string{reg.Addr: {"mirror-user", "correct-horse"}}))},
		},
		{
			name: "auth file",
			opts: []Option{WithAuthFile(authFile)},
		},
		{
			name: "repository-scoped key",
			opts: []Option{WithPullSecret(dockerConfig(t, map[string][2]string{reg.Addr + "/ocp": {"mirror-user", "correct-horse"}}))},
		},
		{
			name: "https key with path",
			opts: []Option{WithPullSecret(dockerConfig(t, map[string][2]string{"https://" + reg.Addr + "/v1/": {"mirror-user", "correct-horse"}}))},
		},
		{
			name:     "wrong password",
			opts:     []Option{WithPullSecret(dockerConfig(t, map[string][2]string{reg.Addr: {"mirror-user", "wrong-password"}}))},
			wantErr:  true,
			wantKind: Unauthorized,
		},
		{
			name:     "no credentials",
			wantErr:  true,
			wantKind: Unauthorized,
		},
		{
			name:     "credentials for another repository",
			opts:     []Option{WithPullSecret(dockerConfig(t, map[string][2]string{reg.Addr + "/other": {"mirror-user", "correct-horse"}}))},
			wantErr:  true,
			wantKind: Unauthorized,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, append(tc.opts, WithInsecureRegistry(reg.Addr))...)
			m, err := c.Manifest(t.Context(), ref)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Manifest(%s) = %v", ref, err)
				}
				if m.Digest.String() != ref[strings.Index(ref, "@")+1:] {
					t.Errorf("Manifest(%s).Digest = %s", ref, m.Digest)
				}
				return
			}
			if k, ok := kindOf(err); !ok || k != tc.wantKind {
				t.Fatalf("Manifest(%s) = %v, want kind %v", ref, err, tc.wantKind)
			}
			msg := err.Error()
			for _, secret := range []string{"wrong-password", "correct-horse", base64.StdEncoding.EncodeToString([]byte("mirror-user:wrong-password"))} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains a secret", msg)
				}
			}
			if !strings.Contains(msg, ref) || !strings.Contains(msg, "unauthorized") {
				t.Errorf("error %q does not name the reference and the kind", msg)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	secure := testreg.Start(t, testreg.WithTLS())
	_, secureRef := newFixture(t, secure).image("a/b:1")
	plain := testreg.Start(t)
	_, plainRef := newFixture(t, plain).image("a/b:1")

	certsDir := t.TempDir()
	caPEM := readFile(t, secure.CAFile)
	writeFile(t, certsDir, secure.Addr+"/ca.crt", caPEM)
	otherCertsDir := t.TempDir()
	writeFile(t, otherCertsDir, "127.0.0.1:1/ca.crt", caPEM)

	tests := []struct {
		name     string
		ref      string
		opts     []Option
		wantKind Kind
		wantErr  bool
	}{
		{name: "CA file", ref: secureRef, opts: []Option{WithCAFile(secure.CAFile)}},
		{name: "certs.d directory for the host", ref: secureRef, opts: []Option{WithCertDir(certsDir)}},
		{name: "system roots only", ref: secureRef, wantErr: true, wantKind: TLS},
		{name: "certs.d entry for another host", ref: secureRef, opts: []Option{WithCertDir(otherCertsDir)}, wantErr: true, wantKind: TLS},
		{name: "insecure skips verification", ref: secureRef, opts: []Option{WithInsecureRegistry(secure.Addr)}},
		{name: "plain http needs insecure", ref: plainRef, wantErr: true, wantKind: TLS},
		{name: "plain http when insecure", ref: plainRef, opts: []Option{WithInsecureRegistry(plain.Addr)}},
		{name: "insecure is per host:port", ref: plainRef, opts: []Option{WithInsecureRegistry("127.0.0.1")}, wantErr: true, wantKind: TLS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tc.opts...)
			_, err := c.Manifest(t.Context(), tc.ref)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Manifest(%s) = %v", tc.ref, err)
				}
				return
			}
			if k, ok := kindOf(err); !ok || k != tc.wantKind {
				t.Fatalf("Manifest(%s) = %v, want kind %v", tc.ref, err, tc.wantKind)
			}
		})
	}
}

func TestImage(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t)
	f := newFixture(t, reg)
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	idxRef, imgs := f.index("ocp/release:4.18-multi", amd64, arm64)
	single, singleRef := f.image("ocp/release:4.18-x86_64")
	c := newClient(t, WithInsecureRegistry(reg.Addr))

	tests := []struct {
		name     string
		ref      string
		platform v1.Platform
		want     v1.Image
		index    bool
	}{
		{name: "index, default platform", ref: idxRef, want: imgs[amd64.String()], index: true},
		{name: "index, arm64", ref: idxRef, platform: arm64, want: imgs[arm64.String()], index: true},
		{name: "index, arm64/v8 matches arm64", ref: idxRef, platform: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, want: imgs[arm64.String()], index: true},
		{name: "single image", ref: singleRef, want: single},
		{name: "single image ignores platform", ref: singleRef, platform: arm64, want: single},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := c.Image(t.Context(), tc.ref, tc.platform)
			if err != nil {
				t.Fatalf("Image(%s) = %v", tc.ref, err)
			}
			if img.Reference != tc.ref {
				t.Errorf("Reference = %q, want %q", img.Reference, tc.ref)
			}
			if (img.Index != nil) != tc.index {
				t.Errorf("Index = %v, want index %v", img.Index, tc.index)
			}
			gotD, _ := img.Digest()
			wantD, _ := tc.want.Digest()
			if gotD != wantD {
				t.Errorf("Digest() = %s, want %s", gotD, wantD)
			}
			gotCfg, err := img.RawConfigFile()
			if err != nil {
				t.Fatalf("RawConfigFile() = %v", err)
			}
			wantCfg, _ := tc.want.RawConfigFile()
			if !bytes.Equal(gotCfg, wantCfg) {
				t.Error("RawConfigFile() differs from the pushed config")
			}
			if _, err := img.ConfigFile(); err != nil {
				t.Errorf("ConfigFile() = %v", err)
			}
			layers, err := img.Layers()
			if err != nil || len(layers) == 0 {
				t.Fatalf("Layers() = %d, %v", len(layers), err)
			}
			last := layers[len(layers)-1]
			rc, err := last.Compressed()
			if err != nil {
				t.Fatalf("Compressed() = %v", err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("reading layer: %v", err)
			}
			wantLayers, _ := tc.want.Layers()
			wrc, _ := wantLayers[len(wantLayers)-1].Compressed()
			want, _ := io.ReadAll(wrc)
			wrc.Close()
			if !bytes.Equal(got, want) {
				t.Error("layer content differs from the pushed layer")
			}
			if _, err := last.Uncompressed(); err != nil {
				t.Errorf("Uncompressed() = %v", err)
			}
		})
	}

	t.Run("index without the platform", func(t *testing.T) {
		t.Parallel()
		_, err := c.Image(t.Context(), idxRef, v1.Platform{OS: "linux", Architecture: "s390x"})
		if k, ok := kindOf(err); !ok || k != NotFound {
			t.Fatalf("Image(s390x) = %v, want kind NotFound", err)
		}
		if !strings.Contains(err.Error(), "linux/s390x") {
			t.Errorf("error %q does not name the platform", err)
		}
	})
}

func TestHeadAndManifest(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t)
	f := newFixture(t, reg)
	img, ref := f.image("a/b:v1")
	idxRef, _ := f.index("a/b:multi", v1.Platform{OS: "linux", Architecture: "amd64"})
	c := newClient(t, WithInsecureRegistry(reg.Addr))
	wantRaw, _ := img.RawManifest()
	wantD, _ := img.Digest()
	wantMT, _ := img.MediaType()

	for _, r := range []string{ref, reg.Ref("a/b:v1")} {
		t.Run("Head "+r, func(t *testing.T) {
			d, err := c.Head(t.Context(), r)
			if err != nil {
				t.Fatalf("Head(%s) = %v", r, err)
			}
			want := Descriptor{Reference: r, MediaType: wantMT, Digest: wantD, Size: int64(len(wantRaw))}
			if d != want {
				t.Errorf("Head(%s) = %+v, want %+v", r, d, want)
			}
		})
		t.Run("Manifest "+r, func(t *testing.T) {
			m, err := c.Manifest(t.Context(), r)
			if err != nil {
				t.Fatalf("Manifest(%s) = %v", r, err)
			}
			if !bytes.Equal(m.Raw, wantRaw) || m.Digest != wantD || m.MediaType != wantMT || m.Reference != r || m.IsIndex() {
				t.Errorf("Manifest(%s) = {%s %s %s index=%v}, want {%s %s %s false}", r, m.Reference, m.MediaType, m.Digest, m.IsIndex(), r, wantMT, wantD)
			}
		})
	}
	t.Run("index", func(t *testing.T) {
		m, err := c.Manifest(t.Context(), idxRef)
		if err != nil {
			t.Fatalf("Manifest(%s) = %v", idxRef, err)
		}
		if !m.IsIndex() || m.MediaType != types.OCIImageIndex {
			t.Errorf("Manifest(%s).MediaType = %s, want an OCI index", idxRef, m.MediaType)
		}
	})
	t.Run("not found", func(t *testing.T) {
		for _, r := range []string{reg.Ref("a/b:nope"), reg.Ref("no/such:v1")} {
			if _, err := c.Head(t.Context(), r); func() bool { k, ok := kindOf(err); return !ok || k != NotFound }() {
				t.Errorf("Head(%s) = %v, want kind NotFound", r, err)
			}
			if _, err := c.Manifest(t.Context(), r); func() bool { k, ok := kindOf(err); return !ok || k != NotFound }() {
				t.Errorf("Manifest(%s) = %v, want kind NotFound", r, err)
			}
		}
	})
	t.Run("invalid reference", func(t *testing.T) {
		_, err := c.Manifest(t.Context(), "UPPER/case::x")
		if k, ok := kindOf(err); !ok || k != Other {
			t.Errorf("Manifest(invalid) = %v, want *Error kind Other", err)
		}
	})
}

func TestConnectionReuse(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			t.Parallel()
			var opts []testreg.Option
			if useTLS {
				opts = append(opts, testreg.WithTLS())
			}
			reg := testreg.Start(t, opts...)
			_, ref := newFixture(t, reg).image("a/b:1")
			before, pingsBefore := reg.Connections(), reg.RequestsByPath()["/v2/"]
			copts := []Option{WithInsecureRegistry(reg.Addr)}
			if useTLS {
				copts = []Option{WithCAFile(reg.CAFile)}
			}
			c := newClient(t, copts...)
			for range 5 {
				if _, err := c.Manifest(t.Context(), ref); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Head(t.Context(), ref); err != nil {
					t.Fatal(err)
				}
			}
			// Plain HTTP to an insecure host starts with an https
			// probe, which costs one extra connection.
			maxConns := 1
			if !useTLS {
				maxConns = 2
			}
			if got := reg.Connections() - before; got > maxConns {
				t.Errorf("10 sequential requests used %d connections, want at most %d", got, maxConns)
			}
			if got := reg.RequestsByPath()["/v2/"] - pingsBefore; got != 1 {
				t.Errorf("pinged /v2/ %d times, want 1 (the session reused)", got)
			}
		})
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCopyWithinOneRegistry(t *testing.T) {
	t.Parallel()
	// A copy streams the source blob while uploading it; with a single
	// slot per registry, reads and writes must not compete for it.
	reg := testreg.Start(t)
	img, err := random.Image(200, 5)
	if err != nil {
		t.Fatal(err)
	}
	ref := newFixture(t, reg).pushImage("src/app:1", img)
	c := newClient(t, WithInsecureRegistry(reg.Addr), WithMaxConcurrentPerRegistry(1))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pulled, err := c.Image(ctx, ref, v1.Platform{})
	if err != nil {
		t.Fatalf("Image = %v", err)
	}
	dst, err := c.parse(reg.Ref("dst/app:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, pulled, c.RemoteOptions(ctx)...); err != nil {
		t.Fatalf("push within one registry through RemoteOptions = %v", err)
	}
}

func TestRemoteOptions(t *testing.T) {
	t.Parallel()
	reg := testreg.Start(t, testreg.WithTLS(), testreg.WithBasicAuth("u", "remote-pass"))
	img, ref := newFixture(t, reg).image("a/b:1")
	c := newClient(t, WithCAFile(reg.CAFile), WithPullSecret(dockerConfig(t, map[string][2]string{reg.Addr: {"u", "remote-pass"}})),
		WithInsecureRegistry("m.example.com:5000"))

	r, err := c.parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(r, c.RemoteOptions(t.Context())...)
	if err != nil {
		t.Fatalf("remote.Image with RemoteOptions = %v", err)
	}
	gd, _ := got.Digest()
	wd, _ := img.Digest()
	if gd != wd {
		t.Errorf("digest = %s, want %s", gd, wd)
	}

	for in, want := range map[string]string{"m.example.com:5000/a:1": "http", "m.example.com/a:1": "https", "quay.io/a:1": "https"} {
		r, err := c.parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Context().Scheme(); got != want {
			t.Errorf("parse(%s) scheme = %s, want %s", in, got, want)
		}
	}
}
