package deploy_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of the Compose specification these files use;
// the decoder rejects anything else, so a misspelt key fails the test.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	// Extension fields (x-…) hold anchors for the services.
	Extensions map[string]any `yaml:",inline"`
}

type composeService struct {
	Build       *composeBuild                `yaml:"build"`
	Image       string                       `yaml:"image"`
	Command     []string                     `yaml:"command"`
	Entrypoint  []string                     `yaml:"entrypoint"`
	Ports       []string                     `yaml:"ports"`
	Volumes     []string                     `yaml:"volumes"`
	Environment map[string]string            `yaml:"environment"`
	DependsOn   map[string]composeDependency `yaml:"depends_on"`
	Healthcheck *composeHealthcheck          `yaml:"healthcheck"`
	Profiles    []string                     `yaml:"profiles"`
	ReadOnly    bool                         `yaml:"read_only"`
	Tmpfs       []string                     `yaml:"tmpfs"`
	CapDrop     []string                     `yaml:"cap_drop"`
	SecurityOpt []string                     `yaml:"security_opt"`
	Restart     string                       `yaml:"restart"`
	Ulimits     map[string]any               `yaml:"ulimits"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
	Target     string `yaml:"target"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	StartPeriod string   `yaml:"start_period"`
	Retries     int      `yaml:"retries"`
}

func readCompose(tb testing.TB, path string) composeFile {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f composeFile
	if err := dec.Decode(&f); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	for k := range f.Extensions {
		if !strings.HasPrefix(k, "x-") {
			tb.Errorf("%s: unknown top-level key %q", path, k)
		}
	}
	return f
}

// interpolate replaces ${VAR:-default} and ${VAR} with the default (or
// nothing), as Compose does with VAR unset.
func interpolate(s string) string {
	return regexp.MustCompile(`\$\{([A-Z_]+)(:-([^}]*))?\}`).ReplaceAllString(s, "$3")
}

// ourImages are the images deploy/Dockerfile builds.
var ourImages = map[string]bool{"assistent:local": true, "assistent-toolbox:local": true}

func TestCompose(t *testing.T) {
	files, _ := filepath.Glob("compose*.yaml")
	if len(files) != 3 {
		t.Fatalf("compose files: %v, want compose.yaml, compose.stack.yaml, compose.federation.yaml", files)
	}
	df, err := parseDockerfile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			f := readCompose(t, file)
			built := map[string]bool{}
			for _, s := range f.Services {
				if s.Build != nil {
					built[s.Image] = true
				}
			}
			for name, s := range f.Services {
				checkComposeService(t, f, df, built, name, s)
			}
		})
	}
}

func checkComposeService(t *testing.T, f composeFile, df *dockerfile, built map[string]bool, name string, s composeService) {
	t.Helper()
	where := name
	switch {
	case s.Build != nil:
		dockerfile := filepath.Join(s.Build.Context, s.Build.Dockerfile)
		if dockerfile != "../deploy/Dockerfile" {
			t.Errorf("%s: builds %s, want deploy/Dockerfile from the repository root", where, dockerfile)
		}
		if s.Build.Target != "" && !slices.Contains(df.stages, s.Build.Target) {
			t.Errorf("%s: target %q is no stage of the Dockerfile %v", where, s.Build.Target, df.stages)
		}
	case ourImages[s.Image]:
		if !built[s.Image] {
			t.Errorf("%s: image %s, which no service of this file builds", where, s.Image)
		}
	default:
		repo, tag, ok := strings.Cut(s.Image, ":")
		if !ok || repo == "" || tag == "" || tag == "latest" {
			t.Errorf("%s: image %q: pin a version", where, s.Image)
		}
	}

	for _, p := range s.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("%s: port %s is published on every interface; bind it to 127.0.0.1", where, p)
		}
	}
	for _, v := range s.Volumes {
		src, dst, _ := strings.Cut(interpolate(v), ":")
		dst, _, _ = strings.Cut(dst, ":")
		if !strings.HasPrefix(dst, "/") {
			t.Errorf("%s: volume %q: no absolute target", where, v)
		}
		if strings.HasPrefix(src, ".") {
			if _, err := os.Stat(src); err != nil {
				t.Errorf("%s: bind mount %s: %v", where, src, err)
			}
		} else if _, ok := f.Volumes[src]; !ok {
			t.Errorf("%s: volume %s is not declared", where, src)
		}
	}
	for dep, d := range s.DependsOn {
		target, ok := f.Services[dep]
		switch {
		case !ok:
			t.Errorf("%s: depends on unknown service %s", where, dep)
		case !slices.Contains([]string{"service_started", "service_healthy", "service_completed_successfully"}, d.Condition):
			t.Errorf("%s: depends on %s with condition %q", where, dep, d.Condition)
		case d.Condition == "service_healthy" && target.Healthcheck == nil:
			t.Errorf("%s: waits for %s to be healthy, which has no healthcheck", where, dep)
		case len(target.Profiles) > 0 && !sameProfiles(s.Profiles, target.Profiles):
			t.Errorf("%s: depends on %s of profiles %v", where, dep, target.Profiles)
		}
	}
	if hc := s.Healthcheck; hc != nil && (len(hc.Test) < 2 || (hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL")) {
		t.Errorf("%s: healthcheck %v", where, hc.Test)
	}

	if !ourImages[s.Image] {
		return
	}
	// Our image: the command is the binary's, with its real flags.
	args := s.Command
	if len(s.Entrypoint) > 0 {
		if s.Entrypoint[0] != "/usr/local/bin/assistent" {
			checkScript(t, where, s)
			return
		}
		args = s.Entrypoint[1:]
	}
	if slices.Equal(args, []string{"--help"}) { // only builds or names the image
		return
	}
	command, flags := checkCommandLine(t, where, args)
	long := command == "serve" || command == "coordinator"
	if long && (!s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true")) {
		t.Errorf("%s: want read_only, cap_drop ALL and no-new-privileges", where)
	}
	port := ""
	switch command {
	case "serve":
		port = "8080"
		src := hostPath(s, flags["config"])
		if src == "" {
			t.Errorf("%s: --config %s is not mounted", where, flags["config"])
			break
		}
		cfg := readConfig(t, src)
		if cfg["addr"] != "0.0.0.0:8080" || cfg["data"] != "/var/lib/assistent" {
			t.Errorf("%s: config's addr %v and data %v, want 0.0.0.0:8080 and the image's /var/lib/assistent", where, cfg["addr"], cfg["data"])
		}
	case "coordinator":
		port = "8301"
		if _, p, _ := net.SplitHostPort(flags["api-addr"]); p != port {
			t.Errorf("%s: --api-addr %s", where, flags["api-addr"])
		}
	}
	if port == "" {
		return
	}
	hc := s.Healthcheck
	if hc == nil {
		t.Errorf("%s: no healthcheck", where)
		return
	}
	if hc.Test[0] != "CMD" || hc.Test[1] != "/usr/local/bin/assistent" {
		t.Errorf("%s: healthcheck %v: want the binary's health command (the image has no shell)", where, hc.Test)
		return
	}
	_, hflags := checkCommandLine(t, where+" healthcheck", hc.Test[2:])
	if u, err := url.Parse(hflags["url"]); err != nil || u.Port() != port || u.Path != "/healthz" {
		t.Errorf("%s: healthcheck asks %s, the server listens on %s", where, hflags["url"], port)
	}
}

// hostPath returns the file a bind mount puts at target, or "".
func hostPath(s composeService, target string) string {
	for _, v := range s.Volumes {
		src, dst, _ := strings.Cut(interpolate(v), ":")
		if dst, _, _ = strings.Cut(dst, ":"); dst == target && strings.HasPrefix(src, ".") {
			return src
		}
	}
	return ""
}

func sameProfiles(a, b []string) bool {
	for _, p := range b {
		if !slices.Contains(a, p) {
			return false
		}
	}
	return true
}

// checkScript checks a service that runs a script from compose/: the
// script exists and is valid sh.
func checkScript(t *testing.T, where string, s composeService) {
	t.Helper()
	if len(s.Entrypoint) != 2 || s.Entrypoint[0] != "/bin/sh" || !strings.HasPrefix(s.Entrypoint[1], "/scripts/") {
		t.Errorf("%s: entrypoint %v: want /bin/sh /scripts/NAME", where, s.Entrypoint)
		return
	}
	script := filepath.Join("compose", strings.TrimPrefix(s.Entrypoint[1], "/scripts/"))
	if out, err := exec.Command("sh", "-n", script).CombinedOutput(); err != nil {
		t.Errorf("%s: sh -n %s: %v\n%s", where, script, err, out)
	}
}

// TestComposeOllamaModel: the model ollama-pull fetches is the one the
// node's config asks for.
func TestComposeOllamaModel(t *testing.T) {
	cfg := readConfig(t, "compose/ollama.json")
	model := cfg["providers"].([]any)[0].(map[string]any)["model"]
	for _, file := range []string{"compose.yaml", "compose.stack.yaml"} {
		f := readCompose(t, file)
		pull := f.Services["ollama-pull"]
		if got := interpolate(strings.Join(pull.Entrypoint, " ")); got != "ollama pull "+model.(string) {
			t.Errorf("%s: ollama-pull runs %q, the config uses %v", file, got, model)
		}
	}
}

// TestComposeFederation runs the certs script as the `certs` service would
// (on this machine, with the binary built here) and checks that every
// certificate the servers and nodes load exists and names the host the
// others dial it at.
func TestComposeFederation(t *testing.T) {
	f := readCompose(t, "compose.federation.yaml")
	certs := t.TempDir()
	cmd := exec.Command("sh", "compose/federation-certs.sh")
	cmd.Env = append(os.Environ(), "CERTS="+certs, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("federation-certs.sh: %v\n%s", err, out)
	}
	if out, err := exec.Command("sh", "-c", "CERTS="+certs+" sh compose/federation-certs.sh").CombinedOutput(); err != nil || !strings.Contains(string(out), "exist") {
		t.Errorf("a second run: %v %s", err, out)
	}
	certDir := func(p string) string { return filepath.Join(certs, strings.TrimPrefix(p, "/certs/")) }
	hostOf := func(u string) string {
		h, _, _ := net.SplitHostPort(strings.TrimPrefix(u, "https://"))
		return h
	}
	coordinators := 0
	for name, s := range f.Services {
		if len(s.Command) == 0 {
			continue
		}
		_, flags := checkCommandLine(t, name, s.Command)
		switch s.Command[0] {
		case "coordinator":
			coordinators++
			hosts := certHosts(t, certDir(flags["cert"]))
			for _, h := range []string{hostOf("https://" + flags["raft-advertise"]), hostOf(flags["api-advertise"])} {
				if !slices.Contains(hosts, h) {
					t.Errorf("%s: its certificate names %v, not %s", name, hosts, h)
				}
			}
			if j := flags["join"]; j != "" {
				if _, ok := f.Services[hostOf(j)]; !ok {
					t.Errorf("%s: joins %s, no service of this file", name, j)
				}
			}
		case "serve":
			var cfg struct {
				Federation struct {
					Servers       []string `json:"servers"`
					Cert          string   `json:"cert"`
					PeerAdvertise string   `json:"peer_advertise"`
					Peers         []struct {
						URL string `json:"url"`
					} `json:"peers"`
				} `json:"federation"`
			}
			data, err := os.ReadFile(hostPath(s, flags["config"]))
			if err != nil {
				t.Fatalf("%s: config: %v", name, err)
			}
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatalf("%s: config: %v", name, err)
			}
			fed := cfg.Federation
			host, _, _ := net.SplitHostPort(fed.PeerAdvertise)
			if host != name || !slices.Contains(certHosts(t, certDir(fed.Cert)), name) {
				t.Errorf("%s: peer_advertise %s, certificate %v", name, fed.PeerAdvertise, certHosts(t, certDir(fed.Cert)))
			}
			for _, u := range fed.Servers {
				if _, ok := f.Services[hostOf(u)]; !ok {
					t.Errorf("%s: server %s is no service", name, u)
				}
			}
			for _, p := range fed.Peers {
				if _, ok := f.Services[hostOf(p.URL)]; !ok {
					t.Errorf("%s: peer %s is no service", name, p.URL)
				}
			}
		}
	}
	if coordinators != 3 {
		t.Errorf("%d coordinators, want 3", coordinators)
	}
}
