// Package deptest keeps the import direction of DESIGN.md §3 true: retrieval
// knows nothing of node or federation, federation knows nothing of node
// internals, node wires everything and only cmd wires node.
//
// The rules themselves live in the package's test, which loads the module's
// import graph with `go list -deps` and fails naming each forbidden edge.
package deptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
)

// Rule forbids the module's packages matched by From, except those matched by
// Except, to depend on a package matched by any pattern in To. Patterns are
// module-relative import paths; "dir/..." matches dir and everything below
// it, and "..." matches every package of the module.
type Rule struct {
	From   string
	Except []string
	To     []string
	// Why says in one line why the rule exists; it is part of each report.
	Why string
}

// String describes the rule, e.g. "retrieval/... must not import node/...".
func (r Rule) String() string {
	s := r.From
	if len(r.Except) > 0 {
		s += " (except " + strings.Join(r.Except, ", ") + ")"
	}
	return s + " must not import " + strings.Join(r.To, ", ")
}

// Graph maps an import path to the import paths the package imports directly.
type Graph map[string][]string

// Violation is a forbidden dependency. Path runs from the checked package to
// the forbidden one, each element importing the next; its last two elements
// are the forbidden edge.
type Violation struct {
	Rule Rule
	Path []string
}

// Edge returns the forbidden edge: the importer and the forbidden package.
func (v Violation) Edge() (from, to string) {
	return v.Path[len(v.Path)-2], v.Path[len(v.Path)-1]
}

// String names the forbidden edge, the rule it breaks and the path that
// reaches it.
func (v Violation) String() string {
	from, to := v.Edge()
	s := fmt.Sprintf("forbidden edge %s -> %s: %s", from, to, v.Rule)
	if v.Rule.Why != "" {
		s += " (" + v.Rule.Why + ")"
	}
	if len(v.Path) > 2 {
		s += "; reached via " + strings.Join(v.Path, " -> ")
	}
	return s
}

// Match reports whether the module-relative import path rel matches pattern.
func Match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == dir || strings.HasPrefix(rel, dir+"/")
	}
	return rel == pattern
}

// Check returns the violations of rules in g for the packages of module.
// Every package of the module in g is checked against every rule whose From
// matches it; dependencies are followed transitively, through packages outside
// the module too, but not beyond a forbidden package. Each forbidden edge is
// reported once, with the shortest path from the first package (in sorted
// order) that reaches it, so the report stays short when many packages reach
// the same bad import.
func Check(module string, g Graph, rules []Rule) []Violation {
	rel := func(path string) (string, bool) {
		if path == module {
			return "", true
		}
		r, ok := strings.CutPrefix(path, module+"/")
		return r, ok
	}
	matchAny := func(patterns []string, r string) bool {
		return slices.ContainsFunc(patterns, func(p string) bool { return Match(p, r) })
	}

	sources := make([]string, 0, len(g))
	for p := range g {
		sources = append(sources, p)
	}
	slices.Sort(sources)

	var out []Violation
	seen := map[[2]string]bool{}
	for _, rule := range rules {
		forbidden := func(path string) bool {
			r, ok := rel(path)
			return ok && matchAny(rule.To, r)
		}
		for _, src := range sources {
			r, ok := rel(src)
			if !ok || !Match(rule.From, r) || matchAny(rule.Except, r) {
				continue
			}
			for _, path := range reach(g, src, forbidden) {
				edge := [2]string{path[len(path)-2], path[len(path)-1]}
				if seen[edge] {
					continue
				}
				seen[edge] = true
				out = append(out, Violation{Rule: rule, Path: path})
			}
		}
	}
	return out
}

// reach walks g breadth first from src and returns the shortest path to each
// package for which forbidden is true, without walking past such packages.
func reach(g Graph, src string, forbidden func(string) bool) [][]string {
	parent := map[string]string{src: ""}
	queue := []string{src}
	var found [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, dep := range g[p] {
			if _, ok := parent[dep]; ok {
				continue
			}
			parent[dep] = p
			if !forbidden(dep) {
				queue = append(queue, dep)
				continue
			}
			var path []string
			for q := dep; q != ""; q = parent[q] {
				path = append(path, q)
			}
			slices.Reverse(path)
			found = append(found, path)
		}
	}
	return found
}

// listed is the part of `go list -json` output that Load reads.
type listed struct {
	ImportPath string
	Imports    []string
	Error      *struct{ Err string }
}

// Load runs `go list -e -deps` in dir for patterns and returns the import
// graph of the listed packages and their dependencies (tests excluded), plus
// the load errors of individual packages, one string each. It fails only when
// the go command itself fails.
func Load(ctx context.Context, dir string, patterns ...string) (Graph, []string, error) {
	args := append([]string{"list", "-e", "-deps", "-json=ImportPath,Imports,Error"}, patterns...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	g := Graph{}
	var loadErrs []string
	dec := json.NewDecoder(bytes.NewReader(stdout))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("decode go list output: %w", err)
		}
		g[p.ImportPath] = p.Imports
		if p.Error != nil {
			loadErrs = append(loadErrs, p.ImportPath+": "+p.Error.Err)
		}
	}
	return g, loadErrs, nil
}

// ModuleRoot returns the directory and path of the main module that dir
// belongs to, as reported by `go list -m`.
func ModuleRoot(ctx context.Context, dir string) (root, module string, err error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}\t{{.Path}}")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", "", fmt.Errorf("go list -m: %w: %s", err, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", "", fmt.Errorf("go list -m: %w", err)
	}
	root, module, ok := strings.Cut(strings.TrimSpace(string(out)), "\t")
	if !ok || root == "" || module == "" {
		return "", "", fmt.Errorf("go list -m: unexpected output %q", out)
	}
	return root, module, nil
}
