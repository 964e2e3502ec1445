package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// helmBinary finds helm on PATH or where `go install` puts it (.ci/run
// installs helm.sh/helm/v4/cmd/helm). Without it the charts cannot be
// rendered: the test skips, except in CI, where it fails.
func helmBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("helm is not installed: .ci/run installs it with go install helm.sh/helm/v4/cmd/helm")
	}
	t.Skip("helm is not installed (go install helm.sh/helm/v4/cmd/helm@v4.3.2): the charts are not rendered")
	return ""
}

// object is one rendered Kubernetes object.
type object map[string]any

func (o object) kind() string { return str(o["kind"]) }
func (o object) name() string { return str(dig(o, "metadata", "name")) }

func str(v any) string { s, _ := v.(string); return s }

// dig walks nested maps.
func dig(v any, path ...string) any {
	if o, ok := v.(object); ok {
		v = map[string]any(o)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }

// render runs helm template on chart with --set-json values and returns
// the objects.
func render(t *testing.T, helm, chart string, values ...string) ([]object, error) {
	t.Helper()
	args := []string{"template", "rel", chart, "--namespace", "gemeente"}
	for _, v := range values {
		args = append(args, "--set-json", v)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm %v: %v: %s", args, err, stderr.String())
	}
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var o map[string]any // nested maps decode as map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template %s: output is not YAML: %v", chart, err)
		}
		if o != nil {
			objs = append(objs, object(o))
		}
	}
	return objs, nil
}

func TestHelmLint(t *testing.T) {
	helm := helmBinary(t)
	for _, chart := range []string{"helm/assistent-node", "helm/assistent-coordinator"} {
		if out, err := exec.Command(helm, "lint", "--strict", chart).CombinedOutput(); err != nil {
			t.Errorf("helm lint %s: %v\n%s", chart, err, out)
		}
	}
}

func TestHelmNode(t *testing.T) {
	helm := helmBinary(t)
	sets := map[string][]string{
		"defaults": nil,
		"federation, keys, ingress, egress": {
			`federation={"enabled":true,"certSecret":"meppel-cert"}`,
			`config={"federation":{"servers":["https://rel-assistent-coordinator-api.vng.svc:8301"],"tenant":"meppel","peer_addr":"0.0.0.0:8443","peer_advertise":"assistent.meppel.nl:8443"},"trusted_proxies":["10.42.0.0/16"]}`,
			`secretEnv={"LLM_KEY":"geheim"}`, `ingress={"enabled":true,"host":"assistent.meppel.nl"}`,
			`networkPolicy={"enabled":true,"egressTo":["10.0.0.0/8"]}`,
		},
		"existing secret, models": {
			`existingSecret="llm-keys"`,
			`config={"providers":[{"name":"llm","kind":"openai","region":"nl","base_url":"http://vllm.models.svc:8000","model":"mistral-small","api_key_env":"LLM_KEY"}],"routes":[{"task":"answer","providers":["llm"],"timeout":"20s"}]}`,
		},
	}
	for name, values := range sets {
		t.Run(name, func(t *testing.T) {
			objs, err := render(t, helm, "helm/assistent-node", values...)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, objs)
			sts := only(t, objs, "StatefulSet")
			if r := dig(sts, "spec", "replicas"); r != 1 {
				t.Errorf("replicas %v: one process owns the bbolt file", r)
			}
			pod := dig(sts, "spec", "template", "spec")
			c := container(t, pod, "assistent")
			_, flags := checkCommandLine(t, "node container", strs(dig(c, "args")))
			checkProbe(t, c, "readinessProbe", "/readyz", "http")
			checkProbe(t, c, "livenessProbe", "/healthz", "http")

			// The config file the pod gets: documented keys, and serve
			// starts with it (federation left out: it would dial out).
			cm := only(t, objs, "ConfigMap")
			mount := mountOf(t, pod, c, filepath.Dir(flags["config"]))
			if str(dig(mount, "configMap", "name")) != cm.name() {
				t.Errorf("--config %s is not the ConfigMap %s", flags["config"], cm.name())
			}
			var cfg map[string]any
			if err := json.Unmarshal([]byte(str(dig(cm, "data", filepath.Base(flags["config"])))), &cfg); err != nil {
				t.Fatalf("config: %v", err)
			}
			keys := configKeys(t)
			for k := range cfg {
				if !keys[k] {
					t.Errorf("config key %q is no config key of serve", k)
				}
			}
			if fed, ok := cfg["federation"].(map[string]any); ok {
				// The node renews its certificate in place: it must be
				// on the (writable) data volume.
				if !strings.HasPrefix(str(fed["cert"]), "/var/lib/assistent/") || mountOf(t, pod, c, "/var/lib/assistent") == nil {
					t.Errorf("federation.cert %v is not on the data volume", fed["cert"])
				}
				if len(list(dig(pod, "initContainers"))) == 0 {
					t.Error("no init container seeds the certificate")
				}
				return
			}
			for _, p := range list(cfg["providers"]) {
				p.(map[string]any)["base_url"] = "http://127.0.0.1:9"
			}
			data, _ := json.Marshal(cfg)
			path := filepath.Join(t.TempDir(), "config.json")
			os.WriteFile(path, data, 0o600)
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
	if _, err := render(t, helm, "helm/assistent-node", `federation={"enabled":true}`); err == nil {
		t.Error("federation without a certificate Secret renders")
	}
}

func TestHelmCoordinator(t *testing.T) {
	helm := helmBinary(t)
	sets := map[string][]string{
		"three": nil,
		"five with a CA": {
			`servers=[{"id":"c1","certSecret":"s1"},{"id":"c2","certSecret":"s2"},{"id":"c3","certSecret":"s3"},{"id":"c4","certSecret":"s4"},{"id":"c5","certSecret":"s5"}]`,
			`caSecret="federation-ca"`,
		},
	}
	for name, values := range sets {
		t.Run(name, func(t *testing.T) {
			objs, err := render(t, helm, "helm/assistent-coordinator", values...)
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, objs)
			services := map[string]bool{}
			for _, o := range objs {
				if o.kind() == "Service" {
					services[o.name()+".gemeente.svc"] = true
				}
			}
			bootstraps := 0
			var servers []object
			for _, o := range objs {
				if o.kind() == "StatefulSet" {
					servers = append(servers, o)
				}
			}
			if len(servers) != 3 && len(servers) != 5 {
				t.Fatalf("%d servers", len(servers))
			}
			for _, sts := range servers {
				pod := dig(sts, "spec", "template", "spec")
				c := container(t, pod, "coordinator")
				args := strs(dig(c, "args"))
				_, flags := checkCommandLine(t, sts.name(), args)
				if slices.Contains(args, "--bootstrap") {
					bootstraps++
				}
				for _, addr := range []string{flags["raft-advertise"], strings.TrimPrefix(flags["api-advertise"], "https://"), strings.TrimPrefix(flags["join"], "https://")} {
					if host, _, _ := strings.Cut(addr, ":"); addr != "" && !services[host] {
						t.Errorf("%s: %s is no Service of the chart", sts.name(), addr)
					}
				}
				checkProbe(t, c, "readinessProbe", "/healthz", "api")
				if dig(c, "readinessProbe", "httpGet", "scheme") != "HTTPS" {
					t.Errorf("%s: the API speaks HTTPS only", sts.name())
				}
				if dig(c, "livenessProbe", "tcpSocket") == nil {
					t.Errorf("%s: liveness must not depend on a leader", sts.name())
				}
				if strings.HasPrefix(flags["cert"], "/var/lib/assistent") && mountOf(t, pod, c, "/var/lib/assistent") == nil {
					t.Errorf("%s: --cert %s is not on a volume", sts.name(), flags["cert"])
				}
			}
			if bootstraps != 1 {
				t.Errorf("%d servers bootstrap, want exactly one", bootstraps)
			}
			pdb := only(t, objs, "PodDisruptionBudget")
			if dig(pdb, "spec", "maxUnavailable") != 1 {
				t.Errorf("PodDisruptionBudget %v", dig(pdb, "spec"))
			}
			for _, sts := range servers {
				if !selects(dig(pdb, "spec", "selector", "matchLabels"), dig(sts, "spec", "template", "metadata", "labels")) {
					t.Errorf("the PodDisruptionBudget does not cover %s", sts.name())
				}
			}
		})
	}
	for _, bad := range []string{`servers=[{"id":"c1","certSecret":"s1"},{"id":"c2","certSecret":"s2"}]`, `servers=[{"id":"c1"},{"id":"c2"},{"id":"c3"}]`} {
		if _, err := render(t, helm, "helm/assistent-coordinator", bad); err == nil {
			t.Errorf("%s renders", bad)
		}
	}
}

// checkObjects checks what Haven and the charts promise of every object:
// pods run as non-root with a read-only root, no privilege escalation, no
// capabilities, requests and limits; Services and NetworkPolicies select
// pods that exist, on ports the containers have.
func checkObjects(t *testing.T, objs []object) {
	t.Helper()
	var pods []map[string]any // pod template labels
	ports := map[string]bool{}
	for _, o := range objs {
		if o.kind() != "StatefulSet" && o.kind() != "Deployment" {
			continue
		}
		where := o.kind() + " " + o.name()
		tmpl := dig(o, "spec", "template")
		labels, _ := dig(tmpl, "metadata", "labels").(map[string]any)
		pods = append(pods, labels)
		if !selects(dig(o, "spec", "selector", "matchLabels"), labels) {
			t.Errorf("%s: selector does not match its pods", where)
		}
		pod := dig(tmpl, "spec")
		if dig(pod, "securityContext", "runAsNonRoot") != true || dig(pod, "securityContext", "runAsUser") == 0 {
			t.Errorf("%s: pod securityContext %v: want runAsNonRoot and a non-zero user", where, dig(pod, "securityContext"))
		}
		if dig(pod, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
			t.Errorf("%s: no RuntimeDefault seccomp profile", where)
		}
		if dig(pod, "automountServiceAccountToken") != false {
			t.Errorf("%s: mounts a service account token it does not need", where)
		}
		for _, kind := range []string{"initContainers", "containers"} {
			for _, c := range list(dig(pod, kind)) {
				cw := where + " " + str(dig(c, "name"))
				sc := dig(c, "securityContext")
				if dig(sc, "allowPrivilegeEscalation") != false || dig(sc, "readOnlyRootFilesystem") != true ||
					!slices.Contains(list(dig(sc, "capabilities", "drop")), any("ALL")) {
					t.Errorf("%s: securityContext %v", cw, sc)
				}
				for _, r := range []string{"requests", "limits"} {
					for _, res := range []string{"cpu", "memory"} {
						if dig(c, "resources", r, res) == nil {
							t.Errorf("%s: no %s.%s", cw, r, res)
						}
					}
				}
				for _, p := range list(dig(c, "ports")) {
					ports[str(dig(p, "name"))] = true
				}
				if img := str(dig(c, "image")); !strings.Contains(img, ":") || strings.HasSuffix(img, ":latest") {
					t.Errorf("%s: image %q: pin a version", cw, img)
				}
			}
		}
	}
	matchesPod := func(sel any) bool {
		return slices.ContainsFunc(pods, func(l map[string]any) bool { return selects(sel, l) })
	}
	networkPolicies := 0
	for _, o := range objs {
		switch o.kind() {
		case "Service":
			if !matchesPod(dig(o, "spec", "selector")) {
				t.Errorf("Service %s selects no pod", o.name())
			}
			for _, p := range list(dig(o, "spec", "ports")) {
				if tp, ok := dig(p, "targetPort").(string); ok && !ports[tp] {
					t.Errorf("Service %s: target port %s is no container port", o.name(), tp)
				}
			}
		case "NetworkPolicy":
			networkPolicies++
			if !matchesPod(dig(o, "spec", "podSelector", "matchLabels")) {
				t.Errorf("NetworkPolicy %s selects no pod", o.name())
			}
			for _, rule := range list(dig(o, "spec", "ingress")) {
				for _, p := range list(dig(rule, "ports")) {
					if name, ok := dig(p, "port").(string); ok && !ports[name] {
						t.Errorf("NetworkPolicy %s: port %s is no container port", o.name(), name)
					}
				}
			}
		}
	}
	if networkPolicies == 0 {
		t.Error("no NetworkPolicy")
	}
}

// selects reports whether every label of sel is in labels.
func selects(sel, labels any) bool {
	s, _ := sel.(map[string]any)
	l, _ := labels.(map[string]any)
	if len(s) == 0 {
		return false
	}
	for k, v := range s {
		if l[k] != v {
			return false
		}
	}
	return true
}

func only(t *testing.T, objs []object, kind string) object {
	t.Helper()
	var found []object
	for _, o := range objs {
		if o.kind() == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(found), kind)
	}
	return found[0]
}

func container(t *testing.T, pod any, name string) any {
	t.Helper()
	for _, c := range list(dig(pod, "containers")) {
		if dig(c, "name") == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return nil
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}

// checkProbe checks that container c has an HTTP probe kind on path and
// the named port.
func checkProbe(t *testing.T, c any, kind, path, port string) {
	t.Helper()
	if got := dig(c, kind, "httpGet", "path"); got != path {
		t.Errorf("%s: %s path %v, want %s", dig(c, "name"), kind, got, path)
	}
	if got := dig(c, kind, "httpGet", "port"); got != port {
		t.Errorf("%s: %s port %v, want %s", dig(c, "name"), kind, got, port)
	}
}

// mountOf returns the pod volume mounted in c at path, or nil.
func mountOf(t *testing.T, pod, c any, path string) any {
	t.Helper()
	for _, m := range list(dig(c, "volumeMounts")) {
		if dig(m, "mountPath") != path {
			continue
		}
		for _, v := range list(dig(pod, "volumes")) {
			if dig(v, "name") == dig(m, "name") {
				return v
			}
		}
		for _, v := range list(dig(pod, "volumeClaimTemplates")) {
			if dig(v, "metadata", "name") == dig(m, "name") {
				return v
			}
		}
		return map[string]any{"name": dig(m, "name")} // a claim template of the StatefulSet
	}
	return nil
}
