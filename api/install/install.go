// Package install registers every API group hcpmirror reads or writes, plus
// the Kubernetes built-ins, in one scheme: the operator, the status command
// and the tests all need the same one.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	imagev1 "github.com/hcpmirror/hcpmirror/api/image/v1"
	operatorv1alpha1 "github.com/hcpmirror/hcpmirror/api/operator/v1alpha1"
)

// AddToScheme adds the built-ins and all of hcpmirror's API groups.
func AddToScheme(s *runtime.Scheme) error {
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		configv1.AddToScheme,
		operatorv1alpha1.AddToScheme,
		hypershiftv1beta1.AddToScheme,
		imagev1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return err
		}
	}
	return nil
}

// NewScheme returns a scheme with AddToScheme applied.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(AddToScheme(s))
	return s
}
