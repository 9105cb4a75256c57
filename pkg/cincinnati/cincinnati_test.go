package cincinnati

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chain makes a channel x.y.0 … x.y.(n-1) where every release updates to the
// next one and, when skip is set, also to the one after next.
func chain(minor string, n int, skip bool) *Graph {
	g := &Graph{Version: 1}
	for i := range n {
		v := fmt.Sprintf("%s.%d", minor, i)
		g.Nodes = append(g.Nodes, Node{Version: v, Payload: "quay.io/openshift-release-dev/ocp-release@sha256:" + strings.Repeat(fmt.Sprintf("%x", i%16), 64)})
	}
	// Nodes in a scrambled order, as real graphs are not sorted.
	for i, j := 0, len(g.Nodes)-1; i < j; i, j = i+2, j-2 {
		g.Nodes[i], g.Nodes[j] = g.Nodes[j], g.Nodes[i]
	}
	pos := map[string]int{}
	for i, n := range g.Nodes {
		pos[n.Version] = i
	}
	for i := 0; i+1 < n; i++ {
		g.Edges = append(g.Edges, [2]int{pos[fmt.Sprintf("%s.%d", minor, i)], pos[fmt.Sprintf("%s.%d", minor, i+1)]})
		if skip && i+2 < n {
			g.Edges = append(g.Edges, [2]int{pos[fmt.Sprintf("%s.%d", minor, i)], pos[fmt.Sprintf("%s.%d", minor, i+2)]})
		}
	}
	return g
}

func versions(ns []Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Version)
	}
	return out
}

func TestSelect(t *testing.T) {
	linear := chain("4.16", 6, false)
	skips := chain("4.16", 6, true)
	for _, tc := range []struct {
		name    string
		g       *Graph
		sel     Selection
		want    []string
		wantErr string
	}{
		{"no bounds: head only", linear, Selection{}, []string{"4.16.5"}, ""},
		{"no bounds, full: whole channel", linear, Selection{Full: true}, []string{"4.16.0", "4.16.1", "4.16.2", "4.16.3", "4.16.4", "4.16.5"}, ""},
		{"min only: path to head", linear, Selection{MinVersion: "4.16.2"}, []string{"4.16.2", "4.16.3", "4.16.4", "4.16.5"}, ""},
		{"min only with skip edges: shortest path to head", skips, Selection{MinVersion: "4.16.1"}, []string{"4.16.1", "4.16.3", "4.16.5"}, ""},
		{"min only, full: every release from min", skips, Selection{MinVersion: "4.16.1", Full: true}, []string{"4.16.1", "4.16.2", "4.16.3", "4.16.4", "4.16.5"}, ""},
		{"max only: that release", linear, Selection{MaxVersion: "4.16.3"}, []string{"4.16.3"}, ""},
		{"max only, full: every release up to max", linear, Selection{MaxVersion: "4.16.2", Full: true}, []string{"4.16.0", "4.16.1", "4.16.2"}, ""},
		{"min and max: every release in range", skips, Selection{MinVersion: "4.16.1", MaxVersion: "4.16.4"}, []string{"4.16.1", "4.16.2", "4.16.3", "4.16.4"}, ""},
		{"min and max, shortestPath", skips, Selection{MinVersion: "4.16.0", MaxVersion: "4.16.4", ShortestPath: true}, []string{"4.16.0", "4.16.2", "4.16.4"}, ""},
		{"shortestPath, odd distance: newest intermediate first", skips, Selection{MinVersion: "4.16.0", MaxVersion: "4.16.3", ShortestPath: true}, []string{"4.16.0", "4.16.2", "4.16.3"}, ""},
		{"min equals max", linear, Selection{MinVersion: "4.16.2", MaxVersion: "4.16.2"}, []string{"4.16.2"}, ""},
		{"min not in channel", linear, Selection{MinVersion: "4.15.9"}, nil, "minVersion 4.15.9 is not a release of this channel (it has 4.16.0, 4.16.1, 4.16.2, 4.16.3, 4.16.4, 4.16.5)"},
		{"no path", &Graph{Nodes: linear.Nodes}, Selection{MinVersion: "4.16.0"}, nil, "no update path from 4.16.0 to 4.16.5"},
		{"empty channel", &Graph{}, Selection{}, nil, "the channel has no releases"},
		{"pre-releases order below releases", &Graph{Nodes: []Node{{Version: "4.16.0", Payload: "p"}, {Version: "4.16.0-rc.2", Payload: "p"}, {Version: "4.16.0-rc.10", Payload: "p"}}},
			Selection{MinVersion: "4.16.0-rc.2", MaxVersion: "4.16.0-rc.10"}, []string{"4.16.0-rc.2", "4.16.0-rc.10"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(tc.g, tc.sel)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Select(%+v) error = %v, want %q", tc.sel, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Select(%+v): %v", tc.sel, err)
			}
			if d := cmp.Diff(tc.want, versions(got)); d != "" {
				t.Errorf("Select(%+v) (-want +got):\n%s", tc.sel, d)
			}
		})
	}
}

func TestClientGraph(t *testing.T) {
	g := chain("4.16", 4, true)
	srv := httptest.NewServer(Handler(map[string]map[string]*Graph{"stable-4.16": {"amd64": g}}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client()}
	got, err := c.Graph(t.Context(), srv.URL+"/graph", "stable-4.16", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(g, got); d != "" {
		t.Errorf("Graph (-want +got):\n%s", d)
	}
	_, err = c.Graph(t.Context(), srv.URL+"/graph", "stable-4.16", "arm64")
	if err == nil || !strings.Contains(err.Error(), "404 Not Found: invalid_params: unknown channel stable-4.16 or arch arm64") {
		t.Errorf("unknown arch: error = %v", err)
	}
	if _, err := c.Graph(t.Context(), "ftp://x", "a", "b"); err == nil {
		t.Error("ftp URL accepted")
	}
}

func TestGraphCheck(t *testing.T) {
	bad := &Graph{Nodes: []Node{{Version: "x"}, {Version: "4.1.0", Payload: "p"}, {Version: "4.1.0", Payload: "p"}}, Edges: [][2]int{{0, 7}}}
	err := bad.check()
	for _, want := range []string{`nodes[0].version "x"`, "nodes[0] (x): no payload", "nodes[2]: version 4.1.0 listed twice", "edges[0] [0 7]: index out of range"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("check() = %v, want it to mention %q", err, want)
		}
	}
}

func TestURL(t *testing.T) {
	t.Setenv(EnvURLOverride, "")
	if got := URL("", "okd"); got != DefaultOKDURL {
		t.Errorf("URL okd = %s", got)
	}
	if got := URL("", ""); got != DefaultURL {
		t.Errorf("URL ocp = %s", got)
	}
	t.Setenv(EnvURLOverride, "http://127.0.0.1:1/graph")
	if got := URL("", "ocp"); got != "http://127.0.0.1:1/graph" {
		t.Errorf("URL with override = %s", got)
	}
	if got := URL("http://flag", "ocp"); got != "http://flag" {
		t.Errorf("URL with flag = %s", got)
	}
}
