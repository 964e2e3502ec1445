package crawl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/node/crawl"
)

func TestSource_Validate(t *testing.T) {
	good := crawl.Source{ID: "website", Tenant: "meppel", StartURLs: []string{"https://www.meppel.nl/"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid source: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*crawl.Source)
		field string
	}{
		{"no id", func(s *crawl.Source) { s.ID = "" }, "source.id"},
		{"id with slash", func(s *crawl.Source) { s.ID = "a/b" }, "source.id"},
		{"no tenant", func(s *crawl.Source) { s.Tenant = "" }, "source.tenant"},
		{"nothing to crawl", func(s *crawl.Source) { s.StartURLs = nil }, "source.start_urls"},
		{"relative start url", func(s *crawl.Source) { s.StartURLs = []string{"/afval"} }, "source.start_urls[0]"},
		{"ftp sitemap", func(s *crawl.Source) { s.Sitemaps = []string{"ftp://x.nl/s.xml"} }, "source.sitemaps[0]"},
		{"bad include", func(s *crawl.Source) { s.Include = []string{"("} }, "source.include[0]"},
		{"bad exclude", func(s *crawl.Source) { s.Exclude = []string{"ok", "[z-a]"} }, "source.exclude[1]"},
		{"host with path", func(s *crawl.Source) { s.AllowHosts = []string{"x.nl/a"} }, "source.allow_hosts[0]"},
		{"private with port", func(s *crawl.Source) { s.AllowPrivate = []string{"intranet:8080"} }, "source.allow_private[0]"},
		{"negative rate", func(s *crawl.Source) { s.Rate = -1 }, "source.rate"},
		{"negative depth", func(s *crawl.Source) { s.MaxDepth = -1 }, "source.max_depth"},
		{"negative pages", func(s *crawl.Source) { s.MaxPages = -2 }, "source.max_pages"},
		{"negative bytes", func(s *crawl.Source) { s.MaxBytes = -1 }, "source.max_bytes"},
		{"negative timeout", func(s *crawl.Source) { s.Timeout = -1 }, "source.timeout"},
		{"negative remove", func(s *crawl.Source) { s.RemoveAfter = -1 }, "source.remove_after"},
		{"relative contact", func(s *crawl.Source) { s.ContactURL = "contact" }, "source.contact_url"},
		{"bad selector", func(s *crawl.Source) { s.Rules.ContentSelectors = []string{"main[["} }, "source.rules"},
		{"two-line agent", func(s *crawl.Source) { s.UserAgent = "a\nb" }, "source.user_agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.edit(&s)
			err := s.Validate()
			if !errors.Is(err, crawl.ErrInvalidSource) {
				t.Fatalf("Validate() = %v, want ErrInvalidSource", err)
			}
			if !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
	t.Run("reports every problem", func(t *testing.T) {
		err := crawl.Source{}.Validate()
		for _, f := range []string{"source.id:", "source.tenant:", "source.start_urls:"} {
			if err == nil || !strings.Contains(err.Error(), f) {
				t.Errorf("error %v does not name %s", err, f)
			}
		}
	})
	t.Run("IPv6 private host", func(t *testing.T) {
		s := good
		s.AllowPrivate = []string{"::1", "127.0.0.1", "intranet.local"}
		if err := s.Validate(); err != nil {
			t.Errorf("Validate() = %v", err)
		}
	})
}

func TestDocID(t *testing.T) {
	tests := map[string]string{
		"https://www.Meppel.nl/afval/containers":     "www.meppel.nl/afval/containers",
		"http://www.meppel.nl:80/afval/containers#x": "www.meppel.nl/afval/containers",
		"https://www.meppel.nl":                      "www.meppel.nl/",
	}
	for in, want := range tests {
		if got := crawl.DocID(in); got != want {
			t.Errorf("DocID(%q) = %q, want %q", in, got, want)
		}
	}
	// Distinct URLs keep distinct IDs, even where characters are replaced.
	urls := []string{
		"https://x.nl/a b", "https://x.nl/a_b", "https://x.nl/a+b", "https://x.nl/a?b=1", "https://x.nl/a?b=2",
		"https://x.nl/" + strings.Repeat("lang/", 60) + "1", "https://x.nl/" + strings.Repeat("lang/", 60) + "2",
		"https://x.nl/café", "https://x.nl/caf_",
	}
	ids := map[string]string{}
	for _, u := range urls {
		id := crawl.DocID(u)
		if prev, ok := ids[id]; ok {
			t.Errorf("DocID(%q) = DocID(%q) = %q", u, prev, id)
		}
		ids[id] = u
		if len(id) > crawl.MaxDocIDLen {
			t.Errorf("DocID(%q) has %d bytes, over %d", u, len(id), crawl.MaxDocIDLen)
		}
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._/~", c)) {
				t.Errorf("DocID(%q) = %q contains %q", u, id, c)
			}
		}
		if again := crawl.DocID(u); again != id {
			t.Errorf("DocID(%q) not stable: %q then %q", u, id, again)
		}
	}
}
