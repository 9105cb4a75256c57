package imageref

import (
	"testing"

	oracle "go.podman.io/image/v5/docker/reference"
)

// benchRefs are the shapes mirror matching sees: release components by
// digest, tagged images, Docker Hub short names.
var benchRefs = []string{
	"quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + digestA,
	"quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64",
	"registry.redhat.io/redhat/redhat-operator-index:v4.16",
	"busybox",
	"registry.example.com:5000/ns/sub/img:v1@" + digestA,
}

// BenchmarkParse compares Parse with the runtime's own parser
// (containers/image docker/reference.ParseNormalizedNamed) on the same
// references, in the same run.
func BenchmarkParse(b *testing.B) {
	b.Run("impl=hcpmirror", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := Parse(benchRefs[i%len(benchRefs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=containers-image", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := oracle.ParseNormalizedNamed(benchRefs[i%len(benchRefs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
