package imageref

import (
	// The digest library accepts sha384/sha512 only when crypto/sha512 is
	// linked; every real runtime links it (TLS does), so the oracle must too.
	_ "crypto/sha512"
	"errors"
	"strings"
	"testing"

	oracle "go.podman.io/image/v5/docker/reference"
)

const digestA = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	tests := []struct {
		in                          string
		name, domain, path, tag, dg string
		str                         string
		wantErr                     error
	}{
		{in: "busybox", name: "docker.io/library/busybox", domain: "docker.io", path: "library/busybox", str: "docker.io/library/busybox"},
		{in: "docker.io/busybox", name: "docker.io/library/busybox", domain: "docker.io", path: "library/busybox", str: "docker.io/library/busybox"},
		{in: "index.docker.io/busybox:1", name: "docker.io/library/busybox", domain: "docker.io", path: "library/busybox", tag: "1", str: "docker.io/library/busybox:1"},
		{in: "registry-1.docker.io/busybox", name: "registry-1.docker.io/busybox", domain: "registry-1.docker.io", path: "busybox", str: "registry-1.docker.io/busybox"},
		{in: "quay.io", name: "docker.io/library/quay.io", domain: "docker.io", path: "library/quay.io", str: "docker.io/library/quay.io"},
		{in: "host:5000", name: "docker.io/library/host", domain: "docker.io", path: "library/host", tag: "5000", str: "docker.io/library/host:5000"},
		{in: "quay.io:443/ns/img@" + digestA, name: "quay.io:443/ns/img", domain: "quay.io:443", path: "ns/img", dg: digestA, str: "quay.io:443/ns/img@" + digestA},
		{in: "quay.io/a/b:v1@" + digestA, name: "quay.io/a/b", domain: "quay.io", path: "a/b", tag: "v1", dg: digestA, str: "quay.io/a/b:v1@" + digestA},
		{in: "localhost/x", name: "localhost/x", domain: "localhost", path: "x", str: "localhost/x"},
		{in: "Quay.IO/x", name: "Quay.IO/x", domain: "Quay.IO", path: "x", str: "Quay.IO/x"},
		{in: "a_b.com/x", name: "a_b.com/x", domain: "", path: "a_b.com/x", str: "a_b.com/x"},
		{in: "quay.io/NS/x", wantErr: ErrUppercase},
		{in: "quay.io/a@sha256:123456", wantErr: ErrInvalidFormat},
		{in: "quay.io/a@md5:0123456789abcdef0123456789abcdef", wantErr: ErrDigest},
		{in: "", wantErr: ErrEmpty},
		{in: strings.Repeat("a", 64), wantErr: ErrIdentifierOnly},
		{in: "quay.io/" + strings.Repeat("a", 250), wantErr: ErrNameTooLong},
		{in: "quay.io//x", wantErr: ErrInvalidFormat},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.in, err)
			}
			if got.Name() != tt.name || got.Domain() != tt.domain || got.Path() != tt.path || got.Tag() != tt.tag || got.Digest() != tt.dg || got.String() != tt.str {
				t.Errorf("Parse(%q) = name %q domain %q path %q tag %q digest %q string %q, want %q %q %q %q %q %q",
					tt.in, got.Name(), got.Domain(), got.Path(), got.Tag(), got.Digest(), got.String(),
					tt.name, tt.domain, tt.path, tt.tag, tt.dg, tt.str)
			}
		})
	}
}

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"quay.io/a/b@" + digestA, true},
		{"docker.io/library/busybox", true},
		{"busybox", false},
		{"registry/ns/img", false},
		{"mirror.local@" + digestA, false},
		{"mirror.local/redhat:443/ns/img", false},
		{"mirror.example.com:443/ns/img@" + digestA, true},
		{"quay.io/a/b:v1@" + digestA, true},
	}
	for _, tt := range tests {
		_, err := ParseCanonical(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseCanonical(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

// checkAgainstOracle compares Parse and ParseCanonical with containers/image.
func checkAgainstOracle(t *testing.T, in string) {
	t.Helper()
	want, werr := oracle.ParseNormalizedNamed(in)
	got, gerr := Parse(in)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("Parse(%q) error = %v, oracle error = %v", in, gerr, werr)
	}
	if werr == nil {
		if got.String() != want.String() || got.Name() != want.Name() || got.Domain() != oracle.Domain(want) || got.Path() != oracle.Path(want) {
			t.Fatalf("Parse(%q) = %q (name %q, domain %q, path %q), oracle %q (name %q, domain %q, path %q)",
				in, got.String(), got.Name(), got.Domain(), got.Path(), want.String(), want.Name(), oracle.Domain(want), oracle.Path(want))
		}
		_, isDigested := want.(oracle.Canonical)
		if got.IsDigested() != isDigested {
			t.Fatalf("Parse(%q).IsDigested() = %v, oracle %v", in, got.IsDigested(), isDigested)
		}
	}
	_, werr = oracle.ParseNamed(in)
	_, gerr = ParseCanonical(in)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("ParseCanonical(%q) error = %v, oracle error = %v", in, gerr, werr)
	}
	raw, rerr := oracle.Parse(in)
	gotRaw, gerr := ParseRaw(in)
	if (rerr == nil) != (gerr == nil) {
		t.Fatalf("ParseRaw(%q) error = %v, oracle error = %v", in, gerr, rerr)
	}
	if rerr == nil {
		named, isNamed := raw.(oracle.Named)
		if !isNamed || gotRaw.Name() != named.Name() || gotRaw.Domain() != oracle.Domain(named) || gotRaw.String() != raw.String() {
			t.Fatalf("ParseRaw(%q) = %q (domain %q), oracle %q", in, gotRaw.String(), gotRaw.Domain(), raw.String())
		}
	}
}

func TestParseMatchesOracle(t *testing.T) {
	inputs := []string{
		"busybox", "busybox:latest", "library/busybox", "docker.io/library/busybox", "index.docker.io/library/busybox",
		"quay.io", "quay.io:443", "host:5000", "localhost", "localhost:5000/x", "LocalHost/x", "a.b/c_d/e__f/g--h/i.j",
		"a.b/c___d", "a.b/c-", "a.b/-c", "a.b/c..d", "A.B/c", "a-.b/c", "-a.b/c", "a.b:/c", "a.b:5x/c", "[::1]:5000/x",
		"quay.io/a/b:" + strings.Repeat("t", 128), "quay.io/a/b:" + strings.Repeat("t", 129), "quay.io/a/b:-x", "quay.io/a/b:_x",
		"quay.io/a/b@sha512:" + strings.Repeat("a", 128), "quay.io/a/b@sha384:" + strings.Repeat("a", 96),
		"quay.io/a/b@sha256:" + strings.Repeat("A", 64), "quay.io/a/b@sha256:" + strings.Repeat("a", 63),
		"quay.io/a/b@foo+bar.x_y-z:" + strings.Repeat("a", 32), "quay.io/a/b@", "quay.io/a/b:", "quay.io/a/b:t@",
		"a_b.com/x", "a_b.com:5000/x", "/x", "x/", "quay.io/a:b:c", "quay.io/a:b/c", strings.Repeat("a", 64),
		"sha256:" + strings.Repeat("a", 64), "a@" + digestA, "docker.io/x", "index.docker.io/x/y", "registry/ns/img",
	}
	for _, in := range inputs {
		checkAgainstOracle(t, in)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"busybox", "quay.io/a/b:v1@" + digestA, "localhost:5000/x", "a_b.com/x", "host:5000", "Quay.IO/x:Tag"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkAgainstOracle(t, in)
	})
}
