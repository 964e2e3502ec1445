package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/assistent-nl/assistent/federation/client"
	"github.com/assistent-nl/assistent/federation/trust"
	federationv1 "github.com/assistent-nl/assistent/gen/assistent/federation/v1"
	"github.com/assistent-nl/assistent/gen/assistent/federation/v1/federationv1connect"
)

// federationJoin redeems a one-time join token for a certificate. The
// member generates its key (it never leaves the machine), sends a CSR, and
// trusts the answer only when the federation CA it returns has the
// fingerprint the operator gave with the token, and the server's own
// certificate chains to that CA: a server in the middle gains the token
// but no member.
func (m *Main) federationJoin(ctx context.Context, args []string) error {
	fs := m.flagSet("federation join", "federation join --server URL --token TOKEN --ca-sha256 HEX --node ID [--host H]... --out DIR")
	server := fs.String("server", "", "API URL of a coordination server that issues certificates")
	token := fs.String("token", "", "the one-time join token from the operator")
	pin := fs.String("ca-sha256", "", "fingerprint of the federation CA, given with the token ('federation token' prints it)")
	node := fs.String("node", "", "this member's node id, e.g. meppel-1")
	out := fs.String("out", "", "directory for node.crt, node.key and ca.crt")
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP address the certificate is valid for (repeatable; for a peer listener)")
	if err := parse(fs, args); err != nil {
		return err
	}
	*pin = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(*pin), ":", ""))
	switch {
	case !strings.HasPrefix(*server, "https://") || *token == "" || *node == "" || *out == "":
		return usagef("federation join: --server (https://...), --token, --node and --out are required")
	case len(*pin) != 64 || strings.Trim(*pin, "0123456789abcdef") != "":
		return usagef("federation join: --ca-sha256 must be the CA's sha256 fingerprint (64 hex digits)")
	}
	if _, err := os.Stat(filepath.Join(*out, "node.key")); err == nil {
		return fmt.Errorf("federation join: %s already holds a key; choose another --out", *out)
	}
	key, err := trust.GenerateKey()
	if err != nil {
		return err
	}
	csr, err := trust.NewCSR(key, *node, hosts...)
	if err != nil {
		return usagef("federation join: %v", err)
	}
	// The server is checked after the answer, against the CA it returns.
	var serverChain []*x509.Certificate
	tr := &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS13, InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, der := range raw {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					return err
				}
				serverChain = append(serverChain, c)
			}
			return nil
		},
	}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := federationv1connect.NewRegistryServiceClient(&http.Client{Transport: tr, Timeout: 30 * time.Second}, *server)
	resp, err := c.Join(ctx, connect.NewRequest(&federationv1.JoinRequest{Token: *token, CsrPem: csr}))
	if err != nil {
		return fmt.Errorf("federation join: %w", err)
	}
	ca, err := trust.ParseCertificatePEM(resp.Msg.CaPem)
	if err != nil {
		return fmt.Errorf("federation join: the server sent no valid CA certificate: %w", err)
	}
	if got := trust.Fingerprint(ca); got != *pin {
		return fmt.Errorf("federation join: the server's CA has fingerprint %s, not %s; not joining (is this the right server?)", got, *pin)
	}
	cert, err := verifyIssued(resp.Msg.CertPem, ca, serverChain, key)
	if err != nil {
		return fmt.Errorf("federation join: %w", err)
	}
	if err := writeKeyPair(*out, cert, key, resp.Msg.CaPem); err != nil {
		return err
	}
	id, _ := trust.ParseIdentity(cert)
	fmt.Fprintf(m.Stdout, "joined as %s; certificate in %s, valid until %s\n", id, *out, cert.NotAfter.Format(time.DateOnly))
	return nil
}

// verifyIssued checks an issued certificate: it chains to ca, holds key's
// public key, and the server that issued it presented a certificate that
// chains to ca too.
func verifyIssued(certPEM []byte, ca *x509.Certificate, serverChain []*x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	cert, err := trust.ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("the server sent no valid certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("the issued certificate does not chain to the federation CA: %w", err)
	}
	if len(serverChain) == 0 {
		return nil, errors.New("the server presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range serverChain[1:] {
		inter.AddCert(c)
	}
	if _, err := serverChain[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("the server's own certificate does not chain to the federation CA: %w", err)
	}
	if !publicKeyEqual(cert.PublicKey, key.Public()) {
		return nil, errors.New("the issued certificate is for another key")
	}
	return cert, nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// federationRenew replaces a member's certificate before it expires: a new
// key, a CSR for the same node, and the certificate the federation issues
// for it over the member's current mutual-TLS identity. The new files
// replace the old ones in place (the old ones are kept as *.old). A node
// that serves does this by itself when a third of the lifetime is left.
func (m *Main) federationRenew(ctx context.Context, args []string) error {
	fs := m.flagSet("federation renew", "federation renew --server URL --cert DIR [--host H]...")
	servers, certDir := registryFlags(fs)
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP address for the new certificate (repeatable; default: the current ones)")
	if err := parse(fs, args); err != nil {
		return err
	}
	hc, err := registryClient(*servers, *certDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pair, err := renewCertificate(ctx, *servers, hc, *certDir, hosts)
	if err != nil {
		return fmt.Errorf("federation renew: %w", err)
	}
	id, _ := trust.ParseIdentity(pair.Leaf)
	fmt.Fprintf(m.Stdout, "renewed %s in %s, valid until %s\n", id, *certDir, pair.Leaf.NotAfter.Format(time.DateOnly))
	return nil
}

// renewCertificate gets a new certificate for the member in dir from the
// first of servers that issues certificates, over hc (which presents the
// current one), checks it (same CA, same identity, the new key), replaces
// the files and returns the new pair. hosts empty keeps the current names.
func renewCertificate(ctx context.Context, servers []string, hc connect.HTTPClient, dir string, hosts []string) (tls.Certificate, error) {
	cur, own, err := loadMemberCA(dir)
	if err != nil {
		return tls.Certificate{}, err
	}
	id, err := trust.ParseIdentity(cur.Leaf)
	if err != nil {
		return tls.Certificate{}, err
	}
	if len(hosts) == 0 {
		hosts = append(hosts, cur.Leaf.DNSNames...)
		for _, ip := range cur.Leaf.IPAddresses {
			hosts = append(hosts, ip.String())
		}
	}
	key, err := trust.GenerateKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	csr, err := trust.NewCSR(key, id.Node, hosts...)
	if err != nil {
		return tls.Certificate{}, err
	}
	var resp *connect.Response[federationv1.RenewResponse]
	for _, s := range servers {
		resp, err = federationv1connect.NewRegistryServiceClient(hc, s).Renew(ctx, connect.NewRequest(&federationv1.RenewRequest{CsrPem: csr}))
		if err == nil || connect.CodeOf(err) != connect.CodeUnimplemented {
			break
		}
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	ca, err := trust.ParseCertificatePEM(resp.Msg.CaPem)
	if err != nil {
		return tls.Certificate{}, err
	}
	if !ca.Equal(own) {
		return tls.Certificate{}, errors.New("the server answered with another CA than this member's; nothing replaced")
	}
	cert, err := trust.ParseCertificatePEM(resp.Msg.CertPem)
	if err != nil {
		return tls.Certificate{}, err
	}
	if got, err := trust.ParseIdentity(cert); err != nil || got != id || !publicKeyEqual(cert.PublicKey, key.Public()) {
		return tls.Certificate{}, fmt.Errorf("the issued certificate is not %s for the new key; nothing replaced", id)
	}
	if err := replaceKeyPair(dir, cert, key); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, nil
}

// loadMemberCA loads the member's key pair and its CA certificate from dir.
func loadMemberCA(dir string) (tls.Certificate, *x509.Certificate, error) {
	cur, _, err := loadMember(dir)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca, err := trust.ParseCertificatePEM(caPEM)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("%s: %w", filepath.Join(dir, "ca.crt"), err)
	}
	return cur, ca, nil
}

// renewWhenDue keeps a serving node's certificate fresh: when a third of
// its lifetime is left it asks the servers for a new one, writes it to the
// certificate directory and presents it from the next handshake on. A
// failure is logged and tried again ten minutes later.
func (m *member) renewWhenDue(ctx context.Context, servers []string, log *slog.Logger) {
	hc := client.NewHTTPClient(m.toServers())
	for {
		leaf := m.certificate().Leaf
		due := leaf.NotAfter.Add(-leaf.NotAfter.Sub(leaf.NotBefore) / 3)
		wait := time.Until(due)
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(min(wait, time.Hour)):
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		pair, err := renewCertificate(rctx, servers, hc, m.dir, nil)
		cancel()
		if err != nil {
			log.Warn("federation: certificate renewal failed; trying again in 10 minutes", "expires", leaf.NotAfter, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Minute):
			}
			continue
		}
		m.cert.Store(&pair)
		log.Info("federation: certificate renewed", "valid_until", pair.Leaf.NotAfter)
	}
}

// replaceKeyPair puts a renewed key and certificate in dir: each is written
// to a temporary file first, the current files become *.old, and the new
// ones are renamed into place, so a crash leaves either pair whole.
func replaceKeyPair(dir string, cert *x509.Certificate, key crypto.Signer) error {
	keyPEM, err := trust.MarshalPrivateKeyPEM(key)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{{"node.key", keyPEM, 0o600}, {"node.crt", trust.CertificatePEM(cert), 0o644}}
	for _, f := range files {
		tmp := filepath.Join(dir, f.name+".new")
		if err := os.WriteFile(tmp, f.data, f.mode); err != nil {
			return err
		}
		fh, err := os.Open(tmp)
		if err != nil {
			return err
		}
		err = fh.Sync()
		fh.Close()
		if err != nil {
			return err
		}
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.Rename(path, path+".old"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Rename(path+".new", path); err != nil {
			return err
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
