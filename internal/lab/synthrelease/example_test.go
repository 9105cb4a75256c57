package synthrelease_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/pkg/release"
)

// Publish a small release to a local registry, then find it again the way a
// disconnected cluster does: through the mirror of the canonical name.
func Example() {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ctx := context.Background()

	pub, err := synthrelease.Publish(ctx, synthrelease.PublishOptions{
		Destination: strings.TrimPrefix(srv.URL, "http://"),
		Components:  5,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pub.ReleaseTag)
	for _, m := range pub.Mirrors {
		fmt.Println(m.Source, "→", strings.TrimPrefix(m.Mirrors[0], strings.TrimPrefix(srv.URL, "http://")))
	}

	// A user has only the canonical reference; the mirror entry supplies the
	// place to pull it from.
	physical := strings.Replace(pub.Release, release.CanonicalReleaseRepository, pub.Mirrors[0].Mirrors[0], 1)
	ref, err := name.ParseReference(physical)
	if err != nil {
		log.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		log.Fatal(err)
	}
	p, err := release.Parse(img)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Version, len(p.Components), "components")
	fmt.Println(p.Components[0].Name, strings.HasPrefix(p.Components[0].Image, release.CanonicalComponentRepository+"@sha256:"))
	// Output:
	// quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64
	// quay.io/openshift-release-dev/ocp-release → /openshift/release-images
	// quay.io/openshift-release-dev/ocp-v4.0-art-dev → /openshift/release
	// 4.16.3 5 components
	// cluster-version-operator true
}
