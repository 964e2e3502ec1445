package deptest_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/assistent-nl/assistent/internal/deptest"
)

// rules is the import direction of DESIGN.md §3, one row per rule.
func rules() []deptest.Rule {
	return []deptest.Rule{
		{
			From: "retrieval/...",
			To:   []string{"node/...", "federation/...", "cmd/...", "admin/...", "widget/..."},
			Why:  "retrieval is a library: it knows nothing of the node, the federation or the programs around it",
		},
		{
			From: "federation/...",
			To:   []string{"node/...", "cmd/...", "admin/..."},
			Why:  "federation knows nothing of node internals; the node wires it",
		},
		{
			From: "node/...",
			To:   []string{"cmd/..."},
			Why:  "cmd wires the node, not the other way round",
		},
		{
			From:   "...",
			Except: []string{"cmd/..."},
			To:     []string{"cmd/..."},
			Why:    "cmd is the top: flags, env and config are read only there",
		},
	}
}

// TestImportDirection loads the module's real import graph and fails naming
// every forbidden edge.
func TestImportDirection(t *testing.T) {
	root, module, err := deptest.ModuleRoot(t.Context(), ".")
	if err != nil {
		t.Fatal(err)
	}
	g, loadErrs, err := deptest.Load(t.Context(), root, "./...")
	if err != nil {
		t.Fatal(err)
	}
	// A package that does not load may hide imports; the build and vet report
	// it, so here it is only noted.
	for _, e := range loadErrs {
		t.Logf("go list: %s", e)
	}
	// Guard against a vacuous pass: the graph must hold the module's packages
	// that the rules are about.
	for _, want := range []string{module + "/retrieval", module + "/internal/deptest"} {
		if _, ok := g[want]; !ok {
			t.Fatalf("go list -deps ./... in %s did not list %s; the check would pass vacuously", root, want)
		}
	}
	for _, v := range deptest.Check(module, g, rules()) {
		t.Error(v)
	}
}

// TestCheck proves the checker finds forbidden edges in a synthetic graph, so
// TestImportDirection cannot pass because the checker finds nothing at all.
func TestCheck(t *testing.T) {
	const m = "example.com/m"
	tests := []struct {
		name  string
		graph deptest.Graph
		want  []string // forbidden edges, "from -> to", in report order
	}{
		{
			name: "clean",
			graph: deptest.Graph{
				m + "/cmd/assistent":  {m + "/node", m + "/federation", "os"},
				m + "/node":           {m + "/retrieval", m + "/federation", m + "/node/store"},
				m + "/node/store":     {"go.etcd.io/bbolt"},
				m + "/federation":     {m + "/retrieval"},
				m + "/retrieval":      {"strings"},
				m + "/retrieval/hnsw": {m + "/retrieval"},
			},
		},
		{
			name: "retrieval imports node directly",
			graph: deptest.Graph{
				m + "/retrieval/bleve": {m + "/retrieval", m + "/node/store"},
				m + "/retrieval":       nil,
				m + "/node/store":      nil,
			},
			want: []string{m + "/retrieval/bleve -> " + m + "/node/store"},
		},
		{
			name: "transitive edge is reported once, at the crossing",
			graph: deptest.Graph{
				m + "/retrieval/hybrid": {m + "/retrieval/bleve"},
				m + "/retrieval/bleve":  {m + "/retrieval"},
				m + "/retrieval":        {m + "/federation"},
				m + "/federation":       nil,
			},
			want: []string{m + "/retrieval -> " + m + "/federation"},
		},
		{
			name: "edge through a third-party package",
			graph: deptest.Graph{
				m + "/federation/peer": {"example.org/x"},
				"example.org/x":        {m + "/admin/portal"},
				m + "/admin/portal":    nil,
			},
			want: []string{"example.org/x -> " + m + "/admin/portal"},
		},
		{
			name: "node and others import cmd",
			graph: deptest.Graph{
				m + "/cmd/assistent": {m + "/cmd/assistent/internal"},
				m + "/node/answer":   {m + "/cmd/assistent"},
				m + "/gen/chat":      {m + "/cmd/assistent/internal"},
			},
			want: []string{
				m + "/node/answer -> " + m + "/cmd/assistent",
				m + "/gen/chat -> " + m + "/cmd/assistent/internal",
			},
		},
		{
			name: "packages outside the module are not checked",
			graph: deptest.Graph{
				"example.com/other/retrieval": {m + "/node"},
				m + "/node":                   nil,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range deptest.Check(m, tt.graph, rules()) {
				from, to := v.Edge()
				got = append(got, from+" -> "+to)
				if s := v.String(); !strings.Contains(s, from+" -> "+to) {
					t.Errorf("report %q does not name the edge", s)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check edges:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestViolation_String checks that a report names the edge, the rule and the
// path that reaches it.
func TestViolation_String(t *testing.T) {
	v := deptest.Violation{
		Rule: deptest.Rule{From: "retrieval/...", To: []string{"node/..."}, Why: "retrieval is a library"},
		Path: []string{"m/retrieval/hybrid", "m/retrieval", "m/node"},
	}
	want := "forbidden edge m/retrieval -> m/node: retrieval/... must not import node/... " +
		"(retrieval is a library); reached via m/retrieval/hybrid -> m/retrieval -> m/node"
	if got := v.String(); got != want {
		t.Errorf("String:\n got %q\nwant %q", got, want)
	}
}

// TestLoad runs the real loader on a tiny module with a forbidden import, so
// the path from `go list` to a reported edge is proven end to end.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/m\n\ngo 1.26\n")
	writeFile(t, filepath.Join(dir, "node", "node.go"), "package node\n")
	writeFile(t, filepath.Join(dir, "retrieval", "retrieval.go"),
		"package retrieval\n\nimport _ \"example.com/m/node\"\n")

	root, module, err := deptest.ModuleRoot(t.Context(), filepath.Join(dir, "retrieval"))
	if err != nil {
		t.Fatal(err)
	}
	if module != "example.com/m" {
		t.Fatalf("ModuleRoot module = %q, want example.com/m", module)
	}
	g, loadErrs, err := deptest.Load(t.Context(), root, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if len(loadErrs) > 0 {
		t.Fatalf("Load errors: %q", loadErrs)
	}
	vs := deptest.Check(module, g, rules())
	if len(vs) != 1 {
		t.Fatalf("Check = %v, want one violation", vs)
	}
	if from, to := vs[0].Edge(); from != "example.com/m/retrieval" || to != "example.com/m/node" {
		t.Errorf("Edge = %s -> %s, want example.com/m/retrieval -> example.com/m/node", from, to)
	}
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestMatch checks the module-relative pattern syntax of rules.
func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, rel string
		want         bool
	}{
		{"...", "", true},
		{"...", "node/store", true},
		{"node/...", "node", true},
		{"node/...", "node/store", true},
		{"node/...", "nodes", false},
		{"node/...", "retrieval/node", false},
		{"cmd", "cmd", true},
		{"cmd", "cmd/assistent", false},
	}
	for _, tt := range tests {
		if got := deptest.Match(tt.pattern, tt.rel); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.rel, got, tt.want)
		}
	}
}
