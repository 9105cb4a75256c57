package cli

import (
	"errors"
	"fmt"
	"net"
	"net/url"

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
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		// client-go's own message suggests KUBERNETES_MASTER, which no
		// longer exists; say what does work.
		return nil, errors.New("no kubeconfig found: give --kubeconfig, set KUBECONFIG, or create ~/.kube/config (inside a pod the service account is used)")
	}
	return cfg, err
}

// unreachable names the cluster when err is a failure to reach it at all
// (refused, timed out, no route, TLS), rather than an answer from it: the
// address is the first thing to check, and client-go's message buries it.
func unreachable(cfg *rest.Config, err error) error {
	var ue *url.Error
	var oe *net.OpError
	if errors.As(err, &ue) || errors.As(err, &oe) {
		return fmt.Errorf("cannot reach the management cluster at %s: %w", cfg.Host, err)
	}
	return err
}
