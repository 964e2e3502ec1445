package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/internal/llmtest"
	"github.com/assistent-nl/assistent/node/models"
)

// BenchmarkPrompt builds the prompt for three passages.
func BenchmarkPrompt(b *testing.B) {
	req := request()
	b.ReportAllocs()
	for b.Loop() {
		models.Prompt(req)
	}
}

// BenchmarkChatClient_Stream streams a 400-character answer in 100 deltas
// from the local test server: the client's own overhead per call.
func BenchmarkChatClient_Stream(b *testing.B) {
	srv := llmtest.NewServer(b, llmtest.Reply(strings.Repeat("woord ", 66)+"eind"))
	c := newClient(b, srv, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Stream(context.Background(), msgs(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerate answers through a route: prompt, unary call, citation
// check.
func BenchmarkGenerate(b *testing.B) {
	srv := llmtest.NewServer(b, llmtest.Reply("Een paspoort kost € 84,40 [1]. Neem een pasfoto mee [3]."))
	r, _ := newRouter(b, models.Route{Providers: []string{"m"}}, provider("m", "eu", srv))
	g := r.Generator(models.TaskAnswer, "")
	req := request()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Generate(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
