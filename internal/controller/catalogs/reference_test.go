package catalogs_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/hcpmirror/hcpmirror/api/image/v1"
	"github.com/hcpmirror/hcpmirror/internal/controller/catalogs"
)

// TestCatalogReference follows an imported digest only when the import was
// made for the current spec: the stream's generation or later, from the
// repository the tag follows now, with a well-formed digest.
func TestCatalogReference(t *testing.T) {
	const (
		repo    = "registry.redhat.io/redhat/redhat-operator-index"
		tag     = repo + ":v4.17"
		oldRepo = "mirror.example.com/redhat/redhat-operator-index"
	)
	d := "sha256:" + strings.Repeat("c", 64)
	stream := func(generation int64, from string, items ...imagev1.TagEvent) *imagev1.ImageStream {
		is := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Generation: generation}}
		is.Spec.Tags = []imagev1.TagReference{{Name: "redhat-operators", From: &corev1.ObjectReference{Kind: "DockerImage", Name: from}}}
		is.Status.Tags = []imagev1.NamedTagEventList{{Tag: "redhat-operators", Items: items}}
		return is
	}
	for _, tc := range []struct {
		name string
		is   *imagev1.ImageStream
		want string
	}{
		{"imported for this generation", stream(2, tag, imagev1.TagEvent{Image: d, DockerImageReference: repo + "@" + d, Generation: 2}), repo + "@" + d},
		{"imported for a later generation", stream(2, tag, imagev1.TagEvent{Image: d, DockerImageReference: repo + "@" + d, Generation: 3}), repo + "@" + d},
		{"no import", stream(2, tag), tag},
		{"older generation (tag v4.16 before the upgrade)", stream(2, tag, imagev1.TagEvent{Image: d, DockerImageReference: repo + "@" + d, Generation: 1}), tag},
		{"no generation recorded", stream(2, tag, imagev1.TagEvent{Image: d, DockerImageReference: repo + "@" + d}), tag},
		{"other repository (an override changed)", stream(2, tag, imagev1.TagEvent{Image: d, DockerImageReference: oldRepo + "@" + d, Generation: 2}), tag},
		{"no repository recorded", stream(2, tag, imagev1.TagEvent{Image: d, Generation: 2}), tag},
		{"malformed digest", stream(2, tag, imagev1.TagEvent{Image: "sha256:short", DockerImageReference: repo + "@sha256:short", Generation: 2}), tag},
		{"newest item only", stream(2, tag,
			imagev1.TagEvent{Image: d, DockerImageReference: oldRepo + "@" + d, Generation: 2},
			imagev1.TagEvent{Image: d, DockerImageReference: repo + "@" + d, Generation: 2}), tag},
		{"no spec tag: the fallback's repository", func() *imagev1.ImageStream {
			is := stream(2, tag, imagev1.TagEvent{Image: d, DockerImageReference: repo + "@" + d, Generation: 2})
			is.Spec.Tags = nil
			return is
		}(), repo + "@" + d},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := catalogs.CatalogReference(tc.is, "redhat-operators", tag); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
