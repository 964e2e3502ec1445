package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/time/rate"

	"github.com/assistent-nl/assistent/federation/trust"
	peerv1 "github.com/assistent-nl/assistent/gen/assistent/peer/v1"
	"github.com/assistent-nl/assistent/gen/assistent/peer/v1/peerv1connect"
	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/guard"
	"github.com/assistent-nl/assistent/retrieval"
	"github.com/assistent-nl/assistent/retrieval/hybrid"
)

// FallbackMode is a node's federated fallback policy: whether, and which,
// other gemeente nodes it asks when its own sources fall short.
type FallbackMode string

// The fallback policies. National collections are on every node and are
// searched with the tenant's own pages, so both "off" and "national-only"
// answer from them; neither asks a peer.
const (
	// FallbackOff: the node asks no peer (a node outside a federation).
	FallbackOff FallbackMode = "off"
	// FallbackNationalOnly: a federation member that answers from its own
	// pages and the national collections only.
	FallbackNationalOnly FallbackMode = "national-only"
	// FallbackPeers: the configured Peers, in their order of preference.
	FallbackPeers FallbackMode = "peers"
	// FallbackNearest: the Nearest healthy members that serve the same kind
	// of content, nearest first, from the Source (gossip).
	FallbackNearest FallbackMode = "nearest"
)

// FallbackConfig is the federated fallback of a node: when its own sources
// do not answer a question well, it may ask other gemeente nodes, within a
// deadline, and says so in the answer ("Volgens Gemeente X; dit kan bij u
// anders zijn").
type FallbackConfig struct {
	// Mode is the policy. Empty means FallbackPeers when Peers are listed,
	// else FallbackNationalOnly.
	Mode FallbackMode
	// Peers are the nodes of the "peers" policy, most preferred first.
	Peers []Peer
	// Source finds the peers of the "nearest" policy; when it also lists
	// members (MemberLister), the status page shows them whatever the mode.
	Source PeerSource
	// Nearest is how many peers the "nearest" policy asks (default 3).
	Nearest int
	// MinConfidence: a local answer below it, or a refusal for lack of
	// sources, asks the peers.
	MinConfidence float64
	// Deadline bounds the whole fallback; a slow or dead peer never delays
	// the answer beyond it.
	Deadline time.Duration
	// Grace is how long an answer from a peer waits for better-ranked peers
	// that have not replied yet; after it the best-ranked answer at hand is
	// taken. All peers are asked at once (hedged), so a fast peer's answer
	// is never held up by a slow better-ranked one for longer than Grace.
	Grace time.Duration
	// Failures in a row after which a peer is skipped for Cooldown.
	Failures int
	Cooldown time.Duration
	// Client reaches the peers; it presents this node's federation
	// certificate.
	Client connect.HTTPClient
	// TenantModes sets the policy of single tenants of a node that serves
	// several ("meppel": off); the others follow Mode. The peers, source
	// and budget are the node's.
	TenantModes map[string]FallbackMode
}

// ForTenant returns the configuration as it applies to tenant.
func (c FallbackConfig) ForTenant(tenant string) FallbackConfig {
	if m, ok := c.TenantModes[tenant]; ok {
		c.Mode = m
	}
	return c
}

// PeerSource lists candidate peers for the "nearest" policy: the
// federation's membership as this node sees it (gossip, implemented
// outside the node).
type PeerSource interface {
	// Nearest returns up to n healthy peers that serve the node's kind of
	// content, nearest first.
	Nearest(n int) []Peer
}

// MemberLister is a PeerSource that can also list every member it knows,
// for the operator's status page.
type MemberLister interface {
	Members() []Member
}

// Member is a member of the federation's gossip as this node sees it.
type Member struct {
	Name       string        `json:"name"`
	Org        string        `json:"org"`
	Role       string        `json:"role"`
	Address    string        `json:"address"`               // gossip host:port
	APIAddress string        `json:"api_address,omitempty"` // its mutual-TLS API
	State      string        `json:"state"`                 // alive, suspect, dead or left
	RTT        time.Duration `json:"-"`
	Version    string        `json:"version,omitempty"`
	// Collections are the national collections the member serves, Topics
	// the kinds of content (e.g. "gemeente"), both as it gossips them.
	Collections []string `json:"collections,omitempty"`
	Topics      []string `json:"topics,omitempty"`
}

// Peer is another gemeente node.
type Peer struct {
	Org  string `json:"org"`  // e.g. GM0119
	Name string `json:"name"` // e.g. "Gemeente Meppel"
	URL  string `json:"url"`  // its mutual-TLS peer listener, https://host:port
	// Client, when set, reaches this peer instead of FallbackConfig.Client:
	// one that accepts only this peer's certificate, for a peer learnt
	// through gossip.
	Client connect.HTTPClient `json:"-"`
}

// DefaultFallbackConfig returns the defaults: the policy follows the peers
// (none: national-only), the 3 nearest for "nearest", 800 ms for the whole
// fallback, 100 ms grace for better-ranked peers, a peer skipped for 30 s
// after 3 failures.
func DefaultFallbackConfig() FallbackConfig {
	return FallbackConfig{MinConfidence: 0.3, Deadline: 800 * time.Millisecond, Grace: 100 * time.Millisecond,
		Nearest: defaultNearest, Failures: 3, Cooldown: 30 * time.Second}
}

// Policy returns the mode in force: Mode, or for an empty Mode "peers" when
// peers are listed and "national-only" otherwise.
func (c FallbackConfig) Policy() FallbackMode {
	switch {
	case c.Mode != "":
		return c.Mode
	case len(c.Peers) > 0:
		return FallbackPeers
	}
	return FallbackNationalOnly
}

// Enabled reports whether the policy asks peers and has what it needs to:
// a client, and peers or a source.
func (c FallbackConfig) Enabled() bool {
	if c.Client == nil {
		return false
	}
	switch c.Policy() {
	case FallbackPeers:
		return len(c.Peers) > 0
	case FallbackNearest:
		return c.Source != nil
	}
	return false
}

// Validate reports the first unusable field by its name.
func (c FallbackConfig) Validate() error {
	switch c.Mode {
	case "", FallbackOff, FallbackNationalOnly, FallbackPeers, FallbackNearest:
	default:
		return fmt.Errorf("fallback.mode: %q is not off, national-only, peers or nearest", c.Mode)
	}
	for tenant, m := range c.TenantModes {
		switch m {
		case FallbackOff, FallbackNationalOnly, FallbackPeers, FallbackNearest:
		default:
			return fmt.Errorf("fallback.tenants[%s]: %q is not off, national-only, peers or nearest", tenant, m)
		}
	}
	switch {
	case c.Mode == FallbackPeers && len(c.Peers) == 0:
		return errors.New("fallback.peers: the peers policy needs at least one peer")
	case c.Mode == FallbackNearest && c.Source == nil:
		return errors.New("fallback.source: the nearest policy needs gossip")
	case c.Nearest < 0:
		return errors.New("fallback.nearest: must not be negative")
	case c.Deadline <= 0:
		return errors.New("fallback.deadline: must be positive")
	case c.Grace < 0:
		return errors.New("fallback.grace: must not be negative")
	case c.Failures < 1 || c.Cooldown < 0:
		return errors.New("fallback.failures: must be at least 1, and cooldown not negative")
	}
	for i, p := range c.Peers {
		if p.Org == "" || !strings.HasPrefix(p.URL, "https://") {
			return fmt.Errorf("fallback.peers[%d]: want an org and an https url", i)
		}
	}
	return nil
}

// The outcomes of asking one peer, as counted in metrics and shown on the
// status page.
const (
	outcomeAnswered = "answered"        // its pages gave the answer
	outcomeRefused  = "refused"         // it replied, but its pages did not answer
	outcomeUnused   = "unused"          // it replied; a better-ranked peer's answer was taken
	outcomeError    = "error"           // it failed or its reply was unusable
	outcomeTimeout  = "timeout"         // no reply within the deadline
	outcomeSkipped  = "skipped-breaker" // skipped: it failed too often lately
	outcomeLate     = "late"            // still out when the answer was taken (see settle)
)

// breakers track the peers of the federated fallback: a circuit breaker
// per peer, and the last fallbacks for the operator (the status page).
type breakers struct {
	mu     sync.Mutex
	state  map[string]*breaker
	recent [recentFallbacks]FallbackRecord
	next   int // index in recent of the next record
	count  int // records in recent
}

// defaultNearest is how many peers the nearest policy asks by default.
const defaultNearest = 3

// recentFallbacks is how many fallbacks the status page shows.
const recentFallbacks = 50

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

// open returns the peers (by URL) whose breaker is open at now, with the
// time it closes.
func (b *breakers) open(now time.Time) map[string]time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]time.Time{}
	for url, s := range b.state {
		if now.Before(s.openUntil) {
			out[url] = s.openUntil
		}
	}
	return out
}

// log keeps r as the newest of the recent fallbacks.
func (b *breakers) log(r FallbackRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recent[b.next] = r
	b.next = (b.next + 1) % recentFallbacks
	b.count = min(b.count+1, recentFallbacks)
}

// last returns the recent fallbacks, newest first.
func (b *breakers) last() []FallbackRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]FallbackRecord, 0, b.count)
	for i := 1; i <= b.count; i++ {
		out = append(out, b.recent[(b.next-i+recentFallbacks)%recentFallbacks])
	}
	return out
}

// FallbackRecord is one federated fallback as the status page shows it:
// whom the node asked and how each did. It holds no question text.
type FallbackRecord struct {
	Time     time.Time `json:"time"`
	Duration float64   `json:"duration_ms"`
	// AnsweredBy is the organisation whose pages gave the answer; empty
	// when no peer's did.
	AnsweredBy string        `json:"answered_by"`
	Peers      []PeerAttempt `json:"peers"`
}

// PeerAttempt is one peer asked (or skipped) in a fallback.
type PeerAttempt struct {
	Org string `json:"org"`
	// Outcome is answered, refused, unused, error, timeout,
	// skipped-breaker or late.
	Outcome  string  `json:"outcome"`
	Duration float64 `json:"duration_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// candidates returns the peers to ask in the policy's order, without those
// whose breaker is open; those are returned as skipped.
func (n *Node) candidates(cfg FallbackConfig, now time.Time) (ask []Peer, skipped []Peer) {
	switch cfg.Policy() {
	case FallbackPeers:
		for _, p := range cfg.Peers {
			if n.peerBreakers.allow(p.URL, now) {
				ask = append(ask, p)
			} else {
				skipped = append(skipped, p)
			}
		}
	case FallbackNearest:
		want := cmp.Or(cfg.Nearest, defaultNearest)
		// Ask for more than needed: members whose breaker is open make room
		// for the next nearest.
		for _, p := range cfg.Source.Nearest(2 * want) {
			switch {
			case len(ask) == want:
			case n.peerBreakers.allow(p.URL, now):
				ask = append(ask, p)
			default:
				skipped = append(skipped, p)
			}
		}
	}
	return ask, skipped
}

// peerReply is what one peer sent, or why it sent nothing.
type peerReply struct {
	rank     int
	peer     Peer // Name as the peer gave it
	passages []answer.Passage
	err      error
	took     time.Duration
}

// askPeer sends the (scrubbed) question to one peer.
func (n *Node) askPeer(ctx context.Context, cfg FallbackConfig, rank int, p Peer, question string) peerReply {
	start := time.Now()
	r := peerReply{rank: rank, peer: p}
	client := cfg.Client
	if p.Client != nil {
		client = p.Client
	}
	c := peerv1connect.NewSearchServiceClient(client, p.URL)
	resp, err := c.Search(ctx, connect.NewRequest(&peerv1.SearchRequest{Question: question, K: 6}))
	r.took = time.Since(start)
	if err != nil {
		r.err = err
		return r
	}
	if org := resp.Msg.GetOrg(); org != "" && org != p.Org {
		// Its certificate was checked; a reply in another's name is not.
		r.err = fmt.Errorf("peer %s replied as %s", p.Org, org)
		return r
	}
	if name := resp.Msg.GetName(); name != "" {
		r.peer.Name = name
	}
	for _, ps := range resp.Msg.GetPassages() {
		r.passages = append(r.passages, answer.Passage{
			DocID: ps.GetDocId(), URL: ps.GetUrl(), Title: ps.GetTitle(), Section: ps.GetSection(),
			Text: ps.GetText(), Score: ps.GetScore(),
		})
	}
	return r
}

// fallback asks the peers of the policy and, when the pages of one of them
// answer the question, returns that answer labelled with the gemeente it
// comes from. ok is false when no peer helped.
//
// Every peer is asked at once, within cfg.Deadline for the whole fallback.
// The replies are tried in the policy's order, each on its own: one
// gemeente's rules per answer, never a mix presented as one. A peer whose
// pages do not answer passes the turn to the next. A reply waits for
// better-ranked peers still out for at most cfg.Grace.
func (n *Node) fallback(ctx context.Context, cfg FallbackConfig, req answer.Request) (answer.Answer, bool) {
	if !cfg.Enabled() {
		return answer.Answer{}, false
	}
	start := time.Now()
	peers, skipped := n.candidates(cfg, start)
	rec := FallbackRecord{Time: start.UTC()}
	for _, p := range skipped {
		rec.Peers = append(rec.Peers, PeerAttempt{Org: p.Org, Outcome: outcomeSkipped})
		n.metrics.fallbacks.WithLabelValues(p.Org, outcomeSkipped).Inc()
	}
	if len(peers) == 0 {
		rec.Duration = ms(time.Since(start))
		n.peerBreakers.log(rec)
		return answer.Answer{}, false
	}

	// The peers get the whole budget even when an answer is taken sooner
	// or the resident leaves: the breakers learn of a peer that is too
	// slow, and the peers do the work they were asked for anyway.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Deadline)
	replies := make(chan peerReply, len(peers))
	for i, p := range peers {
		go func() { replies <- n.askPeer(qctx, cfg, i, p, req.Question) }()
	}

	run := hedge{ctx: ctx, n: n, cfg: cfg, req: req, replies: make([]*peerReply, len(peers)), outcome: make([]string, len(peers))}
	var graceC <-chan time.Time
	winner := -1
wait:
	for {
		w, done := run.pick(time.Now())
		if w >= 0 || done {
			winner = w
			break
		}
		if !run.graceAt.IsZero() && !run.graceOver && graceC == nil {
			t := time.NewTimer(time.Until(run.graceAt))
			defer t.Stop()
			graceC = t.C
		}
		select {
		case r := <-replies:
			run.arrive(r)
		case <-graceC:
			run.graceOver = true
		case <-qctx.Done():
			// The budget is spent: the peers still out are too slow; what
			// arrived may still answer.
			for i, o := range run.outcome {
				if o == "" {
					run.outcome[i] = outcomeTimeout
					n.peerBreakers.record(peers[i].URL, false, cfg, time.Now())
				}
			}
			run.graceOver = true
		case <-ctx.Done():
			break wait // the resident left
		}
	}
	late := 0
	for i, o := range run.outcome {
		if o == "" {
			run.outcome[i] = outcomeLate
			late++
		}
	}
	if late > 0 {
		go n.settle(replies, late, cfg, cancel)
	} else {
		cancel()
	}

	took := time.Since(start)
	rec.Duration = ms(took)
	for i, p := range peers {
		o := run.outcome[i]
		switch {
		case i == winner:
			o = outcomeAnswered
			rec.AnsweredBy = p.Org
		case o == outcomeReady:
			o = outcomeUnused
		}
		d := took
		if r := run.replies[i]; r != nil {
			d = r.took
		}
		rec.Peers = append(rec.Peers, PeerAttempt{Org: p.Org, Outcome: o, Duration: ms(d)})
		n.metrics.fallbacks.WithLabelValues(p.Org, o).Inc()
	}
	n.peerBreakers.log(rec)
	if winner < 0 {
		return answer.Answer{}, false
	}
	return run.answer, true
}

// rrfK is the constant of reciprocal rank fusion.
const rrfK = 60

// fusePassages merges the node's own passages with a peer's by reciprocal
// rank fusion, score 1/(rrfK+rank) in each list, at most k. Every peer
// passage is marked as the peer's (From), so the answer can say whose rule
// each sentence states. A tie goes to the peer's passage: the fallback runs
// because the own passages did not answer well, and the answerer measures
// its confidence on the first passage.
func fusePassages(own, peer []answer.Passage, peerName string, k int) []answer.Passage {
	type fused struct {
		p     answer.Passage
		score float64
		peer  bool
	}
	var all []fused
	for i, p := range own {
		all = append(all, fused{p: p, score: 1 / float64(rrfK+i+1)})
	}
	for i, p := range peer {
		p.From = peerName
		all = append(all, fused{p: p, score: 1 / float64(rrfK+i+1), peer: true})
	}
	slices.SortStableFunc(all, func(a, b fused) int {
		switch {
		case a.score != b.score:
			return cmp.Compare(b.score, a.score)
		case a.peer != b.peer:
			if a.peer {
				return -1
			}
			return 1
		}
		return 0
	})
	out := make([]answer.Passage, 0, min(k, len(all)))
	for _, f := range all[:min(k, len(all))] {
		f.p.Score = f.score
		out = append(out, f.p)
	}
	return out
}

// settle waits, off the resident's path, for the replies still out when
// a fallback ended (they come within the deadline) and tells the breakers;
// then it releases the requests' context.
func (n *Node) settle(replies <-chan peerReply, pending int, cfg FallbackConfig, release context.CancelFunc) {
	defer release()
	for range pending {
		r := <-replies
		n.peerBreakers.record(r.peer.URL, r.err == nil, cfg, time.Now())
		if r.err != nil {
			n.log.Warn("federated fallback: peer failed after the answer was taken", "peer", r.peer.Org, "err", r.err)
		}
	}
}

// ErrNoPeerAnswer is returned by AskPeers when the policy asks no peer or
// no peer's pages answer the question.
var ErrNoPeerAnswer = errors.New("no peer answered")

// AskPeers puts a resident's question to the federation directly, under the
// node's fallback policy, skipping the tenant's own sources: for operators
// checking the federation and for measuring the fallback. The question is
// checked and scrubbed as in Ask; one the input guard or the policy stops
// is not sent, and yields ErrNoPeerAnswer like a question no peer answers.
func (n *Node) AskPeers(ctx context.Context, tenant, question string) (answer.Answer, error) {
	if err := n.CheckQuestion(question); err != nil {
		return answer.Answer{}, err
	}
	t, err := n.tenant(tenant)
	if err != nil {
		return answer.Answer{}, err
	}
	v := guard.Check(question)
	if v.Injection || v.WantsHuman {
		return answer.Answer{}, fmt.Errorf("%w: the input guard keeps this question on the node", ErrNoPeerAnswer)
	}
	if intent, _ := answer.Classify(v.Scrubbed); intent == answer.Unlawful || intent == answer.OthersData {
		return answer.Answer{}, fmt.Errorf("%w: the policy refuses this question", ErrNoPeerAnswer)
	}
	req := answer.Request{Question: v.Scrubbed, Lang: "nl",
		Referral: answer.Referral{Name: t.Name, Phone: t.Phone, ContactURL: t.ContactURL, Hours: t.Hours}}
	a, ok := n.fallback(ctx, n.cfg.Fallback.ForTenant(tenant), req)
	if !ok {
		return answer.Answer{}, ErrNoPeerAnswer
	}
	return a, nil
}

// outcomeReady marks a reply with passages not tried yet.
const outcomeReady = "ready"

// hedge is the state of one fallback's replies, in the policy's order.
type hedge struct {
	ctx     context.Context // the caller's
	n       *Node
	cfg     FallbackConfig
	req     answer.Request
	replies []*peerReply
	// outcome per peer: "" while it is out, outcomeReady when its
	// passages wait to be tried, else final.
	outcome   []string
	graceAt   time.Time // when better-ranked peers stop holding a reply up
	graceOver bool
	answer    answer.Answer
}

// arrive takes in one peer's reply and updates its breaker.
func (h *hedge) arrive(r peerReply) {
	h.replies[r.rank] = &r
	if r.err != nil {
		h.n.log.WarnContext(h.ctx, "federated fallback: peer failed", "peer", r.peer.Org, "err", r.err)
		h.n.peerBreakers.record(r.peer.URL, false, h.cfg, time.Now())
		h.outcome[r.rank] = outcomeError
		if errors.Is(r.err, context.DeadlineExceeded) || connect.CodeOf(r.err) == connect.CodeDeadlineExceeded {
			h.outcome[r.rank] = outcomeTimeout
		}
		return
	}
	h.n.peerBreakers.record(r.peer.URL, true, h.cfg, time.Now())
	if len(r.passages) == 0 {
		h.outcome[r.rank] = outcomeRefused
		return
	}
	h.outcome[r.rank] = outcomeReady
}

// pick walks the peers in the policy's order and returns the first whose
// passages answer (its answer in h.answer), trying ready replies as it
// goes. It stops at a peer still out unless the grace is over. done is
// true when nothing more can answer.
func (h *hedge) pick(now time.Time) (winner int, done bool) {
	if !h.graceAt.IsZero() && !now.Before(h.graceAt) {
		h.graceOver = true
	}
	waiting := false
	for i, o := range h.outcome {
		switch o {
		case "":
			if !h.graceOver && h.graceAt.IsZero() && h.readyAfter(i) {
				h.graceAt = now.Add(h.cfg.Grace)
				h.graceOver = h.cfg.Grace <= 0
			}
			if !h.graceOver {
				return -1, false
			}
			waiting = true
		case outcomeReady:
			r := h.replies[i]
			preq := h.req
			preq.Passages = fusePassages(h.req.Passages, r.passages, r.peer.Name, h.n.cfg.AnswerK)
			a, err := h.n.answerer.Generate(h.ctx, preq)
			if err == nil && !a.Refused {
				// Only an answer that uses the peer's pages adds anything;
				// the resident's own sources alone did not do well.
				if la, ok := answer.FromPeers(a, h.req); ok {
					h.answer = la
					return i, true
				}
			}
			h.outcome[i] = outcomeRefused
		}
	}
	return -1, !waiting
}

// readyAfter reports whether a peer ranked below i has passages to try.
func (h *hedge) readyAfter(i int) bool {
	return slices.Contains(h.outcome[i+1:], outcomeReady)
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
