package admin

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/assistent-nl/assistent/admin/audit"
	"github.com/assistent-nl/assistent/node/quality"
	"github.com/assistent-nl/assistent/node/store"
)

// weak reports whether q went unanswered or was answered weakly: no page
// covered it (noinfo), the assistant was unsure (suggest), or it stated
// an answer with low confidence. Refusals by policy and requests for a
// person are not content gaps and are left out.
func weak(q store.Question) bool {
	switch q.Mode {
	case "noinfo", "suggest":
		return true
	case "answer":
		return q.Confidence < weakConfidence && !strings.HasPrefix(q.Route, "guard:")
	}
	return false
}

// weakConfidence is the confidence below which a stated answer counts as
// weak.
const weakConfidence = 0.5

// Group is a set of similar unanswered questions.
type Group struct {
	Example   string           `json:"example"` // the most recent question
	Count     int              `json:"count"`
	Modes     map[string]int   `json:"modes"`
	Last      time.Time        `json:"last"`
	Questions []store.Question `json:"questions"`
	Pages     []store.Page     `json:"pages"` // the pages the search found most often
	terms     []string
}

// groupSimilarity is the share of shared terms (Jaccard) from which two
// questions are put in one group.
const groupSimilarity = 0.5

// groups collects the weak questions of the last days days and groups
// them by the overlap of their search terms, largest group first.
func (a *Admin) groups(tenant string, days int) ([]*Group, error) {
	since := a.now().AddDate(0, 0, -days)
	var qs []store.Question
	err := a.deps.Store.Questions(tenant, since, func(q store.Question) bool {
		if weak(q) {
			qs = append(qs, q)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	var out []*Group
	for i := len(qs) - 1; i >= 0; i-- { // newest first: the example is the latest
		q := qs[i]
		terms := uniqueTerms(a.deps.Terms(q.Text))
		var best *Group
		bestSim := 0.0
		for _, g := range out {
			if s := jaccard(terms, g.terms); s >= groupSimilarity && s > bestSim {
				best, bestSim = g, s
			}
		}
		if best == nil {
			best = &Group{Example: q.Text, Modes: map[string]int{}, Last: q.Time, terms: terms}
			out = append(out, best)
		}
		best.Count++
		best.Modes[q.Mode]++
		best.Questions = append(best.Questions, q)
	}
	for _, g := range out {
		g.Pages = topPages(g.Questions, 3)
	}
	slices.SortStableFunc(out, func(x, y *Group) int {
		if x.Count != y.Count {
			return y.Count - x.Count
		}
		return y.Last.Compare(x.Last)
	})
	return out, nil
}

func uniqueTerms(ts []string) []string {
	out := slices.Clone(ts)
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted term sets; two empty sets
// (questions of stop words only) are alike.
func jaccard(a, b []string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch strings.Compare(a[i], b[j]) {
		case 0:
			inter++
			i++
			j++
		case -1:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func topPages(qs []store.Question, n int) []store.Page {
	count := map[string]int{}
	byURL := map[string]store.Page{}
	for _, q := range qs {
		for _, p := range q.Found {
			count[p.URL]++
			byURL[p.URL] = p
		}
	}
	urls := make([]string, 0, len(count))
	for u := range count {
		urls = append(urls, u)
	}
	slices.SortFunc(urls, func(x, y string) int {
		if count[x] != count[y] {
			return count[y] - count[x]
		}
		return strings.Compare(x, y)
	})
	var out []store.Page
	for _, u := range urls[:min(n, len(urls))] {
		out = append(out, byURL[u])
	}
	return out
}

type unansweredData struct {
	Groups []*Group
	Days   int
	Total  int
}

func (a *Admin) unansweredPage(w http.ResponseWriter, r *http.Request, p *principal) {
	days := daysParam(r)
	gs, err := a.groups(r.PathValue("tenant"), days)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	total := 0
	for _, g := range gs {
		total += g.Count
	}
	v := a.newView(w, r, p, "unanswered.title", "unanswered")
	v.Data = unansweredData{Groups: gs, Days: days, Total: total}
	a.render(w, r, http.StatusOK, "unanswered", v)
}

// unansweredCSV writes the groups as CSV, one row per group.
func (a *Admin) unansweredCSV(w http.ResponseWriter, r *http.Request, p *principal) {
	gs, err := a.groups(r.PathValue("tenant"), daysParam(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="onbeantwoorde-vragen-`+r.PathValue("tenant")+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"aantal", "voorbeeldvraag", "laatst", "noinfo", "suggest", "answer", "andere_vragen", "gevonden_paginas"})
	for _, g := range gs {
		var others, pages []string
		for _, q := range g.Questions[1:] {
			others = append(others, q.Text)
		}
		for _, pg := range g.Pages {
			pages = append(pages, pg.URL)
		}
		row := []string{strconv.Itoa(g.Count), g.Example, g.Last.Format(time.RFC3339), strconv.Itoa(g.Modes["noinfo"]),
			strconv.Itoa(g.Modes["suggest"]), strconv.Itoa(g.Modes["answer"]), strings.Join(others, " | "), strings.Join(pages, " ")}
		for i := range row {
			row[i] = audit.CSVSafe(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
}

func (a *Admin) apiUnanswered(w http.ResponseWriter, r *http.Request, p *principal) {
	if r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv") {
		a.unansweredCSV(w, r, p)
		return
	}
	gs, err := a.groups(r.PathValue("tenant"), daysParam(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if gs == nil {
		gs = []*Group{}
	}
	writeJSON(w, http.StatusOK, gs)
}

// FeedbackItem is a resident's feedback with the question and answer it
// belongs to (when the question is still in the log).
type FeedbackItem struct {
	store.Feedback
	Question *store.Question `json:"question,omitempty"`
}

// feedback returns a tenant's feedback, newest first, at most limit.
func (a *Admin) feedback(tenant string, limit int) ([]FeedbackItem, error) {
	fb, err := a.deps.Store.FeedbackFor(tenant)
	if err != nil {
		return nil, err
	}
	out := []FeedbackItem{}
	for i := len(fb) - 1; i >= 0 && len(out) < limit; i-- {
		it := FeedbackItem{Feedback: fb[i]}
		if fb[i].QuestionID != "" {
			if q, err := a.deps.Store.Question(tenant, fb[i].QuestionID); err == nil {
				it.Question = &q
			}
		}
		out = append(out, it)
	}
	return out, nil
}

func (a *Admin) feedbackPage(w http.ResponseWriter, r *http.Request, p *principal) {
	items, err := a.feedback(r.PathValue("tenant"), 200)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "feedback.title", "feedback")
	v.Data = items
	a.render(w, r, http.StatusOK, "feedback", v)
}

func (a *Admin) apiFeedback(w http.ResponseWriter, r *http.Request, p *principal) {
	items, err := a.feedback(r.PathValue("tenant"), 1000)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, items)
}

// Verdicts staff give an answer.
var Verdicts = []string{"goed", "onvolledig", "fout"}

// Review is staff's judgement of one answer; with EvalCase it is also an
// evaluation case (answers.jsonl).
type Review struct {
	QuestionID string    `json:"question_id"`
	Question   string    `json:"question"`
	Verdict    string    `json:"verdict"`
	Note       string    `json:"note,omitempty"`
	EvalCase   bool      `json:"eval_case"`
	Reference  string    `json:"reference_answer,omitempty"`
	Relevant   []string  `json:"relevant,omitempty"` // document ids of the pages that answer it
	Reviewer   string    `json:"reviewer"`
	Time       time.Time `json:"time"`
}

// ReviewInput is what the API and the form send.
type ReviewInput struct {
	Verdict   string   `json:"verdict"`
	Note      string   `json:"note"`
	EvalCase  bool     `json:"eval_case"`
	Reference string   `json:"reference_answer"`
	Relevant  []string `json:"relevant"`
}

func (in ReviewInput) check() *fieldError {
	switch {
	case !slices.Contains(Verdicts, in.Verdict):
		return &fieldError{"verdict", "review.invalid.verdict"}
	case utf8.RuneCountInString(in.Note) > 2000 || utf8.RuneCountInString(in.Reference) > 4000 || len(in.Relevant) > 20:
		return &fieldError{"note", "review.invalid.long"}
	case in.EvalCase && strings.TrimSpace(in.Reference) != "" && len(in.Relevant) == 0:
		return &fieldError{"relevant", "review.invalid.relevant"}
	}
	return nil
}

func (a *Admin) review(tenant, id string) (Review, error) {
	var rv Review
	err := a.deps.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReviews).Bucket([]byte(tenant))
		if b == nil {
			return ErrNotFound
		}
		return store.GetJSON(b, []byte(id), &rv)
	})
	return rv, err
}

func (a *Admin) reviews(tenant string) ([]Review, error) {
	var out []Review
	err := a.deps.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReviews).Bucket([]byte(tenant))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var rv Review
			if err := json.Unmarshal(v, &rv); err != nil {
				return err
			}
			out = append(out, rv)
			return nil
		})
	})
	slices.SortFunc(out, func(x, y Review) int { return y.Time.Compare(x.Time) })
	return out, err
}

// saveReview stores a review of question id and audits it (the question
// text is already scrubbed; the audit entry names only the id).
func (a *Admin) saveReview(r *http.Request, p *principal, tenant, id string, in ReviewInput) (Review, error) {
	q, err := a.deps.Store.Question(tenant, id)
	if err != nil {
		return Review{}, err
	}
	if fe := in.check(); fe != nil {
		return Review{}, fe
	}
	rv := Review{QuestionID: id, Question: q.Text, Verdict: in.Verdict, Note: strings.TrimSpace(in.Note), EvalCase: in.EvalCase,
		Reference: strings.TrimSpace(in.Reference), Relevant: in.Relevant, Reviewer: p.user.Email, Time: a.now().UTC()}
	if rv.EvalCase && rv.Relevant == nil {
		rv.Relevant = []string{}
	}
	before, _ := a.review(tenant, id)
	err = a.deps.DB.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketReviews).CreateBucketIfNotExists([]byte(tenant))
		if err != nil {
			return err
		}
		return store.PutJSON(b, []byte(id), rv)
	})
	if err != nil {
		return Review{}, err
	}
	summary := func(x Review) any {
		if x.Verdict == "" {
			return nil
		}
		return map[string]any{"verdict": x.Verdict, "eval_case": x.EvalCase}
	}
	a.record(r, p, audit.Entry{Action: "review.save", Tenant: tenant, Target: id, Before: audit.Value(summary(before)), After: audit.Value(summary(rv))})
	return rv, nil
}

type questionData struct {
	Q      store.Question
	Review Review
	Field  string
}

func (a *Admin) questionPage(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("conv")+"/"+r.PathValue("num")
	q, err := a.deps.Store.Question(tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r)
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	rv, _ := a.review(tenant, id)
	v := a.newView(w, r, p, "question.title", "unanswered")
	v.Data = questionData{Q: q, Review: rv}
	a.render(w, r, http.StatusOK, "question", v)
}

func (a *Admin) reviewForm(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("conv")+"/"+r.PathValue("num")
	in := ReviewInput{Verdict: r.PostFormValue("verdict"), Note: r.PostFormValue("note"),
		EvalCase: r.PostFormValue("eval_case") == "on", Reference: r.PostFormValue("reference_answer")}
	for _, s := range strings.FieldsFunc(r.PostFormValue("relevant"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		in.Relevant = append(in.Relevant, strings.TrimSpace(s))
	}
	_, err := a.saveReview(r, p, tenant, id, in)
	var fe *fieldError
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r)
	case errors.As(err, &fe):
		q, _ := a.deps.Store.Question(tenant, id)
		v := a.newView(w, r, p, "question.title", "unanswered")
		v.Data = questionData{Q: q, Review: Review{Verdict: in.Verdict, Note: in.Note, EvalCase: in.EvalCase, Reference: in.Reference, Relevant: in.Relevant}, Field: fe.Field}
		v.Error = msg(v.Lang, fe.Key)
		a.render(w, r, http.StatusBadRequest, "question", v)
	case err != nil:
		a.fail(w, r, err)
	default:
		redirect(w, r, "/admin/t/"+tenant+"/questions/"+id, "reviewed")
	}
}

func (a *Admin) apiQuestion(w http.ResponseWriter, r *http.Request, p *principal) {
	tenant, id := r.PathValue("tenant"), r.PathValue("conv")+"/"+r.PathValue("num")
	q, err := a.deps.Store.Question(tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r)
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		store.Question
		Review *Review `json:"review,omitempty"`
	}{Question: q}
	if rv, err := a.review(tenant, id); err == nil {
		out.Review = &rv
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) apiReview(w http.ResponseWriter, r *http.Request, p *principal) {
	var in ReviewInput
	if !readJSON(w, r, &in) {
		return
	}
	tenant, id := r.PathValue("tenant"), r.PathValue("conv")+"/"+r.PathValue("num")
	rv, err := a.saveReview(r, p, tenant, id, in)
	var fe *fieldError
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r)
	case errors.As(err, &fe):
		invalid(w, r, fe.Field, fe.Key)
	case err != nil:
		a.fail(w, r, err)
	default:
		writeJSON(w, http.StatusOK, rv)
	}
}

func (a *Admin) reviewsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	rs, err := a.reviews(r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := a.newView(w, r, p, "reviews.title", "reviews")
	v.Data = rs
	a.render(w, r, http.StatusOK, "reviews", v)
}

// evalCases writes the reviews marked as evaluation cases in the
// answers.jsonl format that assistent eval answers reads.
func (a *Admin) evalCases(w http.ResponseWriter, r *http.Request, p *principal) {
	rs, err := a.reviews(r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="answers-`+r.PathValue("tenant")+`.jsonl"`)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := len(rs) - 1; i >= 0; i-- {
		rv := rs[i]
		if !rv.EvalCase {
			continue
		}
		rel := rv.Relevant
		if rel == nil {
			rel = []string{}
		}
		enc.Encode(quality.AnswerCase{Question: rv.Question, Reference: rv.Reference, Relevant: rel})
	}
}
