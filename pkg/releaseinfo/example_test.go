package releaseinfo_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/release"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// Look a release up by its canonical quay.io name while quay.io is out of
// reach: the mirror set sends the pull to a local mirror and, with
// NeverContactSource, never to quay.io.
func Example() {
	ctx := context.Background()
	mirror, err := testreg.Listen("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer mirror.Close()
	pub, err := synthrelease.Publish(ctx, synthrelease.PublishOptions{Destination: mirror.Addr, Components: 5})
	if err != nil {
		log.Fatal(err)
	}

	// The ImageDigestMirrorSet an oc-mirror run would produce.
	set := mirrorset.Set{Kind: mirrorset.KindIDMS, Name: "release"}
	for _, e := range pub.Mirrors {
		set.Entries = append(set.Entries, mirrorset.Entry{Source: e.Source, Mirrors: e.Mirrors, Policy: mirrorset.NeverContactSource})
	}
	mirrors, err := mirrorset.Compile([]mirrorset.Set{set})
	if err != nil {
		log.Fatal(err)
	}

	p, err := releaseinfo.New(releaseinfo.WithRegistryOptions(
		registry.WithoutDefaultAuthFile(),
		registry.WithInsecureRegistry(mirror.Addr), // plain HTTP
	))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	rel, err := p.Lookup(ctx, mirrors, pub.Release, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rel.Version, len(rel.Components), "components")
	fmt.Println(rel.Image == pub.Release, strings.HasPrefix(rel.Image, release.CanonicalReleaseRepository+"@sha256:"))
	fmt.Println(strings.Replace(rel.ServedBy, mirror.Addr, "MIRROR", 1) == "MIRROR/openshift/release-images@"+rel.Digest)
	fmt.Println(rel.Components["etcd"] == pub.Components["etcd"])

	rep, err := p.Verify(ctx, mirrors, pub.Release, nil, releaseinfo.VerifyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(rep.Checks), "images checked, all reachable:", rep.OK())
	// Output:
	// 4.16.3 5 components
	// true true
	// true
	// true
	// 7 images checked, all reachable: true
}
