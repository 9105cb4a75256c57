package registry

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := writeFile(t, dir, "not.pem", []byte("hello"))
	certsDir := filepath.Join(dir, "certs.d")
	writeFile(t, certsDir, "m.local:5000/ca.crt", []byte("garbage"))
	a := writeFile(t, dir, "a.json", []byte(`{"auths":{}}`))
	b := writeFile(t, dir, "b.json", []byte(`{"auths":{}}`))

	tests := []struct {
		name string
		opts []Option
		want []string
	}{
		{"two auth files", []Option{WithAuthFile(a), WithAuthFile(b)}, []string{"two auth files given"}},
		{"same auth file twice is fine", []Option{WithAuthFile(a), WithAuthFile(a)}, nil},
		{"empty auth file", []Option{WithAuthFile("")}, []string{"auth file path is empty"}},
		{"two pull secrets", []Option{WithPullSecret([]byte("{}")), WithPullSecret([]byte("{}"))}, []string{"two pull secrets"}},
		{"empty pull secret", []Option{WithPullSecret(nil)}, []string{"pull secret is empty"}},
		{"insecure with scheme", []Option{WithInsecureRegistry("https://m.local")}, []string{"without a scheme"}},
		{"insecure with path", []Option{WithInsecureRegistry("m.local/ns")}, []string{"without a path"}},
		{"insecure empty", []Option{WithInsecureRegistry("")}, []string{"host is empty"}},
		{
			name: "every bad number at once",
			opts: []Option{WithTimeout(-time.Second), WithRetries(-1, time.Second, time.Second), WithMaxConcurrentPerRegistry(0)},
			want: []string{"timeout -1s is negative", "retries -1 is negative", "at least 1"},
		},
		{"backoff max below base", []Option{WithRetries(2, time.Second, time.Millisecond)}, []string{"below retry base"}},
		{"zero backoff", []Option{WithRetries(2, 0, time.Second)}, []string{"must be positive"}},
		{"no retries needs no backoff", []Option{WithRetries(0, 0, 0)}, nil},
		{"missing ca file", []Option{WithCAFile(filepath.Join(dir, "nope.pem"))}, []string{"ca file", "nope.pem"}},
		{"ca file without certificates", []Option{WithCAFile(notPEM)}, []string{"no PEM certificate"}},
		{"missing certs dir", []Option{WithCertDir(filepath.Join(dir, "nodir"))}, []string{"certificate directory"}},
		{"bad cert in certs dir", []Option{WithCertDir(certsDir)}, []string{"m.local:5000/ca.crt"}},
		{
			name: "files and pull secret reported together",
			opts: []Option{WithCAFile(notPEM), WithPullSecret([]byte("nope"))},
			want: []string{"no PEM certificate", "pull secret"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(append([]Option{WithoutDefaultAuthFile()}, tc.opts...)...)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New() = %v, want success", err)
				}
				c.Close()
				return
			}
			if err == nil {
				t.Fatalf("New() = nil error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := New(WithoutDefaultAuthFile())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.Options()
	if o.Timeout != DefaultTimeout || o.Retries != DefaultRetries || o.RetryBase != DefaultRetryBase ||
		o.RetryMax != DefaultRetryMax || o.MaxConcurrentPerRegistry != DefaultMaxConcurrentPerRegistry || o.UserAgent != DefaultUserAgent {
		t.Errorf("defaults = %+v", o)
	}
	if len(o.InsecureRegistries) != 0 {
		t.Error("a registry is insecure by default")
	}
}
