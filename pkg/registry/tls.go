package registry

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// trust is the TLS policy of a Client: which hosts skip verification and
// which extra CAs each host's certificate may chain to.
type trust struct {
	insecure map[string]bool                // host[:port]
	global   []*x509.Certificate            // from CAFiles, for every host
	perHost  map[string][]*x509.Certificate // from CertDirs, host[:port] -> CAs
}

// loadTrust reads every CA file and certificate directory, reporting all
// problems at once.
func loadTrust(o *Options) (*trust, error) {
	t := &trust{insecure: map[string]bool{}, perHost: map[string][]*x509.Certificate{}}
	for _, h := range o.InsecureRegistries {
		t.insecure[h] = true
	}
	var errs []error
	for _, f := range o.CAFiles {
		certs, err := readPEMCerts(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("ca file: %w", err))
			continue
		}
		t.global = append(t.global, certs...)
	}
	for _, dir := range o.CertDirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("certificate directory: %w", err))
			continue
		}
		for _, ent := range ents {
			if !ent.IsDir() {
				continue
			}
			host, err := normalizeHostPort(ent.Name())
			if err != nil {
				continue // not a host directory; podman ignores these too
			}
			files, err := filepath.Glob(filepath.Join(dir, ent.Name(), "*.crt"))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			slices.Sort(files)
			for _, f := range files {
				certs, err := readPEMCerts(f)
				if err != nil {
					errs = append(errs, fmt.Errorf("certificate directory: %w", err))
					continue
				}
				t.perHost[host] = append(t.perHost[host], certs...)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	rest := data
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return certs, nil
}

// profile is the TLS setting one request needs. Hosts sharing a profile
// share an http.Transport and so its connection pool; in practice every
// host without an insecure flag or a certs.d entry shares the default one.
type profile struct {
	insecure bool
	host     string // set only when the host has its own CAs
}

func (t *trust) profileFor(hostPort string) profile {
	h := strings.ToLower(hostPort)
	if t.insecure[h] {
		return profile{insecure: true}
	}
	if _, ok := t.perHost[h]; ok {
		return profile{host: h}
	}
	return profile{}
}

// allowsPlainHTTP reports whether plain HTTP may be used for hostPort.
func (t *trust) allowsPlainHTTP(hostPort string) bool {
	return t.insecure[strings.ToLower(hostPort)]
}

// transports hands out one http.Transport per TLS profile, created on first
// use and kept for the Client's life.
type transports struct {
	trust   *trust
	roots   *x509.CertPool // system roots plus global CAs; nil = system only
	perHost int            // idle connections kept per host

	mu sync.Mutex
	m  map[profile]*http.Transport
}

func newTransports(t *trust, perHost int) *transports {
	var roots *x509.CertPool
	if len(t.global) > 0 {
		sys, err := x509.SystemCertPool()
		if err != nil || sys == nil {
			sys = x509.NewCertPool()
		}
		for _, c := range t.global {
			sys.AddCert(c)
		}
		roots = sys
	}
	return &transports{trust: t, roots: roots, perHost: perHost, m: map[profile]*http.Transport{}}
}

func (ts *transports) get(hostPort string) *http.Transport {
	p := ts.trust.profileFor(hostPort)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if tr, ok := ts.m[p]; ok {
		return tr
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: ts.roots}
	switch {
	case p.insecure:
		tlsConf.InsecureSkipVerify = true //nolint:gosec // the user listed this registry as insecure
	case p.host != "":
		pool := ts.roots
		if pool == nil {
			sys, err := x509.SystemCertPool()
			if err != nil || sys == nil {
				sys = x509.NewCertPool()
			}
			pool = sys
		} else {
			pool = pool.Clone()
		}
		for _, c := range ts.trust.perHost[p.host] {
			pool.AddCert(c)
		}
		tlsConf.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       tlsConf,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   ts.perHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	ts.m[p] = tr
	return tr
}

func (ts *transports) closeIdle() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, tr := range ts.m {
		tr.CloseIdleConnections()
	}
}
