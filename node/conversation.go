package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/ingest"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
	"github.com/assistent-nl/assistent/retrieval/htmltext"
)

// maxTopicWords bounds the words a follow-up question inherits.
const maxTopicWords = 12

// followUpOpeners start a question that leans on the one before it.
var followUpOpeners = []string{"en ", "of ", "maar ", "ook ", "and ", "what about ", "en?"}

// Converse answers a question within a conversation. A follow-up ("en voor
// mijn kind?") is searched and answered together with the topic of the turn
// before it, without any model. The turn is stored with personal data
// scrubbed; the conversation id is returned. Only ids the node issued
// itself are continued: for "" or any other id (one the client made up,
// another tenant's, an expired one) a new id is issued, so a client can
// never choose what is stored as a key.
func (n *Node) Converse(ctx context.Context, tenant, conversation, question string) (answer.Answer, error) {
	// Ask checks the question and the tenant; nothing is stored when it fails.
	var prev *store.Turn
	num := 1 // the question's number in the conversation
	c, err := n.issuedConversation(tenant, conversation)
	switch {
	case err == nil:
		if len(c.Turns) > 0 {
			prev = &c.Turns[len(c.Turns)-1]
		}
		num = c.Questions() + 1
	case errors.Is(err, store.ErrNotFound):
		conversation = newConversationID()
	default:
		return answer.Answer{}, err
	}
	query := question
	if prev != nil && n.isFollowUp(question) {
		query = prev.Topic + " " + question
		// With a rewrite route a model turns the follow-up into one
		// standalone question; both turns are scrubbed before they leave.
		// Without one, or when it fails, the topic words carry over.
		rw, err := n.router.Load().Rewrite(ctx, tenant, []string{prev.Question}, n.scrub(question))
		switch {
		case err == nil && strings.TrimSpace(rw) != "":
			query = rw
		case err != nil && !errors.Is(err, models.ErrNoRoute):
			n.log.WarnContext(ctx, "rewrite failed; carrying the topic over", "tenant", tenant, "err", err)
		}
	}
	var tr answer.Trace
	start := time.Now()
	a, err := n.ask(ctx, tenant, query, &tr)
	if err != nil {
		return answer.Answer{}, err
	}
	n.recordQuestion(ctx, tenant, conversation, num, question, a, &tr, time.Since(start))
	topic := query
	if words := strings.Fields(topic); len(words) > maxTopicWords {
		topic = strings.Join(words[len(words)-maxTopicWords:], " ")
	}
	turn := store.Turn{Question: n.scrub(question), Topic: n.scrub(topic), Refused: a.Refused, Time: time.Now().UTC()}
	if err := n.store.AddTurn(conversation, tenant, turn); err != nil {
		n.log.ErrorContext(ctx, "store conversation turn", "err", err)
	}
	a.Conversation = conversation
	return textOnly(a), nil
}

// textOnly returns a with any markup dropped from what the chat API
// returns (the text, citation titles, the referral's text) and citation
// links that are not http(s) removed. Ingest keeps pages text only already; this
// covers content stored before it did, and answers of peers that do not.
func textOnly(a answer.Answer) answer.Answer {
	a.Text = htmltext.PlainText(a.Text)
	if len(a.Citations) > 0 {
		cs := make([]answer.Citation, len(a.Citations))
		for i, c := range a.Citations {
			c.Title = htmltext.PlainText(c.Title)
			c.From = htmltext.PlainText(c.From)
			if ingest.CheckURL(c.URL) != nil {
				c.URL = ""
			}
			cs[i] = c
		}
		a.Citations = cs
	}
	if a.Handoff != nil {
		h := *a.Handoff
		h.Message, h.Hours = htmltext.PlainText(h.Message), htmltext.PlainText(h.Hours)
		a.Handoff = &h // the contact URL is the tenant's own setting: any scheme (mailto:, tel:)
	}
	return a
}

// isFollowUp reports whether a question leans on the one before: it opens
// with "en", "of", "maar", ..., or has at most two words that carry meaning.
func (n *Node) isFollowUp(question string) bool {
	q := strings.ToLower(strings.TrimSpace(question))
	for _, o := range followUpOpeners {
		if strings.HasPrefix(q, o) {
			return true
		}
	}
	return len(n.analyzer.Terms(q)) <= 2
}

// conversationIDLen is the length of a conversation id: 128 random bits in
// lower-case hex.
const conversationIDLen = 32

// newConversationID returns a fresh conversation id. The id is random
// rather than signed: Converse reads the conversation anyway to find the
// turn before, so recognising the node's own ids needs no extra lookup and
// no key to keep, rotate or lose; 128 bits cannot be guessed, and the id
// carries nothing about the resident.
func newConversationID() string {
	b := make([]byte, conversationIDLen/2)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}

// isConversationID reports whether id has the shape of an id the node
// issues, so that other strings never reach the store, not even as a key
// to look up.
func isConversationID(id string) bool {
	if len(id) != conversationIDLen {
		return false
	}
	for i := range len(id) {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// issuedConversation returns the stored conversation id of tenant, or an
// error wrapping store.ErrNotFound when id is not one the node issued for
// tenant or has expired.
func (n *Node) issuedConversation(tenant, id string) (store.Conversation, error) {
	if !isConversationID(id) {
		return store.Conversation{}, fmt.Errorf("conversation: %w", store.ErrNotFound)
	}
	c, err := n.store.Conversation(id)
	if err != nil {
		return store.Conversation{}, err
	}
	if c.Tenant != tenant {
		return store.Conversation{}, fmt.Errorf("conversation of another tenant: %w", store.ErrNotFound)
	}
	return c, nil
}

// ErrBadQuestionID is returned by CheckQuestionID for an id that the node
// never issues: not "<conversation>/<n>" with a conversation id of the
// node's shape and n a positive number.
var ErrBadQuestionID = errors.New("not a question id of this node")

// ErrUnknownQuestion is returned by CheckQuestionID for an id of the right
// shape that names no question the node answered for the tenant: another
// tenant's, an expired conversation, or a question not asked yet.
var ErrUnknownQuestion = errors.New("unknown question")

// maxQuestionDigits bounds n in a question id; conversations expire long
// before a million questions.
const maxQuestionDigits = 6

// CheckQuestionID checks a question id sent with feedback. A question id
// is "<conversation>/<n>": the conversation id Converse returned and the
// number of the question in it, counting from 1 (the widget's own count).
// It returns nil for "" (feedback on no question in particular) and for
// the id of a question the node answered for tenant, else an error
// wrapping ErrBadQuestionID or ErrUnknownQuestion, so that an id the node
// did not issue is never stored.
func (n *Node) CheckQuestionID(tenant, id string) error {
	if id == "" {
		return nil
	}
	conv, num, ok := strings.Cut(id, "/")
	k, err := strconv.Atoi(num)
	if !ok || !isConversationID(conv) || err != nil || k < 1 || len(num) > maxQuestionDigits || num[0] == '0' {
		return ErrBadQuestionID
	}
	c, err := n.issuedConversation(tenant, conv)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: no such conversation", ErrUnknownQuestion)
	case err != nil:
		return err
	case k > c.Questions():
		return fmt.Errorf("%w: question %d of %d", ErrUnknownQuestion, k, c.Questions())
	}
	return nil
}

// questionIDProblem writes the problem response for an error of
// CheckQuestionID and reports whether it did; other errors are left to
// the caller.
func questionIDProblem(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, ErrBadQuestionID):
		writeProblem(w, http.StatusBadRequest, "invalid question_id", msgBadQuestionID)
	case errors.Is(err, ErrUnknownQuestion):
		writeProblem(w, http.StatusNotFound, "unknown question_id", msgUnknownQuestion)
	default:
		return false
	}
	return true
}

// ExpireConversations deletes conversations not updated within the
// retention period.
func (n *Node) ExpireConversations(now time.Time) (int, error) {
	removed, err := n.store.DeleteConversationsBefore(now.Add(-n.cfg.Retention))
	if err != nil {
		return removed, err
	}
	// Per-tenant retention (questions.go); the question log and feedback
	// expire with it.
	more, records, err := n.expireTenantData(now)
	if records > 0 {
		n.log.Info("expired question log and feedback", "records", records)
	}
	return removed + more, err
}

// RunJanitor expires conversations every interval until ctx is done.
func (n *Node) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if removed, err := n.ExpireConversations(time.Now()); err != nil {
			n.log.Error("expire conversations", "err", err)
		} else if removed > 0 {
			n.log.Info("expired conversations", "removed", removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
