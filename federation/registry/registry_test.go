package registry_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/assistent-nl/assistent/federation/registry"
)

func validOrg() registry.Org {
	return registry.Org{
		ID: "GM0119", Name: "Gemeente Meppel", Role: registry.RoleGemeente,
		PublicKeys: []registry.PublicKey{{ID: "k1", Key: base64.StdEncoding.EncodeToString(make([]byte, 32))}},
	}
}

func TestValue_Validate(t *testing.T) {
	longToken := "abcdEFGHijkl1234mnopQRST5678uvwxYZ90"
	tests := []struct {
		name  string
		value registry.Value
		ok    bool
	}{
		{"org ok", validOrg(), true},
		{"org bad role", func() registry.Org { o := validOrg(); o.Role = "burger"; return o }(), false},
		{"org short key", func() registry.Org {
			o := validOrg()
			o.PublicKeys[0].Key = base64.StdEncoding.EncodeToString(make([]byte, 16))
			return o
		}(), false},
		{"org id with space", func() registry.Org { o := validOrg(); o.ID = "GM 0119"; return o }(), false},
		{"node ok", registry.Node{ID: "n1", Org: "GM0119", APIAddr: "10.0.0.1:8443"}, true},
		{"node bad addr", registry.Node{ID: "n1", Org: "GM0119", APIAddr: "10.0.0.1"}, false},
		{"collection ok", registry.Collection{Name: "burgerzaken", Publisher: "NVVB", Manifest: []byte("m"), Signature: []byte("s"),
			Version: 3, Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ContentSHA256: registry.SHA256Hex([]byte("x"))}, true},
		{"collection no hash", registry.Collection{Name: "burgerzaken", Publisher: "NVVB", Manifest: []byte("m"), Signature: []byte("s"),
			Version: 3, Expires: time.Now()}, false},
		{"template ok", registry.Template{Name: "answer", Version: 1, Lang: "nl", Body: "Beantwoord {{.Vraag}}"}, true},
		{"template no version", registry.Template{Name: "answer", Lang: "nl", Body: "x"}, false},
		{"route ok", registry.Route{Task: "answer", Tenant: "GM0119", Providers: []string{"local", "mistral"}, Timeout: 5 * time.Second}, true},
		{"route no providers", registry.Route{Task: "answer"}, false},
		{"provider ok", registry.Provider{Name: "mistral-eu", Kind: "openai", Region: "eu-west", BaseURL: "https://api.example.eu/v1", Model: "mistral-small-2409"}, true},
		{"provider sk key as model", registry.Provider{Name: "p", Kind: "openai", Model: "sk-proj-abc"}, false},
		{"provider key in url query", registry.Provider{Name: "p", Kind: "openai", BaseURL: "https://x.example/v1?api_key=abc"}, false},
		{"provider userinfo", registry.Provider{Name: "p", Kind: "openai", BaseURL: "https://user:pw@x.example/v1"}, false},
		{"provider long token", registry.Provider{Name: "p", Kind: "openai", Region: longToken}, false},
		{"setting ok", registry.Setting{Name: "referral.phone", Value: "14 0522"}, true},
		{"revocation of a node", registry.Revocation{Org: "GM0119", Node: "meppel-1", Reason: "laptop gestolen"}, true},
		{"revocation of a serial", registry.Revocation{Serial: "1f3a9c"}, true},
		{"revocation of both", registry.Revocation{Serial: "1f3a9c", Org: "GM0119", Node: "meppel-1"}, false},
		{"revocation of nothing", registry.Revocation{Reason: "?"}, false},
		{"revocation serial not hex", registry.Revocation{Serial: "1F3A9C"}, false},
		{"revocation org only", registry.Revocation{Org: "GM0119"}, false},
		{"server", registry.Server{ID: "coord-1", APIURL: "https://10.0.0.1:8301"}, true},
		{"server without id", registry.Server{APIURL: "https://10.0.0.1:8301"}, false},
		{"server over http", registry.Server{ID: "coord-1", APIURL: "http://10.0.0.1:8301"}, false},
		{"server with path", registry.Server{ID: "coord-1", APIURL: "https://10.0.0.1:8301/x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := registry.Put(tt.value)
			if tt.ok {
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if err := cmd.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("Put err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCommand_Validate(t *testing.T) {
	org, _ := json.Marshal(validOrg())
	tests := []struct {
		name string
		cmd  registry.Command
	}{
		{"unknown field api_key", registry.PutRaw(registry.KindProvider, "p",
			json.RawMessage(`{"name":"p","kind":"openai","api_key":"x"}`))},
		{"key differs from value", registry.PutRaw(registry.KindOrg, "GM0000", org)},
		{"unknown kind", registry.PutRaw("secret", "x", json.RawMessage(`{}`))},
		{"no idempotency key", func() registry.Command {
			c := registry.PutRaw(registry.KindOrg, "GM0119", org)
			c.IdempotencyKey = ""
			return c
		}()},
		{"blob hash mismatch", registry.Command{Op: registry.OpPutBlob, IdempotencyKey: "k", SHA256: registry.SHA256Hex([]byte("a")), Blob: []byte("b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cmd.Validate(); !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCommand_EncodeDecode(t *testing.T) {
	cmds, sum := registry.PutBlob([]byte("inhoud van de collectie"))
	if len(cmds) != 1 || cmds[0].SHA256 != sum {
		t.Fatalf("PutBlob small: %d commands", len(cmds))
	}
	data, err := cmds[0].IfIndex(7).Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := registry.DecodeCommand(data)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Blob) != "inhoud van de collectie" || got.SHA256 != sum || !got.CAS || got.CASIndex != 7 || got.IdempotencyKey != cmds[0].IdempotencyKey {
		t.Fatalf("round trip: %+v", got)
	}
	for _, bad := range [][]byte{nil, {9, 1, '{'}, {1, 200, 1}} {
		if _, err := registry.DecodeCommand(bad); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("DecodeCommand(%v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCommand_TooLarge(t *testing.T) {
	tmpl := registry.Template{Name: "big", Version: 1, Lang: "nl", Body: strings.Repeat("a", registry.MaxCommandSize)}
	cmd, err := registry.Put(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Encode(); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("Encode = %v, want ErrTooLarge", err)
	}
	tmpl.Body = strings.Repeat("a", registry.MaxCommandSize-1000)
	cmd, _ = registry.Put(tmpl)
	if _, err := cmd.Encode(); err != nil {
		t.Fatalf("Encode just under the limit: %v", err)
	}
}
