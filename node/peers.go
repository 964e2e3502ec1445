package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/time/rate"

	"github.com/assistent-nl/assistent/federation/trust"
	peerv1 "github.com/assistent-nl/assistent/gen/assistent/peer/v1"
	"github.com/assistent-nl/assistent/gen/assistent/peer/v1/peerv1connect"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// FallbackConfig is the federated fallback of a node: when its own sources
// do not answer a question well, it may ask other gemeente nodes, within a
// deadline, and says so in the answer ("Volgens Gemeente X; dit kan bij u
// anders zijn").
type FallbackConfig struct {
	// Peers are the nodes asked, all at once (hedged); empty turns the
	// fallback off. National collections are on every node already.
	Peers []Peer
	// MinConfidence: a local answer below it, or a refusal for lack of
	// sources, asks the peers.
	MinConfidence float64
	// Deadline bounds the whole fallback; a slow or dead peer never delays
	// the answer beyond it.
	Deadline time.Duration
	// Failures in a row after which a peer is skipped for Cooldown.
	Failures int
	Cooldown time.Duration
	// Client reaches the peers; it presents this node's federation
	// certificate.
	Client connect.HTTPClient
}

// Peer is another gemeente node.
type Peer struct {
	Org  string // e.g. GM0119
	Name string // e.g. "Gemeente Meppel"
	URL  string // its mutual-TLS peer listener, https://host:port
}

// DefaultFallbackConfig returns the defaults: off, 800 ms, a peer skipped
// for 30 s after 3 failures.
func DefaultFallbackConfig() FallbackConfig {
	return FallbackConfig{MinConfidence: 0.3, Deadline: 800 * time.Millisecond, Failures: 3, Cooldown: 30 * time.Second}
}

// peerPassages is what one peer answered.
type peerPassages struct {
	peer     Peer
	passages []answer.Passage
}

// breakers track failing peers.
type breakers struct {
	mu    sync.Mutex
	state map[string]*breaker
}

type breaker struct {
	fails     int
	openUntil time.Time
}

func (b *breakers) allow(url string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state[url]
	return s == nil || !now.Before(s.openUntil)
}

func (b *breakers) record(url string, ok bool, cfg FallbackConfig, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == nil {
		b.state = map[string]*breaker{}
	}
	s := b.state[url]
	if s == nil {
		s = &breaker{}
		b.state[url] = s
	}
	if ok {
		s.fails = 0
		return
	}
	s.fails++
	if s.fails >= cfg.Failures {
		s.openUntil = now.Add(cfg.Cooldown)
		s.fails = 0
	}
}

// askPeers sends the (scrubbed) question to every peer whose breaker is
// closed and returns what arrives before the deadline, in the order of
// cfg.Peers.
func (n *Node) askPeers(ctx context.Context, question string) []peerPassages {
	cfg := n.cfg.Fallback
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	results := make([]*peerPassages, len(cfg.Peers))
	var wg sync.WaitGroup
	for i, p := range cfg.Peers {
		if !n.peerBreakers.allow(p.URL, time.Now()) {
			continue
		}
		wg.Go(func() {
			c := peerv1connect.NewSearchServiceClient(cfg.Client, p.URL)
			resp, err := c.Search(ctx, connect.NewRequest(&peerv1.SearchRequest{Question: question, K: 6}))
			n.peerBreakers.record(p.URL, err == nil, cfg, time.Now())
			if err != nil {
				n.log.WarnContext(ctx, "federated fallback: peer failed", "peer", p.Org, "err", err)
				n.metrics.fallbacks.WithLabelValues(p.Org, "error").Inc()
				return
			}
			name := resp.Msg.GetName()
			if name == "" {
				name = p.Name
			}
			pp := &peerPassages{peer: Peer{Org: p.Org, Name: name, URL: p.URL}}
			for _, ps := range resp.Msg.GetPassages() {
				pp.passages = append(pp.passages, answer.Passage{
					DocID: ps.GetDocId(), URL: ps.GetUrl(), Title: ps.GetTitle(), Section: ps.GetSection(),
					Text: ps.GetText(), Score: ps.GetScore(),
				})
			}
			n.metrics.fallbacks.WithLabelValues(p.Org, "answered").Inc()
			results[i] = pp
		})
	}
	wg.Wait()
	var out []peerPassages
	for _, r := range results {
		if r != nil && len(r.passages) > 0 {
			out = append(out, *r)
		}
	}
	return out
}

// fallback asks the peers and, when one of them has sources that answer
// the question, returns that answer labelled with the gemeente it comes
// from. ok is false when no peer helped.
func (n *Node) fallback(ctx context.Context, req answer.Request) (answer.Answer, bool) {
	peers := n.askPeers(ctx, req.Question)
	if len(peers) == 0 {
		return answer.Answer{}, false
	}
	// Answer from one peer's pages only, the first in the configured order
	// that sent any: one gemeente's rules at a time, never a mix presented
	// as one.
	best := peers[0].peer
	passages := peers[0].passages[:min(len(peers[0].passages), n.cfg.AnswerK)]
	preq := req
	preq.Passages = passages
	a, err := n.answerer.Generate(ctx, preq)
	if err != nil || a.Refused {
		return answer.Answer{}, false
	}
	return answer.FromPeer(a, req, best.Name), true
}

// PeerSearchHandler returns the Connect SearchService that answers other
// nodes from the tenant's own pages (not the national collections: every
// node has those). Serve it on a listener with mutual TLS for federation
// members (trust.ServerTLS with trust.FederationPolicy); each member may
// ask perSecond questions a second.
func (n *Node) PeerSearchHandler(tenant, org string, perSecond float64) (string, http.Handler) {
	s := &peerSearch{n: n, tenant: tenant, org: org, rate: rate.Limit(perSecond), limiters: map[string]*rate.Limiter{}}
	path, h := peerv1connect.NewSearchServiceHandler(s, connect.WithReadMaxBytes(16<<10))
	return path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := trust.IdentityFromConnectionState(r.TLS)
		if err != nil {
			http.Error(w, "federation members only", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r.WithContext(trust.ContextWithIdentity(r.Context(), id)))
	})
}

type peerSearch struct {
	n           *Node
	tenant, org string
	rate        rate.Limit
	mu          sync.Mutex
	limiters    map[string]*rate.Limiter
}

var _ peerv1connect.SearchServiceHandler = (*peerSearch)(nil)

func (s *peerSearch) Search(ctx context.Context, req *connect.Request[peerv1.SearchRequest]) (*connect.Response[peerv1.SearchResponse], error) {
	id, ok := trust.IdentityFromContext(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("federation members only"))
	}
	s.mu.Lock()
	l := s.limiters[id.String()]
	if l == nil {
		l = rate.NewLimiter(s.rate, max(1, int(2*s.rate)))
		s.limiters[id.String()] = l
	}
	s.mu.Unlock()
	if !l.Allow() {
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%s asks too often", id.Org))
	}
	q := req.Msg.GetQuestion()
	if err := s.n.CheckQuestion(q); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	// The asker scrubs; this node scrubs again before it logs or searches.
	q = s.n.scrub(q)
	k := min(int(req.Msg.GetK()), 10)
	if k <= 0 {
		k = 6
	}
	t, err := s.n.tenant(s.tenant)
	if err != nil {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("this node serves no tenant to the federation"))
	}
	results, err := s.n.search(ctx, []string{retrieval.TenantScope(s.tenant)}, q, k, hybrid.ModeRerank)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, errors.New("search failed"))
	}
	out := &peerv1.SearchResponse{Org: s.org, Name: t.Name}
	for _, r := range results {
		out.Passages = append(out.Passages, &peerv1.Passage{
			DocId: r.Chunk.DocID, Url: r.Chunk.URL, Title: r.Chunk.Title, Section: r.Chunk.Section(),
			Text: r.Chunk.Text, Score: r.Score,
		})
	}
	s.n.log.InfoContext(ctx, "peer search", "peer", id.Org, "passages", len(out.Passages))
	return connect.NewResponse(out), nil
}
