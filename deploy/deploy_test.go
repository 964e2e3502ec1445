// Package deploy_test checks the files in deploy/ against the program
// they deploy: the binary is built exactly as the Dockerfile builds it,
// and every command line, flag, config file, port, volume and health
// check in the Dockerfile, the compose files, the systemd unit and the
// Helm charts is checked against what that binary really accepts and
// serves. No container runtime is needed; Helm renders the charts when it
// is installed (.ci/run installs it).
package deploy_test

import (
	"bufio"
	"crypto/x509"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the assistent binary built with the Dockerfile's flags.
var bin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "assistent-deploy-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		df, err := parseDockerfile("Dockerfile")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if bin, err = df.buildBinary(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}())
}

// --- the binary's own command line ---------------------------------------

var (
	helpMu    sync.Mutex
	helpCache = map[string]map[string]bool{}
)

// flagsOf returns the flags the binary accepts for a command ("serve",
// "federation issue"), read from its --help.
func flagsOf(tb testing.TB, command string) map[string]bool {
	tb.Helper()
	helpMu.Lock()
	defer helpMu.Unlock()
	if f, ok := helpCache[command]; ok {
		return f
	}
	args := append(strings.Fields(command), "--help")
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("assistent %s --help: %v\n%s", command, err, out)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-(-?[a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
		flags[strings.TrimPrefix(m[1], "-")] = true
	}
	if len(flags) == 0 {
		tb.Fatalf("assistent %s --help lists no flags:\n%s", command, out)
	}
	helpCache[command] = flags
	return flags
}

// subcommands names the commands whose flags follow a second word.
var subcommands = map[string]bool{"federation": true, "tenant": true, "source": true, "eval": true}

// checkCommandLine checks that args (without the program name) is a
// command the binary has, with flags it accepts, and returns the command
// and its flag values (the last value of a repeated flag).
func checkCommandLine(tb testing.TB, where string, args []string) (string, map[string]string) {
	tb.Helper()
	if len(args) == 0 {
		tb.Errorf("%s: no command", where)
		return "", nil
	}
	command, rest := args[0], args[1:]
	if subcommands[command] && len(rest) > 0 {
		command, rest = command+" "+rest[0], rest[1:]
	}
	known := flagsOf(tb, command)
	values := map[string]string{}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if !strings.HasPrefix(a, "-") {
			tb.Errorf("%s: assistent %s: unexpected argument %q", where, command, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !known[name] {
			tb.Errorf("%s: assistent %s has no flag --%s", where, command, name)
			continue
		}
		if !hasValue && i+1 < len(rest) && !strings.HasPrefix(rest[i+1], "-") {
			value = rest[i+1]
			i++
		}
		values[name] = value
	}
	return command, values
}

// --- Dockerfile ------------------------------------------------------------

type instruction struct {
	cmd  string // upper case
	args string
	line int
}

type dockerfile struct {
	instrs []instruction
	stages []string // stage names in order, "" for unnamed
}

// parseDockerfile reads the instructions of a Dockerfile, with line
// continuations joined and comments dropped.
func parseDockerfile(path string) (*dockerfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	df := &dockerfile{}
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasPrefix(t, "#") { // comment inside a continued instruction
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(t, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(t)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		df.instrs = append(df.instrs, in)
		if in.cmd == "FROM" {
			name := ""
			if f := strings.Fields(in.args); len(f) == 3 && strings.EqualFold(f[1], "AS") {
				name = f[2]
			}
			df.stages = append(df.stages, name)
		}
		cur.Reset()
	}
	return df, nil
}

// finalStage returns the instructions of the last stage, FROM included.
func (df *dockerfile) finalStage() []instruction {
	last := 0
	for i, in := range df.instrs {
		if in.cmd == "FROM" {
			last = i
		}
	}
	return df.instrs[last:]
}

func (df *dockerfile) arg(name string) string {
	for _, in := range df.instrs {
		if k, v, ok := strings.Cut(in.args, "="); in.cmd == "ARG" && ok && k == name {
			return v
		}
	}
	return ""
}

// goBuild returns the environment and arguments of the one `go build` in
// the Dockerfile.
func (df *dockerfile) goBuild() (env, args []string, err error) {
	var found []string
	for _, in := range df.instrs {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			found = append(found, in.args)
		}
	}
	if len(found) != 1 {
		return nil, nil, fmt.Errorf("Dockerfile: want exactly one RUN with go build, found %d", len(found))
	}
	words, err := shellWords(found[0])
	if err != nil {
		return nil, nil, err
	}
	i := 0
	for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
		env = append(env, words[i])
	}
	if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
		return nil, nil, fmt.Errorf("Dockerfile: want ENV=… go build …, got %q", found[0])
	}
	return env, words[i+2:], nil
}

// buildBinary builds ./cmd/assistent as the Dockerfile does, into dir.
func (df *dockerfile) buildBinary(dir string) (string, error) {
	env, args, err := df.goBuild()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "assistent")
	for i, a := range args {
		if a == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build as in the Dockerfile (%v %v): %v\n%s", env, args, err, b)
	}
	return out, nil
}

// shellWords splits a shell command line: words, single and double quotes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// execForm parses an exec-form JSON array (["a", "b"]).
func execForm(tb testing.TB, s string) []string {
	tb.Helper()
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Errorf("not an exec-form JSON array: %s", s)
	}
	return v
}

func TestDockerfile(t *testing.T) {
	df, err := parseDockerfile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(gomod)
	if got := df.arg("GO_VERSION"); want == nil || got != string(want[1]) {
		t.Errorf("ARG GO_VERSION=%s, go.mod says go %s", got, want[1])
	}

	env, args, err := df.goBuild()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("go build without CGO_ENABLED=0: %v", env)
	}
	if !slices.Contains(args, "-trimpath") {
		t.Errorf("go build without -trimpath: %v", args)
	}

	final := df.finalStage()
	from := strings.Fields(final[0].args)[0]
	if !strings.HasPrefix(from, "gcr.io/distroless/static") && from != "scratch" {
		t.Errorf("final stage FROM %s: want distroless/static or scratch", from)
	}
	var user, workdir string
	var healthcheck, entrypoint, cmd []string
	copied := map[string]bool{}
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "WORKDIR":
			workdir = in.args
		case "ENTRYPOINT":
			entrypoint = execForm(t, in.args)
		case "CMD":
			cmd = execForm(t, in.args)
		case "HEALTHCHECK":
			_, c, ok := strings.Cut(in.args, "CMD ")
			if !ok {
				t.Fatalf("HEALTHCHECK without CMD: %s", in.args)
			}
			healthcheck = execForm(t, c)
		case "COPY":
			f := strings.Fields(in.args)
			dest := f[len(f)-1]
			for _, src := range f[:len(f)-1] {
				if strings.HasPrefix(src, "--") {
					continue
				}
				if strings.HasSuffix(dest, "/") {
					copied[dest+filepath.Base(src)] = true
				} else {
					copied[dest] = true
				}
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("USER %q: want a numeric non-root user (runAsNonRoot checks it)", user)
	}
	if len(entrypoint) != 1 || !copied[entrypoint[0]] {
		t.Errorf("ENTRYPOINT %v: want the binary that is copied in", entrypoint)
	}
	_, flags := checkCommandLine(t, "Dockerfile CMD", cmd)
	if cmd[0] != "serve" || flags["data"] != workdir || !strings.HasPrefix(flags["addr"], "0.0.0.0:") {
		t.Errorf("CMD %v: want serve --data %s --addr 0.0.0.0:PORT", cmd, workdir)
	}
	port := strings.TrimPrefix(flags["addr"], "0.0.0.0:")
	if len(healthcheck) < 2 || healthcheck[0] != entrypoint[0] {
		t.Fatalf("HEALTHCHECK %v: want the binary's health command (the image has no shell)", healthcheck)
	}
	_, hflags := checkCommandLine(t, "HEALTHCHECK", healthcheck[1:])
	if hflags["url"] != "http://127.0.0.1:"+port+"/healthz" {
		t.Errorf("HEALTHCHECK asks %s, the node listens on port %s", hflags["url"], port)
	}
	// The node reads FreeDict from there (retrieval.FreeDictPath and
	// FreeDictReversePath), each as .index and .dict.dz.
	for _, base := range []string{"/usr/share/dictd/freedict-eng-nld", "/usr/share/dictd/freedict-nld-eng"} {
		for _, ext := range []string{".index", ".dict.dz"} {
			if !copied[base+ext] {
				t.Errorf("the image lacks %s", base+ext)
			}
		}
	}
	if !copied["/usr/share/doc/assistent/LICENSE"] {
		t.Error("the image lacks the licence")
	}
}

// TestBinary smoke-tests the binary built as the Dockerfile builds it: it
// is static (it runs on distroless/static or scratch), has --help, and
// `serve` answers /healthz and /readyz and stops cleanly on SIGTERM.
func TestBinary(t *testing.T) {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader: it would not run on distroless/static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
	f.Close()

	if out, err := exec.Command(bin, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "serve") {
		t.Errorf("assistent --help: %v\n%s", err, out)
	}
	url, _ := startServe(t, "--data", t.TempDir(), "--addr", "127.0.0.1:0")
	for _, path := range []string{"healthz", "readyz"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: %s", path, resp.Status)
		}
	}
	if out, err := exec.Command(bin, "health", "--url", url+"healthz").CombinedOutput(); err != nil {
		t.Errorf("assistent health: %v\n%s", err, out)
	}
}

// startServe runs `assistent serve` with args until the test ends (then
// SIGTERM, and it must exit 0) and returns the URL it announces and its
// stderr.
func startServe(t *testing.T, args ...string) (url string, stderr func() string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	// The key a provider's api_key_env names in the test configs.
	cmd.Env = append(os.Environ(), "LLM_KEY=test-key")
	var errb syncBuffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := regexp.MustCompile(`http://[0-9.:]+/`).FindString(sc.Text()); m != "" {
				select {
				case urls <- m:
				default:
				}
			}
		}
		done <- cmd.Wait()
	}()
	ended := false
	t.Cleanup(func() {
		if ended {
			return
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after SIGTERM: %v\n%s", err, errb.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Errorf("serve did not stop within 30 s of SIGTERM")
		}
	})
	select {
	case u := <-urls:
		return u, errb.String
	case err := <-done:
		ended = true
		t.Fatalf("serve %v ended: %v\n%s", args, err, errb.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve %v did not start:\n%s", args, errb.String())
	}
	return "", nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --- config files ----------------------------------------------------------

// configKeys returns the config file keys `serve --help` documents.
func configKeys(tb testing.TB) map[string]bool {
	tb.Helper()
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	_, list, ok := strings.Cut(string(out), "Config file keys")
	if !ok {
		tb.Fatalf("serve --help lists no config keys:\n%s", out)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z_]+)\s`).FindAllStringSubmatch(list, -1) {
		keys[m[1]] = true
	}
	return keys
}

func readConfig(tb testing.TB, path string) map[string]any {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return cfg
}

// TestConfigs checks every config file in deploy/: its keys are keys
// `serve --help` documents, and `serve` starts with it (the loader rejects
// unknown fields), with the data directory and address moved to a
// temporary directory and loopback. Model servers are moved to a closed
// loopback port: nothing leaves this machine.
func TestConfigs(t *testing.T) {
	keys := configKeys(t)
	files, _ := filepath.Glob("*.json")
	more, _ := filepath.Glob("compose/*.json")
	files = append(files, more...)
	if len(files) < 3 {
		t.Fatalf("config files: %v", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			cfg := readConfig(t, f)
			for k := range cfg {
				if !keys[k] {
					t.Errorf("key %q is no config key of serve (serve --help)", k)
				}
			}
			if r, _ := cfg["retrieval"].(map[string]any); cfg["federation"] != nil || cfg["sources"] != nil || r != nil && r["backend"] != "embedded" {
				// Starting it would reach coordination servers, crawl
				// websites or need a Qdrant or Elasticsearch server: the
				// keys are checked, the loader is not run.
				return
			}
			provs, _ := cfg["providers"].([]any)
			for _, p := range provs {
				p.(map[string]any)["base_url"] = "http://127.0.0.1:9"
			}
			cfg["demo"] = false
			data, _ := json.Marshal(cfg)
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			url, _ := startServe(t, "--config", path, "--data", t.TempDir(), "--addr", "127.0.0.1:0")
			resp, err := http.Get(url + "readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("readyz: %s", resp.Status)
			}
		})
	}
}

// TestConfigExampleHasModels keeps the example config's model block: an
// answer route whose providers exist.
func TestConfigExampleHasModels(t *testing.T) {
	for _, f := range []string{"config.example.json", "compose/ollama.json"} {
		cfg := readConfig(t, f)
		names := map[string]bool{}
		provs, _ := cfg["providers"].([]any)
		for _, p := range provs {
			names[p.(map[string]any)["name"].(string)] = true
		}
		routes, _ := cfg["routes"].([]any)
		answer := false
		for _, r := range routes {
			r := r.(map[string]any)
			answer = answer || r["task"] == "answer"
			for _, p := range r["providers"].([]any) {
				if !names[p.(string)] {
					t.Errorf("%s: route %v names unknown provider %v", f, r["task"], p)
				}
			}
		}
		if !answer {
			t.Errorf("%s: no answer route", f)
		}
	}
}

// --- systemd -----------------------------------------------------------------

func TestSystemdUnit(t *testing.T) {
	const unit = "systemd/assistent.service"
	data, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[k] = append(settings[k], v)
		}
	}
	exec0 := strings.Fields(settings["ExecStart"][0])
	if exec0[0] != "/usr/local/bin/assistent" {
		t.Errorf("ExecStart runs %s", exec0[0])
	}
	_, flags := checkCommandLine(t, unit, exec0[1:])
	if state := settings["StateDirectory"]; len(state) != 1 || flags["data"] != "/var/lib/"+state[0] {
		t.Errorf("--data %s is not the StateDirectory %v", flags["data"], state)
	}
	if cfg := readConfig(t, "config.example.json"); cfg["data"] != flags["data"] {
		t.Errorf("config.example.json's data %v differs from the unit's %s", cfg["data"], flags["data"])
	}
	for _, k := range []string{"NoNewPrivileges", "ProtectSystem", "PrivateTmp", "DynamicUser", "SystemCallFilter", "RestrictAddressFamilies"} {
		if len(settings[k]) == 0 {
			t.Errorf("no %s=", k)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit's syntax is not verified")
	}
	// systemd-analyze wants the binary where ExecStart says: point it at
	// the one built here.
	dir := t.TempDir()
	path := filepath.Join(dir, "assistent.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "/usr/local/bin/assistent", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for assistent.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no exposure level:\n%s", out)
	}
	var level float64
	fmt.Sscan(string(m[1]), &level)
	if level > 2.0 {
		t.Errorf("exposure level %.1f, want at most 2.0 (it was 1.4):\n%s", level, out)
	}
}

// --- helpers shared by the compose and Helm tests --------------------------

// certHosts returns the DNS names of the certificate in dir/node.crt.
func certHosts(tb testing.TB, dir string) []string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "node.crt"))
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		tb.Fatalf("%s/node.crt: no PEM", dir)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return c.DNSNames
}
