package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/assistent-nl/assistent/internal/llmhttp"
)

// ErrBadRewrite is wrapped when a model's rewrite is not one usable
// question: empty, too long, a refusal, or an echo of the instructions.
var ErrBadRewrite = errors.New("unusable rewritten question")

// MaxRewriteLen bounds a rewritten question, in characters.
const MaxRewriteLen = 200

// DefaultRewriteTimeout bounds a rewrite when the Rewriter has no timeout
// of its own: a follow-up should not wait long for a better query.
const DefaultRewriteTimeout = 3 * time.Second

// Rewriter turns a follow-up question ("en voor mijn kind?") into one
// standalone Dutch search question with a chat model and the "rewrite"
// template. It is safe for concurrent use.
type Rewriter struct {
	client    *ChatClient
	templates *Templates
	timeout   time.Duration
	gemeente  string
}

// NewRewriter returns a rewriter that asks client with the "rewrite"
// template of t (nil means Builtin()), giving each rewrite at most timeout
// (<= 0 means DefaultRewriteTimeout). gemeente names the gemeente in the
// prompt; "" is generic.
func NewRewriter(client *ChatClient, t *Templates, timeout time.Duration, gemeente string) *Rewriter {
	if t == nil {
		t = Builtin()
	}
	if timeout <= 0 {
		timeout = DefaultRewriteTimeout
	}
	return &Rewriter{client: client, templates: t, timeout: timeout, gemeente: gemeente}
}

// Name returns the client's name, "openai:" followed by the model name.
func (r *Rewriter) Name() string { return r.client.Name() }

// Rewrite returns followUp as one standalone question, given the previous
// questions of the conversation (oldest first). Both must be scrubbed of
// personal data by the caller. The reply is sanitised (see
// SanitizeRewrite); an unusable one gives an error wrapping ErrBadRewrite,
// a slow one an error wrapping ErrTimeout. On any error the caller keeps
// its own fallback (carrying the topic terms of the previous question).
func (r *Rewriter) Rewrite(ctx context.Context, history []string, followUp string) (string, error) {
	q, _, err := r.RewritePrompted(ctx, history, followUp)
	return q, err
}

// RewritePrompted is Rewrite that also returns the rendered prompt, for
// tracing the template version.
func (r *Rewriter) RewritePrompted(ctx context.Context, history []string, followUp string) (string, Rendered, error) {
	if strings.TrimSpace(followUp) == "" {
		return "", Rendered{}, fmt.Errorf("rewrite: %w: empty follow-up", ErrBadRewrite)
	}
	p := r.templates.Rewrite(r.gemeente, history, followUp)
	ctx, cancel := context.WithTimeoutCause(ctx, r.timeout, fmt.Errorf("%w: no rewrite within %s", ErrTimeout, r.timeout))
	defer cancel()
	text, _, err := r.client.Complete(ctx, p.Messages)
	if err != nil {
		if ctx.Err() != nil {
			err = llmhttp.CtxError(ctx, err)
		}
		return "", p, fmt.Errorf("rewrite %s: %w", r.Name(), err)
	}
	q, err := SanitizeRewrite(text)
	if err != nil {
		return "", p, fmt.Errorf("rewrite %s: %w", r.Name(), err)
	}
	return q, p, nil
}

var (
	// markupRE matches tags and the markdown a model may wrap a line in.
	markupRE = regexp.MustCompile("<[^>]{0,200}>|[*_`#>|~]+")
	// labelRE matches a label before the question ("Vraag:", "Zoekvraag:").
	labelRE = regexp.MustCompile(`(?i)^(?:herschreven\s+)?(?:zoek)?vra(?:ag|gen)\s*:\s*|^(?:standalone\s+)?question\s*:\s*`)
)

// SanitizeRewrite turns a model's reply into one question: the first
// non-empty line, without markup, a label like "Vraag:", surrounding
// quotes or control characters, with spaces collapsed. It returns an
// error wrapping ErrBadRewrite when nothing is left, when the result is
// longer than MaxRewriteLen characters, or when the reply is the refusal
// marker or repeats a canary.
func SanitizeRewrite(reply string) (string, error) {
	if strings.Contains(reply, RefusalMarker) || strings.Contains(strings.ToUpper(reply), "KENMERK-") {
		return "", fmt.Errorf("%w: not a question (%s)", ErrBadRewrite, snippet(reply))
	}
	var line string
	for l := range strings.Lines(reply) {
		if strings.TrimSpace(markupRE.ReplaceAllString(l, "")) != "" {
			line = l
			break
		}
	}
	line = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, line)
	line = markupRE.ReplaceAllString(line, " ")
	line = strings.Join(strings.Fields(line), " ")
	line = labelRE.ReplaceAllString(line, "")
	line = strings.TrimSpace(strings.Trim(line, `"'“”‘’«» `))
	switch {
	case line == "":
		return "", fmt.Errorf("%w: empty", ErrBadRewrite)
	case utf8.RuneCountInString(line) > MaxRewriteLen:
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrBadRewrite, utf8.RuneCountInString(line), MaxRewriteLen)
	}
	return line, nil
}
