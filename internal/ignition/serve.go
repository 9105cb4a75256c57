package ignition

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
)

// certReloader serves the certificate in certFile/keyFile, re-reading them
// when either changes (size or modification time; a Kubernetes Secret
// volume swaps its files on renewal), so a renewed serving certificate is
// used on the next handshake without a restart. A pair that fails to load
// keeps the previous certificate in use.
type certReloader struct {
	certFile, keyFile string
	log               logr.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	certSig string
}

func newCertReloader(certFile, keyFile string, log logr.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if _, err := r.get(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) signature() (string, error) {
	var sig string
	for _, f := range []string{r.certFile, r.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		sig += fmt.Sprintf("%d:%d;", st.Size(), st.ModTime().UnixNano())
	}
	return sig, nil
}

func (r *certReloader) get() (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sig, err := r.signature()
	if err == nil && sig == r.certSig && r.cert != nil {
		return r.cert, nil
	}
	cert, lerr := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err == nil {
		err = lerr
	}
	if err != nil {
		if r.cert != nil {
			r.log.Error(err, "reloading the serving certificate; the previous one stays in use", "certFile", r.certFile)
			return r.cert, nil
		}
		return nil, fmt.Errorf("serving certificate %s, key %s: %w", r.certFile, r.keyFile, err)
	}
	if r.cert != nil {
		r.log.Info("serving certificate reloaded", "certFile", r.certFile)
	}
	r.cert, r.certSig = &cert, sig
	return r.cert, nil
}

// ServeOptions are the listeners of Serve.
type ServeOptions struct {
	// Listen is the HTTPS address of /ignition (":9090").
	Listen string
	// MetricsAddr is the plain-HTTP address of /metrics, /healthz and
	// /readyz (":8080"); "0" or empty disables it.
	MetricsAddr string
	// CertFile and KeyFile are the serving certificate and key (PEM).
	CertFile, KeyFile string
	// Listening, when set, is called with the bound addresses once both
	// listeners accept connections (tests listen on port 0).
	Listening func(https, metrics net.Addr)
}

// Serve runs the server until ctx ends: it loads the certificate, binds both
// listeners, syncs the caches (readyz turns ready then) and serves, shutting
// down gracefully on cancellation.
func (s *Server) Serve(ctx context.Context, o ServeOptions) error {
	certs, err := newCertReloader(o.CertFile, o.KeyFile, s.log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	tlsCfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return certs.get() },
	}
	// Handshake failures (a client without the CA) are the server's
	// business, not stderr's: they go to the log at debug level.
	errLog := log.New(logWriter{s.log.V(1)}, "", 0)
	srv := &http.Server{Handler: s.Handler(), TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	var mln net.Listener
	var msrv *http.Server
	if o.MetricsAddr != "" && o.MetricsAddr != "0" {
		if mln, err = net.Listen("tcp", o.MetricsAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("--metrics-addr %s: %w", o.MetricsAddr, err)
		}
		msrv = &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
	}
	if o.Listening != nil {
		var ma net.Addr
		if mln != nil {
			ma = mln.Addr()
		}
		o.Listening(ln.Addr(), ma)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(tls.NewListener(ln, tlsCfg)); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if msrv != nil {
		g.Go(func() error {
			if err := msrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error { return s.Start(gctx) })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if msrv != nil {
			_ = msrv.Shutdown(sctx)
		}
		return nil
	})
	err = g.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// logWriter turns net/http's error log lines into log entries.
type logWriter struct{ log logr.Logger }

func (w logWriter) Write(b []byte) (int, error) {
	w.log.Info(strings.TrimSpace(string(b)))
	return len(b), nil
}
