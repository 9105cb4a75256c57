package v1

import (
	"regexp"
	"testing"
)

func TestPatterns(t *testing.T) {
	source := regexp.MustCompile(SourcePattern)
	mirror := regexp.MustCompile(MirrorPattern)
	tests := []struct {
		name       string
		in         string
		wantSource bool
		wantMirror bool
	}{
		{"host", "quay.io", true, true},
		{"host and port", "quay.io:443", true, true},
		{"single label host", "registry", true, true},
		{"single label host with path", "registry/z", true, true},
		{"uppercase host", "Quay.IO/x", true, true},
		{"repository", "quay.io/openshift-release-dev/ocp-release", true, true},
		{"port and path", "registry.local:5000/ocp/release", true, true},
		{"path separators", "m.example.com/a.b/c_d/e__f/g---h", true, true},
		{"localhost", "localhost:5000/ns", true, true},
		{"wildcard host", "*.quay.io", true, false},
		{"wildcard single label", "*.io", true, false},
		{"wildcard deep", "*.a.b.example.com", true, false},
		{"uppercase path", "quay.io/NS", false, false},
		{"wildcard with path", "*.quay.io/x", false, false},
		{"wildcard with port", "*.quay.io:443", false, false},
		{"bare star", "*", false, false},
		{"inner wildcard", "quay.*.io", false, false},
		{"tag", "quay.io/ns/repo:tag", false, false},
		{"digest", "quay.io/ns/repo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false, false},
		{"scheme", "https://quay.io", false, false},
		{"trailing slash", "quay.io/ns/", false, false},
		{"empty component", "quay.io//ns", false, false},
		{"ipv6", "[::1]:5000/ns", false, false},
		{"empty", "", false, false},
		{"leading dash label", "-quay.io", false, false},
		{"separator at end of component", "quay.io/ns-", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := source.MatchString(tt.in); got != tt.wantSource {
				t.Errorf("SourcePattern.MatchString(%q) = %v, want %v", tt.in, got, tt.wantSource)
			}
			if got := mirror.MatchString(tt.in); got != tt.wantMirror {
				t.Errorf("MirrorPattern.MatchString(%q) = %v, want %v", tt.in, got, tt.wantMirror)
			}
		})
	}
}
