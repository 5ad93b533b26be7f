package tlsutil_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/tlsutil"
)

func TestSelfSignedServesLocalhost(t *testing.T) {
	dir := t.TempDir()
	cfg, certPath, err := tlsutil.Load(tlsutil.Config{SelfSigned: true, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if certPath != filepath.Join(dir, tlsutil.SelfSignedCert) {
		t.Fatalf("cert path %s", certPath)
	}
	if st, err := os.Stat(filepath.Join(dir, tlsutil.SelfSignedKey)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("certificate does not parse")
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, host := range []string{"localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool},
				// Whatever localhost resolves to, reach the test listener.
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, ln.Addr().String())
				},
			}}
			resp, err := client.Get("https://" + net.JoinHostPort(host, port) + "/")
			if err != nil {
				t.Fatalf("verified TLS to %s: %v", host, err)
			}
			resp.Body.Close()
		})
	}
	// Another name is not covered.
	_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "example.com"})
	if err == nil {
		t.Error("certificate verified for example.com")
	}
}

func TestSelfSignedIsCachedAndRenewed(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := tlsutil.Config{SelfSigned: true, Dir: dir, Now: func() time.Time { return now }}
	certPath, _, err := tlsutil.EnsureSelfSigned(c)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(certPath)
	if _, _, err := tlsutil.EnsureSelfSigned(c); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(certPath)
	if string(first) != string(again) {
		t.Error("certificate regenerated although still valid")
	}
	c.Hosts = []string{"liveness.test", "10.0.0.7"}
	if _, _, err := tlsutil.EnsureSelfSigned(c); err != nil {
		t.Fatal(err)
	}
	other, _ := os.ReadFile(certPath)
	if string(other) == string(again) {
		t.Error("certificate kept although it does not cover the configured hosts")
	}
	now = now.Add(85 * 24 * time.Hour)
	if _, _, err := tlsutil.EnsureSelfSigned(c); err != nil {
		t.Fatal(err)
	}
	renewed, _ := os.ReadFile(certPath)
	if string(renewed) == string(other) {
		t.Error("certificate close to expiry not renewed")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := tlsutil.Generate([]string{"localhost"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cert, certPEM, 0o644)
	os.WriteFile(key, keyPEM, 0o600)
	if _, path, err := tlsutil.Load(tlsutil.Config{CertFile: cert, KeyFile: key}); err != nil || path != "" {
		t.Fatalf("configured pair: %q, %v", path, err)
	}
	if _, _, err := tlsutil.Load(tlsutil.Config{}); !errors.Is(err, tlsutil.ErrNoCertificate) {
		t.Errorf("no source: %v", err)
	}
	if _, _, err := tlsutil.Load(tlsutil.Config{CertFile: cert}); err == nil {
		t.Error("certificate without key accepted")
	}
	if _, _, err := tlsutil.Load(tlsutil.Config{CertFile: cert, KeyFile: cert}); err == nil {
		t.Error("certificate as key accepted")
	}
	if _, _, err := tlsutil.Load(tlsutil.Config{SelfSigned: true}); err == nil {
		t.Error("self-signed without a directory accepted")
	}
}
