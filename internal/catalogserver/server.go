package catalogserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// Server answers the registry API and the health check for the catalog
// last loaded. The zero value is ready to use and serves no catalog
// (health NOT_SERVING) until Load succeeds.
type Server struct {
	view atomic.Pointer[view]
}

// Stats describe a loaded catalog.
type Stats struct {
	Packages, Channels, Bundles int
}

// Load replaces the catalog served with cfg. A catalog that does not
// convert (what opm would refuse to serve) is an error and the catalog in
// service stays; calls in progress finish on the catalog they started on.
func (s *Server) Load(cfg *catalog.Config) (Stats, error) {
	v, err := buildView(cfg)
	if err != nil {
		return Stats{}, fmt.Errorf("the catalog cannot be served: %w", err)
	}
	s.view.Store(v)
	st := Stats{Packages: len(v.names), Bundles: len(v.bundles)}
	for _, p := range v.pkgs {
		st.Channels += len(p.channels)
	}
	return st, nil
}

// Serving reports whether a catalog is loaded.
func (s *Server) Serving() bool { return s.view.Load() != nil }

// Handler answers gRPC calls (HTTP/2 POSTs) of api.Registry and
// grpc.health.v1.Health.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveGRPC(w, r, s.lookup) })
}

// Serve answers on ln over cleartext HTTP/2 (gRPC's h2c with prior
// knowledge, as OLM and kubelet's grpc probe connect) until ctx ends, then
// stops gracefully: calls in progress get a few seconds to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           s.Handler(),
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		// Idle clients (OLM keeps a connection per CatalogSource) are
		// kept; HTTP/2 pings are the client's business.
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
