package node

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/store"
)

// maxLoggedAnswer bounds the answer text kept in the question log, in
// characters.
const maxLoggedAnswer = 2000

// maxFoundPages is how many of the pages the search found are kept with
// a question.
const maxFoundPages = 3

// recordQuestion stores a resident's question in the tenant's question
// log, for the admin portal: scrubbed text, how it was answered, how long
// it took and the pages cited and found. num is the question's number in
// conversation (the question id feedback sends). A failure is logged; the
// resident's answer does not depend on it.
func (n *Node) recordQuestion(ctx context.Context, tenant, conversation string, num int, question string, a answer.Answer, tr *answer.Trace, took time.Duration) {
	q := store.Question{
		ID: conversation + "/" + strconv.Itoa(num), Tenant: tenant, Time: time.Now().UTC(),
		Text: n.scrub(question), Mode: string(a.Mode), Route: a.Route, Refused: a.Refused,
		Confidence: a.Confidence, Latency: took, Answer: truncateRunes(a.Text, maxLoggedAnswer),
	}
	for _, c := range a.Citations {
		q.Citations = append(q.Citations, store.Page{ID: c.ID, URL: c.URL, Title: c.Title})
		if c.From != "" {
			q.Fallback = true
		}
	}
	seen := map[string]bool{}
	for _, p := range tr.Request.Pages {
		if len(q.Found) == maxFoundPages {
			break
		}
		if !seen[p.URL] {
			seen[p.URL] = true
			q.Found = append(q.Found, store.Page{ID: p.DocID, URL: p.URL, Title: p.Title})
		}
	}
	for _, p := range tr.Request.Passages {
		if len(q.Found) == maxFoundPages {
			break
		}
		if !seen[p.URL] {
			seen[p.URL] = true
			q.Found = append(q.Found, store.Page{ID: p.DocID, URL: p.URL, Title: p.Title})
		}
	}
	if err := n.store.AddQuestion(q); err != nil {
		n.log.ErrorContext(ctx, "store question log", "tenant", tenant, "err", err)
	}
}

func truncateRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// retentionOf is how long a tenant's conversations, questions and
// feedback are kept: its own setting, else the node's.
func (n *Node) retentionOf(t store.Tenant) time.Duration {
	if t.RetentionDays > 0 {
		return time.Duration(t.RetentionDays) * 24 * time.Hour
	}
	return n.cfg.Retention
}

// expireTenantData deletes, per tenant, the question log and feedback
// older than its retention, and conversations older than a retention
// shorter than the node's (the node's own cut-off applies to all). It
// returns the conversations and the log records it removed.
func (n *Node) expireTenantData(now time.Time) (conversations, records int, err error) {
	ts, err := n.store.Tenants()
	if err != nil {
		return 0, 0, err
	}
	for _, t := range ts {
		cutoff := now.Add(-n.retentionOf(t))
		removed, err := n.store.DeleteQuestionsBefore(t.ID, cutoff)
		if err != nil {
			return conversations, records, err
		}
		records += removed
		if n.retentionOf(t) < n.cfg.Retention {
			removed, err = n.store.DeleteTenantConversationsBefore(t.ID, cutoff)
			if err != nil {
				return conversations, records, err
			}
			conversations += removed
		}
	}
	return conversations, records, nil
}
