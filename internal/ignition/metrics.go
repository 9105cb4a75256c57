package ignition

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus series, on a registry of its own so
// tests and processes never share global state.
type metrics struct {
	reg                 *prometheus.Registry
	requests            *prometheus.CounterVec
	latency             *prometheus.HistogramVec
	cache               *prometheus.CounterVec
	build               prometheus.Histogram
	overridesGeneration prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hcpmirror_ignition_requests_total",
			Help: "Requests to /ignition by outcome: served, unauthorized, rate_limited, bad_request, not_ready, error.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hcpmirror_ignition_request_duration_seconds",
			Help:    "Time to answer a request to /ignition, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"outcome"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hcpmirror_ignition_payload_cache_total",
			Help: "Payload cache lookups by result: hit or miss.",
		}, []string{"result"}),
		build: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hcpmirror_ignition_payload_build_seconds",
			Help:    "Time to build a payload on a cache miss (release and machine-config-operator reads included).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		overridesGeneration: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hcpmirror_ignition_overrides_changes_total",
			Help: "Times the overrides (hcpmirror-registries, or the environment without it) were installed.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.cache, m.build, m.overridesGeneration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range []string{outcomeServed, outcomeUnauthorized, outcomeRateLimited, outcomeBadRequest, outcomeNotReady, outcomeError} {
		m.requests.WithLabelValues(o)
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
