package cincinnati

import (
	"encoding/json"
	"net/http"
)

// Handler serves graphs as an update service does, keyed by channel and
// then by arch: GET ?channel=C&arch=A returns graphs[C][A], an unknown channel
// or arch a 404 with the service's {kind, value} error body. Tests and the
// lab use it to stand in for api.openshift.com on 127.0.0.1.
func Handler(graphs map[string]map[string]*Graph) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch, arch := r.URL.Query().Get("channel"), r.URL.Query().Get("arch")
		g, ok := graphs[ch][arch]
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"kind": "invalid_params", "value": "unknown channel " + ch + " or arch " + arch})
			return
		}
		_ = json.NewEncoder(w).Encode(g)
	})
}
