// Package tlsutil gives livenessd's listener a certificate: the configured
// certificate and key, or for development a self-signed ECDSA certificate
// for localhost, generated once and cached in the data directory.
//
// The Amplify liveness component always connects with wss://, so even a
// local development setup needs TLS; browsers must be told to trust the
// self-signed certificate (or use mkcert), otherwise the component only
// reports a connection timeout.
package tlsutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Names of the cached self-signed pair in the data directory.
const (
	SelfSignedCert = "tls/selfsigned-cert.pem"
	SelfSignedKey  = "tls/selfsigned-key.pem"
)

// DefaultHosts are the names a development certificate covers.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// DefaultValidity is how long a generated certificate is valid; it is
// regenerated when less than a tenth of that remains.
const DefaultValidity = 90 * 24 * time.Hour

// Config selects the certificate.
type Config struct {
	// CertFile and KeyFile are a PEM certificate chain and key. Both or
	// neither must be set.
	CertFile, KeyFile string
	// SelfSigned generates (or reuses) a self-signed certificate in
	// Dir when no files are given.
	SelfSigned bool
	// Dir is the data directory holding the cached self-signed pair.
	Dir string
	// Hosts are the DNS names and IP addresses of a self-signed
	// certificate; default DefaultHosts.
	Hosts []string
	Now   func() time.Time
}

// ErrNoCertificate means TLS was asked for without a certificate source.
var ErrNoCertificate = errors.New("tlsutil: no certificate: set a certificate and key file, or enable the self-signed development certificate")

// Load returns a server TLS config (TLS 1.2+) and, for a self-signed
// certificate, the path of its PEM file (to hand to browsers or curl).
func Load(c Config) (*tls.Config, string, error) {
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, "", errors.New("tlsutil: certificate and key files must be given together")
	}
	var certPath, keyPath string
	switch {
	case c.CertFile != "":
		certPath, keyPath = c.CertFile, c.KeyFile
	case c.SelfSigned:
		var err error
		if certPath, keyPath, err = EnsureSelfSigned(c); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", ErrNoCertificate
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, "", fmt.Errorf("tlsutil: load %s: %w", certPath, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if c.CertFile != "" {
		return cfg, "", nil
	}
	return cfg, certPath, nil
}

// EnsureSelfSigned returns the cached self-signed pair in c.Dir, making a
// new one when it is missing, unreadable, about to expire or does not
// cover c.Hosts.
func EnsureSelfSigned(c Config) (certPath, keyPath string, err error) {
	if c.Dir == "" {
		return "", "", errors.New("tlsutil: no data directory for the self-signed certificate")
	}
	hosts := c.Hosts
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	certPath, keyPath = filepath.Join(c.Dir, SelfSignedCert), filepath.Join(c.Dir, SelfSignedKey)
	if usable(certPath, keyPath, hosts, now()) {
		return certPath, keyPath, nil
	}
	certPEM, keyPEM, err := Generate(hosts, now(), DefaultValidity)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return "", "", fmt.Errorf("tlsutil: %w", err)
	}
	if err := writeAtomic(keyPath, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeAtomic(certPath, certPEM, 0o644); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

func usable(certPath, keyPath string, hosts []string, now time.Time) bool {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil || len(pair.Certificate) == 0 {
		return false
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return false
	}
	if now.Before(cert.NotBefore) || now.Add(DefaultValidity/10).After(cert.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(cert.DNSNames, h) {
			return false
		}
	}
	return true
}

// Generate makes a self-signed ECDSA P-256 certificate for hosts, valid
// from an hour before now for validity, and returns certificate and key as
// PEM.
func Generate(hosts []string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsutil: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tlsutil: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"livenessd development"}, CommonName: hosts[0]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsutil: certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsutil: key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("tlsutil: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("tlsutil: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("tlsutil: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tlsutil: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("tlsutil: %w", err)
	}
	return nil
}
