package node

import (
	"net/http"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/models"

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
	refusals  *prometheus.CounterVec // by tenant and reason
	attempts  *prometheus.CounterVec // model provider attempts by task, provider and outcome
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
		Help: "Questions sent to other gemeente nodes (federated fallback), by peer and outcome (answered, refused, unused, error, timeout, skipped-breaker, late).",
	}, []string{"peer", "outcome"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assistent_refusals_total",
		Help: "Questions refused or handed to a person, by tenant and reason (guard:<rule>, policy:<rule>, low_confidence).",
	}, []string{"tenant", "reason"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assistent_model_attempts_total",
		Help: "Model provider attempts by task, provider and outcome (ok, timeout, error, malformed, unsupported, breaker_open, skipped_policy, ...); every outcome but ok made the route fall back.",
	}, []string{"task", "provider", "outcome"})
	m.reg.MustRegister(m.questions, m.stage, m.ingested, m.limited, chunks, cacheAge, m.fallbacks, m.refusals, m.attempts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// attempt counts one model provider attempt; the extractive answerer is
// not a provider and is left out.
func (m *metrics) attempt(rt models.Route, a models.Attempt) {
	if a.Provider == models.KindExtractive {
		return
	}
	m.attempts.WithLabelValues(rt.Task, a.Provider, a.Outcome()).Inc()
}

// refusal counts a refused answer or a hand-off by its reason: the guard
// or policy rule that decided it ("guard:human" for a request for a
// person), or "low_confidence" when the sources did not answer well
// enough.
func (m *metrics) refusal(tenant string, a answer.Answer) {
	reason := "low_confidence"
	if strings.HasPrefix(a.Route, "guard:") || strings.HasPrefix(a.Route, "policy:") {
		reason = a.Route
	}
	m.refusals.WithLabelValues(tenant, reason).Inc()
}

func (m *metrics) observe(stage string, since time.Time) { m.record(stage, time.Since(since)) }

// record adds a stage's duration d.
func (m *metrics) record(stage string, d time.Duration) {
	m.stage.WithLabelValues(stage).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
