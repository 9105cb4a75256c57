package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
)

// caFileName is the name of the CA certificate inside the certificate
// directory. The .crt suffix lets the directory double as a
// /etc/containers/certs.d/<host:port>/ entry.
const caFileName = "ca.crt"

// caKeyFileName is the CA's private key, kept only in a data directory.
const caKeyFileName = "ca.key"

// authority is a CA that signs registry server certificates.
type authority struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// newAuthority makes a throwaway CA. A fresh CA per registry keeps tests
// honest: trusting one registry's CA must not make another's work.
func newAuthority(now time.Time) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ca key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "hcpmirror lab registry ca", Organization: []string{"hcpmirror"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing ca certificate: %w", err)
	}
	return &authority{cert: cert, der: der, key: key}, nil
}

// persistentAuthority returns the CA kept in dir (ca.crt, ca.key), making
// and saving one when there is none or it has expired, so that a registry
// restarted on the same data directory is trusted through the same CA file.
func persistentAuthority(dir string, now time.Time) (*authority, error) {
	certPEM, certErr := os.ReadFile(filepath.Join(dir, caFileName))
	keyPEM, keyErr := os.ReadFile(filepath.Join(dir, caKeyFileName))
	switch {
	case certErr == nil && keyErr == nil:
		a, err := parseAuthority(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("ca in %s: %w", dir, err)
		}
		if now.Add(24 * time.Hour).Before(a.cert.NotAfter) {
			return a, nil
		}
		// Expired or about to: replace it.
	case errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist):
		// None yet (or half of one): make it.
	default:
		return nil, fmt.Errorf("reading ca in %s: %w", dir, errors.Join(certErr, keyErr))
	}
	a, err := newAuthority(now)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(a.key)
	if err != nil {
		return nil, fmt.Errorf("encoding ca key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating ca directory: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, caKeyFileName), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, fmt.Errorf("writing ca key: %w", err)
	}
	if _, err := a.writeCert(dir); err != nil {
		return nil, err
	}
	return a, nil
}

// parseAuthority decodes a CA saved by persistentAuthority.
func parseAuthority(certPEM, keyPEM []byte) (*authority, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", caFileName, err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", caKeyFileName, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s", caKeyFileName, caFileName)
	}
	return &authority{cert: cert, der: cb.Bytes, key: key}, nil
}

// writeCert stores the CA certificate in dir and returns its path.
func (a *authority) writeCert(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating certificate directory: %w", err)
	}
	p := filepath.Join(dir, caFileName)
	if err := atomicfile.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.der}), 0o644); err != nil {
		return "", fmt.Errorf("writing ca certificate: %w", err)
	}
	return p, nil
}

// pool trusts exactly this CA.
func (a *authority) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.cert)
	return p
}

// serverCert makes a server certificate signed by the CA, valid for the
// loopback names plus extraNames.
func (a *authority) serverCert(extraNames []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1", Organization: []string{"hcpmirror"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     a.cert.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, n := range extraNames {
		if ip := net.ParseIP(n); ip != nil {
			if !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
			continue
		}
		if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("signing server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, a.der}, PrivateKey: key}, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		// crypto/rand does not fail on supported platforms; a fixed
		// serial is still a valid certificate.
		return big.NewInt(1)
	}
	return n
}
