package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
)

// TestUpstreamServe: the upstream serves its releases' graph, the release
// by tag and the catalog, then stops on cancel.
func TestUpstreamServe(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"upstream", "serve", "--components", "3", "--version", "4.16.2,4.16.3"}, nil, &stdout, &stderr)
	}()
	deadline := time.Now().Add(60 * time.Second)
	graphRE := regexp.MustCompile(`(?m)^update graph: (\S+)`)
	regRE := regexp.MustCompile(`(?m)^upstream registry serving on (\S+)`)
	for !regexp.MustCompile(`(?m)^ready`).MatchString(stdout.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready:\n%s\n%s", stdout.String(), stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("exited %d:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	graphURL := graphRE.FindStringSubmatch(stdout.String())[1]
	reg := regRE.FindStringSubmatch(stdout.String())[1]
	resp, err := http.Get(graphURL + "?channel=stable-4.16&arch=amd64")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var g cincinnati.Graph
	if err := json.NewDecoder(resp.Body).Decode(&g); err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 2 || len(g.Edges) != 1 {
		t.Errorf("graph: %d nodes, %d edges; want 2 and 1", len(g.Nodes), len(g.Edges))
	}
	for _, p := range []string{"/v2/openshift-release-dev/ocp-release/manifests/4.16.3-x86_64", "/v2/redhat/redhat-operator-index/manifests/v4.16"} {
		req, _ := http.NewRequest(http.MethodHead, "http://"+reg+p, nil)
		req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %s", p, r.Status)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel: %s", code, stderr.String())
	}
}
