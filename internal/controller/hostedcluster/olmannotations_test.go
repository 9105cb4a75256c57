package hostedcluster

import (
	"maps"
	"testing"
)

// TestCopyAnnotations: the listed annotations travel, others do not, and one
// removed from the HostedCluster (the guest tag mirrors switched off) is
// removed from the HostedControlPlane.
func TestCopyAnnotations(t *testing.T) {
	from := map[string]string{
		"hypershift.openshift.io/olm-catalogs-is-registry-overrides": "registry.redhat.io=m.example.com",
		"hypershift.openshift.io/redhat-operators-catalog-image":     "m.example.com/x@sha256:00",
		"unrelated": "not copied",
	}
	to := map[string]string{
		ClusterAnnotation: "ns/name",
		"hypershift.openshift.io/community-operators-catalog-image": "removed from the HostedCluster",
		"hcpmirror.io/mirror-tags":                                  "true",
	}
	copyAnnotations(from, to)
	want := map[string]string{
		ClusterAnnotation: "ns/name",
		"hypershift.openshift.io/olm-catalogs-is-registry-overrides": "registry.redhat.io=m.example.com",
		"hypershift.openshift.io/redhat-operators-catalog-image":     "m.example.com/x@sha256:00",
	}
	if !maps.Equal(to, want) {
		t.Errorf("got %v, want %v", to, want)
	}
}
