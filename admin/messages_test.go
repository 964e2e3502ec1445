package admin

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every message key a template or handler names has a Dutch and an
// English text.
func TestMessages_Complete(t *testing.T) {
	keyRE := regexp.MustCompile(`(?:\bt|\btf) (?:\$?\.(?:V\.)?Lang) "([a-z0-9.]+)"|msg\([a-zA-Z.]+, "([a-z0-9.]+)"\)|fieldError\{"[a-z_]+", "([a-z0-9.]+)"\}|newView\(w, r, [a-zA-Z()]+, "([a-z0-9.]+)"|"((?:error|login|users|tokens|settings|review|audit|account|sources|documents)\.[a-z0-9.]+)"`)
	var sources []string
	fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := templateFS.ReadFile(path)
			sources = append(sources, string(b))
		}
		return nil
	})
	gos, _ := filepath.Glob("*.go")
	for _, f := range gos {
		if strings.HasSuffix(f, "_test.go") || f == "messages.go" {
			continue
		}
		b, _ := os.ReadFile(f)
		sources = append(sources, string(b))
	}
	used := 0
	for _, src := range sources {
		for _, m := range keyRE.FindAllStringSubmatch(src, -1) {
			key := m[1] + m[2] + m[3] + m[4] + m[5]
			used++
			tr, ok := messages[key]
			if !ok {
				t.Errorf("message %q is used but has no text", key)
				continue
			}
			if tr[0] == "" || tr[1] == "" {
				t.Errorf("message %q lacks Dutch or English", key)
			}
		}
	}
	if used < 100 {
		t.Fatalf("found only %d message uses; the pattern is broken", used)
	}
	for _, r := range Roles {
		for _, k := range []string{"role." + string(r), "role." + string(r) + ".hint"} {
			if _, ok := messages[k]; !ok {
				t.Errorf("message %q missing", k)
			}
		}
	}
	for _, m := range Modes {
		if _, ok := messages["mode."+m]; !ok {
			t.Errorf("message mode.%s missing", m)
		}
	}
	for _, v := range Verdicts {
		if _, ok := messages["review."+v]; !ok {
			t.Errorf("message review.%s missing", v)
		}
	}
}
