package registry

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
)

// TestPushClientScopes: a push client for a mount asks one token for push
// on the repository and pull on each source, the repository's own scope
// first; asking again for the same set, in any order or with repeats,
// makes no token exchange.
func TestPushClientScopes(t *testing.T) {
	var mu sync.Mutex
	var asked [][]string
	bearer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/token":
				mu.Lock()
				asked = append(asked, r.URL.Query()["scope"])
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"token":"t"}`))
			case r.Header.Get("Authorization") == "":
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="testreg"`, r.Host))
				w.WriteHeader(http.StatusUnauthorized)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
	reg := testreg.Start(t, testreg.WithHandler(bearer))
	c := newClient(t, WithInsecureRegistry(reg.Addr))
	repo := func(path string) name.Repository {
		r, err := name.NewRepository(reg.Addr+"/"+path, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		from []string
		want []string // the scopes of a new token request; nil: none
	}{
		{name: "push", want: []string{"repository:a/c:push,pull"}},
		{name: "push again", from: []string{"a/c"}},
		{name: "mount", from: []string{"a/b"}, want: []string{"repository:a/c:push,pull", "repository:a/b:pull"}},
		{name: "mount again", from: []string{"a/b", "a/b", "a/c"}},
		{name: "mount from two", from: []string{"x/y", "a/b"}, want: []string{"repository:a/c:push,pull", "repository:x/y:pull", "repository:a/b:pull"}},
		{name: "the same two", from: []string{"a/b", "x/y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			before := len(asked)
			mu.Unlock()
			var from []name.Repository
			for _, f := range tc.from {
				from = append(from, repo(f))
			}
			if _, err := c.PushClient(t.Context(), repo("a/c"), from...); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			got := slices.Clone(asked[before:])
			mu.Unlock()
			var want [][]string
			if tc.want != nil {
				want = [][]string{tc.want}
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("token requests %v, want %v", got, want)
			}
		})
	}
	other, err := name.NewRepository("other.example:5000/a/b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PushClient(t.Context(), repo("a/c"), other); err == nil || !strings.Contains(err.Error(), "not the same registry") {
		t.Errorf("mount from another registry: %v, want an error", err)
	}
}
