package node

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the node's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg       *prometheus.Registry
	questions *prometheus.CounterVec   // by tenant and outcome
	stage     *prometheus.HistogramVec // seconds per pipeline stage
	ingested  *prometheus.CounterVec   // pages by scope and result
	limited   prometheus.Counter       // requests refused by the rate limit
	fallbacks *prometheus.CounterVec
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		questions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistent_questions_total",
			Help: "Questions answered, by tenant and outcome (answered, refused, error).",
		}, []string{"tenant", "outcome"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "assistent_stage_seconds",
			Help:    "Time spent per answer pipeline stage (search, generate, total).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"stage"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistent_ingested_pages_total",
			Help: "Pages ingested, by result (written, unchanged, bad).",
		}, []string{"result"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "assistent_rate_limited_total",
			Help: "Requests refused because a client asked too often.",
		}),
	}
	chunks := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "assistent_chunks",
		Help: "Chunks in the vector index.",
	}, func() float64 {
		c, err := n.vectors.Count()
		if err != nil {
			return 0
		}
		return float64(c)
	})
	cacheAge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "assistent_federation_cache_age_seconds",
		Help: "Age of the node's cached copy of the federation registry (-1: not part of a federation or never synced).",
	}, func() float64 {
		st, ok := n.federationStatus()
		if !ok || st.CacheAge < 0 {
			return -1
		}
		return st.CacheAge.Seconds()
	})
	m.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assistent_fallbacks_total",
		Help: "Questions sent to other gemeente nodes (federated fallback), by peer and outcome (answered, error).",
	}, []string{"peer", "outcome"})
	m.reg.MustRegister(m.questions, m.stage, m.ingested, m.limited, chunks, cacheAge, m.fallbacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(stage string, since time.Time) {
	m.stage.WithLabelValues(stage).Observe(time.Since(since).Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
