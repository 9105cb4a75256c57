// Package cincinnati reads OpenShift's update graph (the Cincinnati API the
// cluster-version-operator and oc-mirror read) and picks releases out of a
// channel with oc-mirror's selection rules.
//
// A graph is fetched per channel and architecture:
//
//	GET <url>?channel=stable-4.16&arch=amd64   Accept: application/json
//	{"nodes":[{"version":"4.16.3","payload":"quay.io/…@sha256:…","metadata":{…}}],
//	 "edges":[[0,1]], "conditionalEdges":[…]}
//
// Edges are pairs of node indices, from → to. Conditional edges (updates
// with known risks) are ignored, as oc-mirror ignores them: a mirror holds
// releases, and which update a cluster may take is decided in the cluster.
//
// [Select] applies the rules of an ImageSetConfiguration channel:
//
//   - no bounds, full false: only the channel head (the newest release);
//   - no bounds, full true: every release in the channel;
//   - minVersion only: the shortest update path from minVersion to the head
//     (full true: every release from minVersion up);
//   - maxVersion only: only maxVersion (full true: every release up to it);
//   - both bounds: every release in the range, whatever full says, or with
//     shortestPath only those on the shortest update path from min to max.
//
// The package prints nothing.
package cincinnati

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/blang/semver/v4"
)

// Update service endpoints.
const (
	// DefaultURL is OpenShift's public update service.
	DefaultURL = "https://api.openshift.com/api/upgrades_info/v1/graph"
	// DefaultOKDURL serves OKD's channels.
	DefaultOKDURL = "https://origin-release.ci.openshift.org/graph"
	// EnvURLOverride replaces the endpoint, as it does for oc-mirror (set in
	// enclaves that run their own update service).
	EnvURLOverride = "UPDATE_URL_OVERRIDE"
)

// URL picks the endpoint for a channel type: flag (when set), else
// $UPDATE_URL_OVERRIDE, else the public service of the type ("okd" or ocp).
func URL(flag, channelType string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(EnvURLOverride); v != "" {
		return v
	}
	if channelType == "okd" {
		return DefaultOKDURL
	}
	return DefaultURL
}

// Graph is one channel's update graph.
type Graph struct {
	Version          int               `json:"version,omitempty"`
	Nodes            []Node            `json:"nodes"`
	Edges            [][2]int          `json:"edges"`
	ConditionalEdges []json.RawMessage `json:"conditionalEdges,omitempty"`
}

// Node is one release.
type Node struct {
	Version string `json:"version"`
	// Payload is the release image, normally by digest.
	Payload  string            `json:"payload"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Client fetches graphs.
type Client struct {
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// maxGraphBytes bounds a response: the largest public channels are a few MB.
const maxGraphBytes = 64 << 20

// Graph fetches the graph of channel for arch (amd64, arm64, …, multi) from
// endpoint.
func (c *Client) Graph(ctx context.Context, endpoint, channel, arch string) (*Graph, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("update graph URL %q: want http(s)://host/path", endpoint)
	}
	q := u.Query()
	q.Set("channel", channel)
	q.Set("arch", arch)
	u.RawQuery = q.Encode()
	what := fmt.Sprintf("update graph of channel %s (%s) from %s", channel, arch, endpoint)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxGraphBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading response: %w", what, err)
	}
	if len(body) > maxGraphBytes {
		return nil, fmt.Errorf("%s: response larger than %d bytes", what, maxGraphBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Kind, Value string }
		if json.Unmarshal(body, &e) == nil && e.Kind != "" {
			return nil, fmt.Errorf("%s: %s: %s: %s", what, resp.Status, e.Kind, e.Value)
		}
		return nil, fmt.Errorf("%s: %s", what, resp.Status)
	}
	var g Graph
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := g.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &g, nil
}

// check rejects graphs that would make selection meaningless.
func (g *Graph) check() error {
	var errs []error
	seen := map[string]bool{}
	for i, n := range g.Nodes {
		if _, err := semver.Parse(n.Version); err != nil {
			errs = append(errs, fmt.Errorf("nodes[%d].version %q: %w", i, n.Version, err))
		}
		if n.Payload == "" {
			errs = append(errs, fmt.Errorf("nodes[%d] (%s): no payload", i, n.Version))
		}
		if seen[n.Version] {
			errs = append(errs, fmt.Errorf("nodes[%d]: version %s listed twice", i, n.Version))
		}
		seen[n.Version] = true
	}
	for i, e := range g.Edges {
		if e[0] < 0 || e[0] >= len(g.Nodes) || e[1] < 0 || e[1] >= len(g.Nodes) {
			errs = append(errs, fmt.Errorf("edges[%d] %v: index out of range", i, e))
		}
	}
	return errors.Join(errs...)
}

// Selection is what one ImageSetConfiguration channel asks for.
type Selection struct {
	MinVersion, MaxVersion string
	ShortestPath, Full     bool
}

// Select returns the releases sel asks for, lowest version first. A bound
// that is not a release of the channel is an error, as is a shortest path
// that does not exist.
func Select(g *Graph, sel Selection) ([]Node, error) {
	if len(g.Nodes) == 0 {
		return nil, errors.New("the channel has no releases")
	}
	vers := make([]semver.Version, len(g.Nodes))
	for i, n := range g.Nodes {
		v, err := semver.Parse(n.Version)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", n.Version, err)
		}
		vers[i] = v
	}
	index := func(s, field string) (int, error) {
		v, err := semver.Parse(s)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", field, s, err)
		}
		for i := range vers {
			if vers[i].EQ(v) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%s %s is not a release of this channel (it has %s)", field, s, versionList(g, vers))
	}
	head, oldest := 0, 0
	for i := range vers {
		if vers[i].GT(vers[head]) {
			head = i
		}
		if vers[i].LT(vers[oldest]) {
			oldest = i
		}
	}
	lo, hi := -1, -1
	var err error
	if sel.MinVersion != "" {
		if lo, err = index(sel.MinVersion, "minVersion"); err != nil {
			return nil, err
		}
	}
	if sel.MaxVersion != "" {
		if hi, err = index(sel.MaxVersion, "maxVersion"); err != nil {
			return nil, err
		}
	}
	full := sel.Full || (lo >= 0 && hi >= 0)
	if hi < 0 {
		hi = head
	}
	if lo < 0 {
		if full && !sel.ShortestPath {
			lo = oldest
		} else {
			lo = hi
		}
	}
	if vers[lo].GT(vers[hi]) {
		return nil, fmt.Errorf("minVersion %s is above maxVersion %s", g.Nodes[lo].Version, g.Nodes[hi].Version)
	}
	if full && !sel.ShortestPath {
		var out []Node
		for i := range g.Nodes {
			if vers[i].GTE(vers[lo]) && vers[i].LTE(vers[hi]) {
				out = append(out, g.Nodes[i])
			}
		}
		sortNodes(out)
		return out, nil
	}
	path, err := shortestPath(g, vers, lo, hi)
	if err != nil {
		return nil, err
	}
	out := make([]Node, len(path))
	for i, n := range path {
		out[i] = g.Nodes[n]
	}
	sortNodes(out)
	return out, nil
}

// shortestPath is a breadth-first search over the edges from lo to hi.
// Successors are visited highest version first, so among paths of equal
// length the one through the newest releases wins, every time.
func shortestPath(g *Graph, vers []semver.Version, lo, hi int) ([]int, error) {
	if lo == hi {
		return []int{lo}, nil
	}
	next := make([][]int, len(g.Nodes))
	for _, e := range g.Edges {
		next[e[0]] = append(next[e[0]], e[1])
	}
	for i := range next {
		slices.SortFunc(next[i], func(a, b int) int { return vers[b].Compare(vers[a]) })
	}
	prev := make([]int, len(g.Nodes))
	for i := range prev {
		prev[i] = -1
	}
	prev[lo] = lo
	queue := []int{lo}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, m := range next[n] {
			if prev[m] >= 0 {
				continue
			}
			prev[m] = n
			if m == hi {
				var path []int
				for x := hi; x != lo; x = prev[x] {
					path = append(path, x)
				}
				path = append(path, lo)
				slices.Reverse(path)
				return path, nil
			}
			queue = append(queue, m)
		}
	}
	return nil, fmt.Errorf("no update path from %s to %s in this channel", g.Nodes[lo].Version, g.Nodes[hi].Version)
}

func sortNodes(ns []Node) {
	slices.SortFunc(ns, func(a, b Node) int {
		return semver.MustParse(a.Version).Compare(semver.MustParse(b.Version))
	})
}

// versionList names a channel's releases for an error, lowest first.
func versionList(g *Graph, vers []semver.Version) string {
	idx := make([]int, len(vers))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return vers[a].Compare(vers[b]) })
	names := make([]string, 0, len(idx))
	for _, i := range idx {
		names = append(names, g.Nodes[i].Version)
	}
	if len(names) > 12 {
		names = append(names[:5], append([]string{"…"}, names[len(names)-5:]...)...)
	}
	return strings.Join(names, ", ")
}
