package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// When the test binary runs with ASSISTENT_CHILD=1 it is the assistent
// program itself: tests start it as a real child process (to kill it).
func TestMain(m *testing.M) {
	if os.Getenv("ASSISTENT_CHILD") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the program in-process with args and stdin.
func run(tb testing.TB, stdin string, args ...string) result {
	tb.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	err := m.Run(context.Background(), args)
	code := exitCode(&errb, err)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}
