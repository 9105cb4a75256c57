// Package mirrorsets reads the management cluster's mirror sets
// (ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet) from
// the controller's informer cache and compiles them, once per set of object
// versions, and discovers which of the kinds the API server serves. The
// controllers that need the sets watch the kinds themselves, so propagation
// needs no restart and no periodic re-list.
package mirrorsets

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// Kinds says which of the three kinds the API server serves. A kind that is
// not served simply contributes no sets (an OpenShift without ICSP, a plain
// Kubernetes without any).
type Kinds struct {
	ICSP, IDMS, ITMS bool
}

// All is every kind, for clusters (and tests) known to serve them.
var All = Kinds{ICSP: true, IDMS: true, ITMS: true}

// Discover asks the API server which kinds it serves.
func Discover(dc discovery.DiscoveryInterface) (Kinds, error) {
	served := func(gv schema.GroupVersion, kind string) (bool, error) {
		list, err := dc.ServerResourcesForGroupVersion(gv.String())
		if err != nil {
			if isNotFound(err) {
				return false, nil
			}
			return false, fmt.Errorf("discovering %s: %w", gv, err)
		}
		for _, r := range list.APIResources {
			if r.Kind == kind {
				return true, nil
			}
		}
		return false, nil
	}
	var k Kinds
	var err error
	if k.ICSP, err = served(operatorv1alpha1.GroupVersion, "ImageContentSourcePolicy"); err != nil {
		return k, err
	}
	if k.IDMS, err = served(configv1.GroupVersion, "ImageDigestMirrorSet"); err != nil {
		return k, err
	}
	if k.ITMS, err = served(configv1.GroupVersion, "ImageTagMirrorSet"); err != nil {
		return k, err
	}
	return k, nil
}

func isNotFound(err error) bool {
	return apierrors.IsNotFound(err) || meta.IsNoMatchError(err)
}

// Snapshot is the management mirror sets at one moment.
type Snapshot struct {
	// Sets in a stable order (kind, then name).
	Sets []mirrorset.Set
	// Config is the compiled configuration; nil when Invalid is set.
	Config *mirrorset.Config
	// Invalid is the validation error naming every bad object and field.
	Invalid error
	// Fingerprint identifies the exact object versions the snapshot came from.
	Fingerprint string
}

// Reader lists and compiles mirror sets, reusing the last compilation while
// no object changed: with many hosted clusters reconciling after one change,
// the sets are compiled once, not once per cluster.
type Reader struct {
	Client client.Reader
	Kinds  Kinds

	mu   sync.Mutex
	last *Snapshot
}

// Read returns the current snapshot. An error means the sets could not be
// read at all (API or cache trouble), which is different from sets that were
// read and are invalid (Snapshot.Invalid).
func (r *Reader) Read(ctx context.Context) (*Snapshot, error) {
	var sets []mirrorset.Set
	var versions []string
	if r.Kinds.ICSP {
		var l operatorv1alpha1.ImageContentSourcePolicyList
		if err := r.Client.List(ctx, &l); err != nil {
			return nil, fmt.Errorf("listing ImageContentSourcePolicies: %w", err)
		}
		for i := range l.Items {
			sets = append(sets, mirrorset.FromImageContentSourcePolicy(&l.Items[i]))
			versions = append(versions, "icsp/"+l.Items[i].Name+"@"+l.Items[i].ResourceVersion)
		}
	}
	if r.Kinds.IDMS {
		var l configv1.ImageDigestMirrorSetList
		if err := r.Client.List(ctx, &l); err != nil {
			return nil, fmt.Errorf("listing ImageDigestMirrorSets: %w", err)
		}
		for i := range l.Items {
			sets = append(sets, mirrorset.FromImageDigestMirrorSet(&l.Items[i]))
			versions = append(versions, "idms/"+l.Items[i].Name+"@"+l.Items[i].ResourceVersion)
		}
	}
	if r.Kinds.ITMS {
		var l configv1.ImageTagMirrorSetList
		if err := r.Client.List(ctx, &l); err != nil {
			return nil, fmt.Errorf("listing ImageTagMirrorSets: %w", err)
		}
		for i := range l.Items {
			sets = append(sets, mirrorset.FromImageTagMirrorSet(&l.Items[i]))
			versions = append(versions, "itms/"+l.Items[i].Name+"@"+l.Items[i].ResourceVersion)
		}
	}
	sort.Strings(versions)
	fp := strings.Join(versions, ",")

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil && r.last.Fingerprint == fp {
		return r.last, nil
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if sets[i].Kind != sets[j].Kind {
			return sets[i].Kind < sets[j].Kind
		}
		return sets[i].Name < sets[j].Name
	})
	s := &Snapshot{Sets: sets, Fingerprint: fp}
	s.Config, s.Invalid = mirrorset.Compile(sets)
	r.last = s
	return s, nil
}
