package registry

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPersistentAuthority: a data directory's CA is made once and reused;
// an expiring one is replaced, a damaged one is an error naming the
// directory, never silently replaced (clients trust the old file).
func TestPersistentAuthority(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	a, err := persistentAuthority(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, caKeyFileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ca key: %v, %v; want a 0600 file", fi, err)
	}
	again, err := persistentAuthority(dir, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.der, again.der) {
		t.Error("a second start made a new CA, want the saved one")
	}
	renewed, err := persistentAuthority(dir, a.cert.NotAfter)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.der, renewed.der) {
		t.Error("an expired CA was reused")
	}

	other, err := newAuthority(now)
	if err != nil {
		t.Fatal(err)
	}
	otherDir := t.TempDir()
	if _, err := other.writeCert(otherDir); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(dir string)
		want string
	}{
		{"not pem", func(d string) { os.WriteFile(filepath.Join(d, caFileName), []byte("x"), 0o644) }, "not PEM"},
		{"foreign key", func(d string) {
			b, _ := os.ReadFile(filepath.Join(otherDir, caFileName))
			os.WriteFile(filepath.Join(d, caFileName), b, 0o644)
		}, "ca.key does not belong to ca.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			if _, err := persistentAuthority(d, now); err != nil {
				t.Fatal(err)
			}
			tt.edit(d)
			_, err := persistentAuthority(d, now)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), d) {
				t.Errorf("persistentAuthority = %v, want an error naming %s and %q", err, d, tt.want)
			}
		})
	}
}
