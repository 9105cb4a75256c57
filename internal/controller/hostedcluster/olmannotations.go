package hostedcluster

import (
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// copiedAnnotations are the HostedCluster annotations the control plane
// side reads from its HostedControlPlane: the OLM catalog ones (the
// catalogs controller) and the guest tag mirrors switch (dataplane).
func copiedAnnotations() []string {
	return append(olmcatalogs.AnnotationKeys(), dataplane.MirrorTagsAnnotation)
}

// copyAnnotations copies those annotations from a HostedCluster to its
// HostedControlPlane, as HyperShift copies its list; one removed from the
// HostedCluster is removed here, so switching a feature off takes effect.
func copyAnnotations(from, to map[string]string) {
	for _, k := range copiedAnnotations() {
		if v, ok := from[k]; ok {
			to[k] = v
		} else {
			delete(to, k)
		}
	}
}
