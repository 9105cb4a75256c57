package ignitionpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

// Lifetimes. A certificate is renewed once less than a third of its
// lifetime is left, so a renewal that fails keeps being retried for months
// before anything expires.
const (
	CAValidity      = 10 * 365 * 24 * time.Hour
	ServingValidity = 365 * 24 * time.Hour
)

// keyPair is a PEM certificate and key.
type keyPair struct {
	cert, key []byte
}

// ServingNames are the serving certificate's SANs for namespace ns: the
// Service's names and the loopback ones (the kubelet stand-in and port
// forwards reach the server there).
func ServingNames(ns string) (dns []string, ips []net.IP) {
	svc := "ignition-server"
	return []string{svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local", "localhost"},
		[]net.IP{net.ParseIP("127.0.0.1")}
}

// newCA makes a self-signed CA valid from now.
func newCA(ns string, now time.Time) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ignition-server-ca." + ns, OrganizationalUnit: []string{"hcpmirror"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return keyPair{}, err
	}
	return encode(der, key)
}

// newServing makes the ignition server's certificate for ns, signed by ca.
func newServing(ca keyPair, ns string, now time.Time) (keyPair, error) {
	caCert, caKey, err := parse(ca)
	if err != nil {
		return keyPair{}, fmt.Errorf("reading the CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	dns, ips := ServingNames(ns)
	notAfter := now.Add(ServingValidity)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "ignition-server." + ns + ".svc"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     notAfter,
		DNSNames:     dns,
		IPAddresses:  ips,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return keyPair{}, err
	}
	return encode(der, key)
}

// caProblem says why the CA must be replaced, or "" when it is good at now.
func caProblem(ca keyPair, now time.Time) string {
	cert, _, err := parse(ca)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	if !cert.IsCA {
		return "not a CA"
	}
	return lifetimeProblem(cert, now)
}

// servingProblem says why the serving certificate must be reissued, or ""
// when it is signed by ca, names exactly ServingNames(ns) and is good at now.
func servingProblem(serving, ca keyPair, ns string, now time.Time) string {
	cert, _, err := parse(serving)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	caCert, _, err := parse(ca)
	if err != nil {
		return "CA unreadable: " + err.Error()
	}
	if err := cert.CheckSignatureFrom(caCert); err != nil {
		return "not signed by the current CA"
	}
	dns, ips := ServingNames(ns)
	gotIPs := make([]string, 0, len(cert.IPAddresses))
	for _, ip := range cert.IPAddresses {
		gotIPs = append(gotIPs, ip.String())
	}
	wantIPs := make([]string, 0, len(ips))
	for _, ip := range ips {
		wantIPs = append(wantIPs, ip.String())
	}
	if !slices.Equal(cert.DNSNames, dns) || !slices.Equal(gotIPs, wantIPs) {
		return "names differ from the Service's"
	}
	return lifetimeProblem(cert, now)
}

func lifetimeProblem(cert *x509.Certificate, now time.Time) string {
	life := cert.NotAfter.Sub(cert.NotBefore)
	switch {
	case now.Before(cert.NotBefore):
		return "not valid yet"
	case !now.Before(cert.NotAfter):
		return "expired"
	case cert.NotAfter.Sub(now) < life/3:
		return "less than a third of its lifetime left"
	}
	return ""
}

// renewAt is when a certificate will need renewing, for the requeue.
func renewAt(certPEM []byte) (time.Time, error) {
	cert, err := parseCert(certPEM)
	if err != nil {
		return time.Time{}, err
	}
	return cert.NotAfter.Add(-cert.NotAfter.Sub(cert.NotBefore) / 3), nil
}

func parse(kp keyPair) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, err := parseCert(kp.cert)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(kp.key)
	if block == nil {
		return nil, nil, errors.New("no PEM key")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("key does not match the certificate")
	}
	return cert, key, nil
}

func parseCert(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func encode(der []byte, key *ecdsa.PrivateKey) (keyPair, error) {
	k, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k}),
	}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}
