package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/node/crawl"
	"github.com/assistent-nl/assistent/node/store"
)

// An error that reaches fail saying something is not there answers 404
// (problem+json on the API, the not-found page in the portal); any other
// error is a 500.
func TestFail_NotFoundIs404(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "assistent.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := New(DefaultConfig(), Deps{DB: st.Bolt(), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("tenant weg: %w", store.ErrNotFound), 404},
		{fmt.Errorf("source x: %w", crawl.ErrNotFound), 404},
		{fmt.Errorf("user: %w", ErrNotFound), 404},
		{errors.New("disk full"), 500},
	} {
		for _, path := range []string{"/api/v1/admin/tenants/weg/settings", "/admin/t/weg/settings"} {
			w := httptest.NewRecorder()
			a.fail(w, httptest.NewRequest(http.MethodGet, path, nil), c.err)
			ct := w.Header().Get("Content-Type")
			if w.Code != c.want {
				t.Errorf("%s, %v: %d, want %d", path, c.err, w.Code, c.want)
			}
			if api := path[:4] == "/api"; api && ct != "application/problem+json" || !api && ct != "text/html; charset=utf-8" {
				t.Errorf("%s, %v: %s", path, c.err, ct)
			}
		}
	}
}
