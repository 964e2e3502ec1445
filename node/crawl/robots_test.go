package crawl_test

import (
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/crawl"
)

func TestParseRobots(t *testing.T) {
	const body = `# comment
User-agent: *
Disallow: /

User-agent: Googlebot
User-agent: assistent   # not our product token
Disallow: /only-prefix-group/

User-agent: AssistentBot
Disallow: /private/
Allow: /private/open$
Disallow: /*.pdf$
Allow: /docs/*.pdf$
Disallow: /zoek?
Disallow: /fiets*/huur
Crawl-delay: 2.5
Sitemap: https://example.nl/sitemap.xml

user-agent: assistentbot
disallow: /merged/
disallow: /caf%c3%a9/
Disallow:
`
	r := crawl.ParseRobots([]byte(body), "AssistentBot/0.1 (+https://example.nl)")
	tests := map[string]bool{
		"/":                    true, // the specific group replaces "*"
		"/only-prefix-group/x": true, // a less specific group does not apply
		"/private/":            false,
		"/private/x":           false,
		"/private/open":        true,  // longer Allow wins
		"/private/open/more":   false, // $ anchors
		"/a/b.pdf":             false,
		"/a/b.pdf?x=1":         true, // $ anchors before the query
		"/docs/x/y.pdf":        true, // longer Allow with wildcard
		"/zoek?q=afval":        false,
		"/zoekresultaten":      true,
		"/fietsen/huur/12":     false,
		"/fiets/huurder":       false,
		"/fiets/koop":          true,
		"/merged/a":            false, // groups for the same agent merge
		"/caf%C3%A9/menu":      false, // escapes compare case-insensitively
		"/café/menu":           false, // and raw UTF-8 matches its escape
		"/robots.txt":          true,
	}
	for path, want := range tests {
		if got := r.Allowed(path); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", path, got, want)
		}
	}
	if got := r.CrawlDelay(); got != 2500*time.Millisecond {
		t.Errorf("CrawlDelay = %v, want 2.5s", got)
	}

	t.Run("star group applies to other agents", func(t *testing.T) {
		other := crawl.ParseRobots([]byte(body), "OtherBot/1.0")
		if other.Allowed("/x") || !other.Allowed("/robots.txt") {
			t.Error("OtherBot should be disallowed everywhere but robots.txt")
		}
		if other.CrawlDelay() != 0 {
			t.Errorf("OtherBot crawl delay %v, want 0", other.CrawlDelay())
		}
	})
	t.Run("only the exact product token names us", func(t *testing.T) {
		const b = "User-agent: *\nDisallow: /x\n\nUser-agent: Assistent\nDisallow: /\n"
		r := crawl.ParseRobots([]byte(b), "AssistentBot/0.1")
		if !r.Allowed("/y") || r.Allowed("/x/1") {
			t.Error("the Assistent group should not apply to AssistentBot; * should")
		}
	})
	t.Run("tie goes to allow", func(t *testing.T) {
		r := crawl.ParseRobots([]byte("User-agent: *\nDisallow: /page\nAllow: /page\n"), "AssistentBot")
		if !r.Allowed("/page") {
			t.Error("equal-length Allow and Disallow: Allow should win")
		}
	})
	t.Run("empty file allows all", func(t *testing.T) {
		if !crawl.ParseRobots(nil, "AssistentBot").Allowed("/anything") {
			t.Error("empty robots.txt should allow everything")
		}
	})
	t.Run("disallow all and allow all", func(t *testing.T) {
		if crawl.DisallowAll().Allowed("/") || !crawl.DisallowAll().Allowed("/robots.txt") {
			t.Error("DisallowAll")
		}
		if !crawl.AllowAll().Allowed("/x") {
			t.Error("AllowAll")
		}
	})
}

func TestParseRobots_Sitemaps(t *testing.T) {
	r := crawl.ParseRobots([]byte("User-agent: *\nDisallow: /x\nSitemap: https://www.meppel.nl/sitemap.xml\n# Sitemap: https://commented.example/s.xml\nsitemap:https://www.meppel.nl/nieuws.xml\n"), "AssistentBot/0.1")
	if got := r.Sitemaps(); len(got) != 2 || got[0] != "https://www.meppel.nl/sitemap.xml" || got[1] != "https://www.meppel.nl/nieuws.xml" {
		t.Errorf("Sitemaps() = %v", got)
	}
}
