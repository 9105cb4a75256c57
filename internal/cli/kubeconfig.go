package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeFlags locate the cluster the way kubectl does: --kubeconfig, then
// KUBECONFIG, then ~/.kube/config, then the in-cluster service account.
type kubeFlags struct {
	kubeconfig string
	context    string
}

func (f *kubeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context to use")
}

func (f *kubeFlags) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.kubeconfig != "" {
		rules.ExplicitPath = f.kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.context}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
}
