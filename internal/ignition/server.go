package ignition

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/singleflight"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/hostedcluster"
	"github.com/hcpmirror/hcpmirror/internal/livemirrors"
	"github.com/hcpmirror/hcpmirror/pkg/ignition"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// Defaults of Options.
const (
	// DefaultRate is the requests per second one client IP may make to
	// /ignition; a node asks once per boot, retrying a few times at most.
	DefaultRate = 2
	// DefaultBurst is how many requests a client may make at once.
	DefaultBurst = 10
	// DefaultCacheSize bounds the cached payloads: one per NodePool and
	// architecture, typically.
	DefaultCacheSize = 64
	// buildTimeout bounds one payload build, all registry reads included.
	buildTimeout = 2 * time.Minute
)

// Options configure a Server.
type Options struct {
	// Namespace is the hosted control plane namespace; required.
	Namespace string
	// EnvOverrides and FlagOverrides are OPENSHIFT_IMG_OVERRIDES and the
	// --registry-overrides values, used only while the
	// hcpmirror-registries ConfigMap is absent.
	EnvOverrides  string
	FlagOverrides []string
	// RegistryOptions configure the registry clients (trust, timeouts);
	// credentials come from the pull-secret Secret only.
	RegistryOptions []registry.Option
	// Rate and Burst limit /ignition per client IP (DefaultRate,
	// DefaultBurst when zero).
	Rate  float64
	Burst int
	// Log receives operational messages; never tokens or payloads.
	Log logr.Logger
	// Now replaces time.Now for the previous token's expiry, in tests.
	Now func() time.Time
}

// Server serves Ignition payloads. Build it with New, start its watches with
// Start, and serve Handler (HTTPS) and MetricsHandler.
type Server struct {
	opts    Options
	log     logr.Logger
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	metrics *metrics
	limiter *limiter
	tokens  tokens
	mirrors *livemirrors.Mirrors

	tokenLister listerscorev1.SecretLister
	pullLister  listerscorev1.SecretLister
	cmLister    listerscorev1.ConfigMapLister
	hcpInformer cache.SharedIndexInformer
	synced      []cache.InformerSynced
	ready       chan struct{}
	providerMu  sync.Mutex
	providers   map[string]*releaseinfo.Provider
	payloads    payloadCache
	flights     singleflight.Group
}

// New checks opts and connects to the API server; nothing is watched
// until Start.
func New(cfg *rest.Config, opts Options) (*Server, error) {
	if opts.Namespace == "" {
		return nil, errors.New("namespace: empty (give --namespace or set POD_NAMESPACE)")
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Burst == 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Rate < 0 || opts.Burst < 0 {
		return nil, fmt.Errorf("rate %v, burst %d: want positive values", opts.Rate, opts.Burst)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, log: opts.Log, metrics: newMetrics(), providers: map[string]*releaseinfo.Provider{}, ready: make(chan struct{})}
	s.limiter = newLimiter(opts.Rate, opts.Burst, opts.Now)
	s.payloads.max = DefaultCacheSize
	var err error
	if s.mirrors, err = livemirrors.New(opts.EnvOverrides, opts.FlagOverrides, opts.Log); err != nil {
		return nil, err
	}
	// A bad registry option must fail at start, not on the first request.
	if _, err := s.provider("amd64"); err != nil {
		return nil, err
	}
	if s.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if s.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Start starts the informers and returns once their caches are synced (the
// server is ready then) or ctx ends. They stop when ctx ends.
//
// What is watched, in the namespace only: Secrets labelled TokenLabel=true,
// the Secret pull-secret (by field selector), ConfigMaps, and
// HostedControlPlanes. That is list and watch on those, the server's whole
// RBAC.
func (s *Server) Start(ctx context.Context) error {
	ns := s.opts.Namespace
	tokenSel := labels.SelectorFromSet(labels.Set{TokenLabel: "true"}).String()
	tokenF := informers.NewSharedInformerFactoryWithOptions(s.kube, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = tokenSel }))
	pullF := informers.NewSharedInformerFactoryWithOptions(s.kube, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", PullSecretName).String()
		}))
	cmF := informers.NewSharedInformerFactoryWithOptions(s.kube, 0, informers.WithNamespace(ns))
	dynF := dynamicinformer.NewFilteredDynamicSharedInformerFactory(s.dyn, 0, ns, nil)

	tokenInf := tokenF.Core().V1().Secrets()
	pullInf := pullF.Core().V1().Secrets()
	cmInf := cmF.Core().V1().ConfigMaps()
	s.hcpInformer = dynF.ForResource(hypershiftv1beta1.GroupVersion.WithResource("hostedcontrolplanes")).Informer()
	s.tokenLister, s.pullLister, s.cmLister = tokenInf.Lister(), pullInf.Lister(), cmInf.Lister()

	onAny := func(f func()) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { f() },
			UpdateFunc: func(any, any) { f() },
			DeleteFunc: func(any) { f() },
		}
	}
	if _, err := tokenInf.Informer().AddEventHandler(onAny(s.refreshTokens)); err != nil {
		return err
	}
	if _, err := cmInf.Informer().AddEventHandler(onAny(s.refreshOverrides)); err != nil {
		return err
	}
	s.synced = []cache.InformerSynced{tokenInf.Informer().HasSynced, pullInf.Informer().HasSynced, cmInf.Informer().HasSynced, s.hcpInformer.HasSynced}
	for _, f := range []interface{ Start(<-chan struct{}) }{tokenF, pullF, cmF, dynF} {
		f.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return fmt.Errorf("watching namespace %s: %w", ns, context.Cause(ctx))
	}
	s.refreshTokens()
	s.refreshOverrides()
	close(s.ready)
	s.log.Info("ready", "namespace", ns)
	return nil
}

// Ready reports whether Start has synced every cache.
func (s *Server) Ready() bool {
	select {
	case <-s.ready:
		return true
	default:
		return false
	}
}

func (s *Server) refreshTokens() {
	if s.tokenLister == nil {
		return
	}
	list, err := s.tokenLister.Secrets(s.opts.Namespace).List(labels.Everything())
	if err != nil {
		s.log.Error(err, "listing token Secrets from the cache")
		return
	}
	s.tokens.rebuild(list)
}

// refreshOverrides re-reads hcpmirror-registries (livemirrors). Only a
// change of the ConfigMap installs a new configuration and so invalidates
// the cached payloads.
func (s *Server) refreshOverrides() {
	changed := s.mirrors.Refresh(func() *corev1.ConfigMap {
		cm, err := s.cmLister.ConfigMaps(s.opts.Namespace).Get(hostedcluster.RegistriesConfigMap)
		if err != nil {
			return nil
		}
		return cm
	})
	if changed {
		s.payloads.purge()
		s.metrics.overridesGeneration.Inc()
	}
}

// provider returns the release provider for a node architecture, built on
// first use; providers are kept for the life of the server so their caches
// and connections are shared by every request.
func (s *Server) provider(arch string) (*releaseinfo.Provider, error) {
	s.providerMu.Lock()
	defer s.providerMu.Unlock()
	if p, ok := s.providers[arch]; ok {
		return p, nil
	}
	regOpts := append([]registry.Option{registry.WithoutDefaultAuthFile()}, s.opts.RegistryOptions...)
	p, err := releaseinfo.New(releaseinfo.WithRegistryOptions(regOpts...), releaseinfo.WithPlatform(platform(arch)))
	if err != nil {
		return nil, err
	}
	s.providers[arch] = p
	return p, nil
}

// Close releases the providers' connections.
func (s *Server) Close() {
	s.providerMu.Lock()
	defer s.providerMu.Unlock()
	for _, p := range s.providers {
		p.Close()
	}
}

// archs are the node architectures OpenShift ships.
var archs = map[string]bool{"amd64": true, "arm64": true, "ppc64le": true, "s390x": true}

// Handler is the HTTPS handler: /ignition, and /healthz and /readyz for
// probes that use the serving port.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ignition", s.serveIgnition)
	s.probes(mux)
	return mux
}

// MetricsHandler is the plain-HTTP handler of --metrics-addr: /metrics,
// /healthz and /readyz.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.metrics.handler())
	s.probes(mux)
	return mux
}

func (s *Server) probes(mux *http.ServeMux) {
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "caches not synced", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

// Outcomes of a request to /ignition, the label of the requests counter.
const (
	outcomeServed       = "served"
	outcomeUnauthorized = "unauthorized"
	outcomeRateLimited  = "rate_limited"
	outcomeBadRequest   = "bad_request"
	outcomeNotReady     = "not_ready"
	outcomeError        = "error"
)

func (s *Server) serveIgnition(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	outcome := outcomeError
	defer func() {
		s.metrics.requests.WithLabelValues(outcome).Inc()
		s.metrics.latency.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	}()
	if !s.limiter.allow(clientIP(r)) {
		outcome = outcomeRateLimited
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	if r.Method != http.MethodGet {
		outcome = outcomeBadRequest
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.Ready() {
		outcome = outcomeNotReady
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	token, ok := bearer(r)
	secret, found := s.tokens.lookup(token, s.opts.Now())
	if !ok || !found {
		outcome = outcomeUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="ignition"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	arch := r.URL.Query().Get(ArchQuery)
	if arch == "" {
		arch = r.Header.Get(ArchHeader)
	}
	if arch == "" {
		arch = "amd64"
	}
	if !archs[arch] {
		outcome = outcomeBadRequest
		http.Error(w, fmt.Sprintf("architecture %q: want amd64, arm64, ppc64le or s390x", arch), http.StatusBadRequest)
		return
	}
	payload, err := s.payload(r.Context(), secret, arch)
	if err != nil {
		// The error names images, mirrors and objects, never credentials
		// (pkg/registry redacts them); the token is not in it.
		s.log.Error(err, "building a payload", "secret", secret.Name, "nodePool", secret.Annotations[NodePoolAnnotation], "arch", arch)
		http.Error(w, "the payload cannot be built now; see the ignition-server log", http.StatusInternalServerError)
		return
	}
	outcome = outcomeServed
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	_, _ = w.Write(payload)
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// clientIP is the peer address: a proxy's X-Forwarded-For is not trusted,
// since any client can send one.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// payloadKey identifies everything a payload is built from: the token
// Secret and its release and config (not its token: a rotation serves the
// same bytes), the overrides generation, the HostedControlPlane (its
// imageContentSources and trust bundle reference), the trust bundle and
// pull secret versions, and the architecture.
func payloadKey(secret *corev1.Secret, gen uint64, hcpRV, trustRV, pullRV, arch string) string {
	h := sha256.New()
	for _, b := range [][]byte{[]byte(secret.UID), secret.Data[ReleaseKey], secret.Data[ConfigKey]} {
		h.Write(b)
		h.Write([]byte{0})
	}
	return strings.Join([]string{hex.EncodeToString(h.Sum(nil)), strconv.FormatUint(gen, 10), hcpRV, trustRV, pullRV, arch}, "\x00")
}

// payload returns the cached payload for secret and arch, or builds it
// (once for concurrent requests of one key).
func (s *Server) payload(ctx context.Context, secret *corev1.Secret, arch string) ([]byte, error) {
	mirrors, gen, err := s.mirrors.Get()
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	hcp, err := pickHCP(s.hcpInformer.GetStore().List())
	if err != nil {
		return nil, err
	}
	pull, err := s.pullLister.Secrets(s.opts.Namespace).Get(PullSecretName)
	if err != nil {
		return nil, fmt.Errorf("Secret %s/%s: %w", s.opts.Namespace, PullSecretName, err)
	}
	var trust *corev1.ConfigMap
	trustRV := ""
	if ref := hcp.Spec.AdditionalTrustBundle; ref != nil && ref.Name != "" {
		if trust, err = s.cmLister.ConfigMaps(s.opts.Namespace).Get(ref.Name); err != nil {
			return nil, fmt.Errorf("HostedControlPlane %s: spec.additionalTrustBundle: ConfigMap %s: %w", hcp.Name, ref.Name, err)
		}
		trustRV = trust.ResourceVersion
	}
	key := payloadKey(secret, gen, hcp.ResourceVersion, trustRV, pull.ResourceVersion, arch)
	if b, ok := s.payloads.get(key); ok {
		s.metrics.cache.WithLabelValues("hit").Inc()
		return b, nil
	}
	v, err, _ := s.flights.Do(key, func() (any, error) {
		if b, ok := s.payloads.get(key); ok {
			return b, nil
		}
		s.metrics.cache.WithLabelValues("miss").Inc()
		start := time.Now()
		// Shared by every request waiting on this key: the first one going
		// away must not fail the others.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), buildTimeout)
		defer cancel()
		b, err := s.build(bctx, mirrors, secret, hcp, pull, trust, arch)
		if err != nil {
			return nil, err
		}
		s.metrics.build.Observe(time.Since(start).Seconds())
		// A change that raced with the build leaves it uncached: the
		// generation read before building is the one it was built for.
		if _, now, _ := s.mirrors.Get(); now == gen {
			s.payloads.add(key, b)
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// build reads the release and its machine-config-operator image through
// mirrors and assembles the payload.
func (s *Server) build(ctx context.Context, mirrors *mirrorset.Config, secret *corev1.Secret, hcp *hypershiftv1beta1.HostedControlPlane, pull *corev1.Secret, trust *corev1.ConfigMap, arch string) ([]byte, error) {
	where := fmt.Sprintf("Secret %s/%s", secret.Namespace, secret.Name)
	image := strings.TrimSpace(string(secret.Data[ReleaseKey]))
	if image == "" {
		return nil, fmt.Errorf("%s: key %q is empty", where, ReleaseKey)
	}
	pullSecret := pull.Data[PullSecretKey]
	if len(pullSecret) == 0 {
		return nil, fmt.Errorf("Secret %s/%s: key %q is empty", pull.Namespace, pull.Name, PullSecretKey)
	}
	p, err := s.provider(arch)
	if err != nil {
		return nil, err
	}
	rel, err := p.Lookup(ctx, mirrors, image, pullSecret)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	mco, ok := rel.Components[MCOComponent]
	if !ok {
		return nil, fmt.Errorf("%s: release %s has no %s component", where, rel.Image, MCOComponent)
	}
	files, err := p.ImageFiles(ctx, mirrors, mco, pullSecret, ignition.MCOFilesDir)
	if err != nil {
		return nil, fmt.Errorf("%s: release %s: %w", where, rel.Image, err)
	}
	regConf, err := nodeRegistriesConf(hcp)
	if err != nil {
		return nil, err
	}
	in := ignition.Inputs{
		MCOFiles:       files.Files,
		RegistriesConf: regConf,
		PullSecret:     pullSecret,
		MachineConfigs: secret.Data[ConfigKey],
	}
	if trust != nil {
		in.TrustBundle = []byte(trust.Data[TrustBundleKey])
	}
	cfg, skipped, err := ignition.Build(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	for _, sk := range skipped {
		s.log.Info("config document skipped", "secret", secret.Name, "document", sk)
	}
	s.log.Info("payload built", "secret", secret.Name, "nodePool", secret.Annotations[NodePoolAnnotation], "arch", arch,
		"release", rel.Image, "releaseServedBy", rel.ServedBy, "mcoServedBy", files.ServedBy, "files", len(cfg.Storage.Files))
	return json.Marshal(cfg)
}

// platform is the image platform of a node architecture.
func platform(arch string) v1.Platform { return v1.Platform{OS: "linux", Architecture: arch} }
