package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeFlags locate the cluster the way kubectl does: --kubeconfig, then
// KUBECONFIG, then ~/.kube/config, then the in-cluster service account.
type kubeFlags struct {
	kubeconfig string
	context    string

	cmd            *cobra.Command // for -v, which registryFlags may declare too
	requestTimeout time.Duration  // set by --request-timeout on one-shot commands
}

// registerRequestTimeout declares --request-timeout for a one-shot command
// (status). A long-running one (operator) must not get it: client-go's
// timeout also cuts its watches.
func (f *kubeFlags) registerRequestTimeout(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&f.requestTimeout, "request-timeout", defaultRequestTimeout,
		"give up on one request to the cluster when no answer came within this long; 0: no bound")
}

func (f *kubeFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context to use")
	registerVerbose(cmd)
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
	if err != nil {
		return nil, err
	}
	cfg.Timeout = f.requestTimeout
	if w := traceWriter(f.cmd); w != nil {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &kubeTrace{inner: rt, w: w} })
	}
	return cfg, nil
}

// kubeTrace writes one line per API request for -v, in the format of the
// registry client's trace: method, URL without user info, status or error,
// duration. Bearer tokens travel in headers, which are never written.
type kubeTrace struct {
	inner http.RoundTripper
	w     io.Writer
	mu    sync.Mutex
}

func (t *kubeTrace) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.inner.RoundTrip(req)
	outcome := ""
	if err != nil {
		outcome = "error: " + err.Error()
	} else {
		outcome = resp.Status
	}
	t.mu.Lock()
	fmt.Fprintf(t.w, "%s %s %s %v\n", req.Method, req.URL.Redacted(), outcome, time.Since(start).Round(time.Millisecond))
	t.mu.Unlock()
	return resp, err
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
