package hostedcluster

import "github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"

// copyOLMAnnotations copies the OLM catalog annotations from a HostedCluster
// to its HostedControlPlane, as HyperShift does, where the catalogs
// controller reads them; one removed from the HostedCluster is removed here.
func copyOLMAnnotations(from, to map[string]string) {
	for _, k := range olmcatalogs.AnnotationKeys() {
		if v, ok := from[k]; ok {
			to[k] = v
		} else {
			delete(to, k)
		}
	}
}
