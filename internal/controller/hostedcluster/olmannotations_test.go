package hostedcluster

import (
	"maps"
	"testing"
)

func TestCopyOLMAnnotations(t *testing.T) {
	from := map[string]string{
		"hypershift.openshift.io/olm-catalogs-is-registry-overrides": "registry.redhat.io=m.example.com",
		"hypershift.openshift.io/redhat-operators-catalog-image":     "m.example.com/x@sha256:00",
		"unrelated": "not copied",
	}
	to := map[string]string{
		ClusterAnnotation: "ns/name",
		"hypershift.openshift.io/community-operators-catalog-image": "removed from the HostedCluster",
	}
	copyOLMAnnotations(from, to)
	want := map[string]string{
		ClusterAnnotation: "ns/name",
		"hypershift.openshift.io/olm-catalogs-is-registry-overrides": "registry.redhat.io=m.example.com",
		"hypershift.openshift.io/redhat-operators-catalog-image":     "m.example.com/x@sha256:00",
	}
	if !maps.Equal(to, want) {
		t.Errorf("got %v, want %v", to, want)
	}
}
