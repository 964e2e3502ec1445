package admin

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Every form that posts carries the CSRF token (the sign-in form its
// double-submit token), so no form of the portal is refused for lack of
// one and none does without.
func TestTemplates_FormsCarryCSRF(t *testing.T) {
	formRE := regexp.MustCompile(`(?s)<form\b[^>]*>.*?</form>`)
	forms := 0
	fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(path)
		for _, f := range formRE.FindAllString(string(b), -1) {
			open := f[:strings.Index(f, ">")]
			if !strings.Contains(open, `method="post"`) {
				continue
			}
			forms++
			if !strings.Contains(f, `name="csrf"`) {
				t.Errorf("%s: a form without the CSRF field: %s", path, open)
			}
		}
		return nil
	})
	if forms < 20 {
		t.Fatalf("found only %d forms; the pattern is broken", forms)
	}
}
