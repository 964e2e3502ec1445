package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/assistent-nl/assistent/node/answer"
	"github.com/assistent-nl/assistent/node/models"
	"github.com/assistent-nl/assistent/node/store"
)

// maxTopicWords bounds the words a follow-up question inherits.
const maxTopicWords = 12

// followUpOpeners start a question that leans on the one before it.
var followUpOpeners = []string{"en ", "of ", "maar ", "ook ", "and ", "what about ", "en?"}

// Converse answers a question within a conversation. A follow-up ("en voor
// mijn kind?") is searched and answered together with the topic of the turn
// before it, without any model. The turn is stored with personal data
// scrubbed; the conversation id is returned, a new one when conversation is
// "" or unknown.
func (n *Node) Converse(ctx context.Context, tenant, conversation, question string) (answer.Answer, error) {
	// Ask checks the question and the tenant; nothing is stored when it fails.
	var prev *store.Turn
	if conversation != "" {
		c, err := n.store.Conversation(conversation)
		switch {
		case err == nil && c.Tenant == tenant && len(c.Turns) > 0:
			prev = &c.Turns[len(c.Turns)-1]
		case err == nil, errors.Is(err, store.ErrNotFound):
			// Another tenant's id or an expired one: start afresh.
			if err == nil && c.Tenant != tenant {
				conversation = ""
			}
		default:
			return answer.Answer{}, err
		}
	}
	if conversation == "" || len(conversation) > 64 {
		conversation = newConversationID()
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
	a, err := n.Ask(ctx, tenant, query)
	if err != nil {
		return answer.Answer{}, err
	}
	topic := query
	if words := strings.Fields(topic); len(words) > maxTopicWords {
		topic = strings.Join(words[len(words)-maxTopicWords:], " ")
	}
	turn := store.Turn{Question: n.scrub(question), Topic: n.scrub(topic), Refused: a.Refused, Time: time.Now().UTC()}
	if err := n.store.AddTurn(conversation, tenant, turn); err != nil {
		n.log.ErrorContext(ctx, "store conversation turn", "err", err)
	}
	a.Conversation = conversation
	return a, nil
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

func newConversationID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ExpireConversations deletes conversations not updated within the
// retention period.
func (n *Node) ExpireConversations(now time.Time) (int, error) {
	return n.store.DeleteConversationsBefore(now.Add(-n.cfg.Retention))
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
