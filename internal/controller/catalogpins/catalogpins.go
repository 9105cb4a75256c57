// Package catalogpins keeps a HostedCluster's four OLM catalog pin
// annotations current: it resolves the catalog tags through the mirrors
// (pkg/olmcatalogs.Pin) and writes the annotations by server-side apply
// under its own field manager, only when a digest moved. `hcpmirror
// catalogs pin --apply` and the operator's --pin-catalogs share it.
package catalogpins

import (
	"context"
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/olmcatalogs"
)

// FieldOwner is the server-side apply identity of pin writes.
const FieldOwner = "hcpmirror-catalog-pins"

// OptInAnnotation on a HostedCluster asks the operator's --pin-catalogs to
// keep its pins current.
const OptInAnnotation = "hcpmirror.io/pin-catalogs"

// Compute resolves the pins for hc through cfg (nil: no mirrors); minor < 0
// reads it from the HostedCluster's release image.
func Compute(ctx context.Context, cfg *mirrorset.Config, head olmcatalogs.HeadFunc, hc *hypershiftv1beta1.HostedCluster, minor int) ([]olmcatalogs.PinnedCatalog, error) {
	if minor < 0 {
		m, err := olmcatalogs.MinorFromReleaseImage(hc.Spec.Release.Image)
		if err != nil {
			return nil, fmt.Errorf("HostedCluster %s/%s spec.release.image: %w (give the version)", hc.Namespace, hc.Name, err)
		}
		minor = m
	}
	pins, err := olmcatalogs.Pin(ctx, cfg, head, hc.Annotations[olmcatalogs.OverridesAnnotation], minor)
	if err != nil {
		return nil, fmt.Errorf("pinning the catalogs of HostedCluster %s/%s: %w", hc.Namespace, hc.Name, err)
	}
	return pins, nil
}

// Current reports whether hc already carries exactly ann.
func Current(hc *hypershiftv1beta1.HostedCluster, ann map[string]string) bool {
	for k, v := range ann {
		if hc.Annotations[k] != v {
			return false
		}
	}
	return true
}

// Apply writes the pin annotations onto hc, unless they are there already
// (no request then). Other annotations and fields are never sent.
func Apply(ctx context.Context, c client.Client, hc *hypershiftv1beta1.HostedCluster, ann map[string]string) (bool, error) {
	if Current(hc, ann) {
		return false, nil
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(hypershiftv1beta1.GroupVersion.String())
	u.SetKind("HostedCluster")
	u.SetNamespace(hc.Namespace)
	u.SetName(hc.Name)
	u.SetAnnotations(maps.Clone(ann))
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("writing the catalog pins of HostedCluster %s/%s: %w", hc.Namespace, hc.Name, err)
	}
	return true, nil
}
