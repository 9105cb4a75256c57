package mirror

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	testreg "github.com/hcpmirror/hcpmirror/internal/testing/registry"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// tokenAuth is Docker's token authentication in front of a registry, as
// distribution's token access controller, Quay and Harbor do it: a token
// endpoint issuing bearer tokens for the scopes asked and allowed to the
// (basic-auth) user, and a check of every request's access against its
// token, answered by a 401 whose challenge names the scope missing. The
// endpoint is the registry's own /token: go-containerregistry accepts a
// realm on 127.0.0.1 only on the registry's host and port.
type tokenAuth struct {
	// allow says whether user may do action (pull, push) on repo.
	allow func(user, repo, action string) bool
	// all makes the endpoint refuse (401) a request with any scope not
	// allowed, as some token servers do, instead of granting the rest.
	all bool

	mu     sync.Mutex
	tokens map[string]map[string]bool // token -> granted "repo:action"
	asked  [][]string                 // the scopes of each token request
}

var repoPath = regexp.MustCompile(`^/v2/(.+?)/(manifests|blobs|tags)/`)

func (a *tokenAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			a.issue(w, r)
			return
		}
		var need []string // "repo:action"
		if m := repoPath.FindStringSubmatch(r.URL.Path); m != nil {
			need = append(need, m[1]+":pull")
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				need = append(need, m[1]+":push")
			}
			if q := r.URL.Query(); r.Method == http.MethodPost && q.Has("mount") && q.Get("from") != "" {
				need = append(need, q.Get("from")+":pull")
			}
		}
		tok, hasTok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		granted, valid := a.tokens[tok]
		a.mu.Unlock()
		var missing []string
		for _, n := range need {
			if !granted[n] {
				repo, action, _ := strings.Cut(n, ":")
				missing = append(missing, "repository:"+repo+":"+action)
			}
		}
		if !hasTok || !valid || len(missing) > 0 {
			ch := fmt.Sprintf(`Bearer realm="http://%s/token",service="testreg"`, r.Host)
			if len(missing) > 0 {
				ch += fmt.Sprintf(`,scope="%s",error="insufficient_scope"`, strings.Join(missing, " "))
			}
			w.Header().Set("WWW-Authenticate", ch)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// issue is the token endpoint.
func (a *tokenAuth) issue(w http.ResponseWriter, r *http.Request) {
	user, _, _ := r.BasicAuth()
	var scopes []string
	for _, s := range r.URL.Query()["scope"] {
		scopes = append(scopes, strings.Fields(s)...)
	}
	granted := map[string]bool{}
	refused := false
	for _, s := range scopes {
		typ, rest, _ := strings.Cut(s, ":")
		i := strings.LastIndex(rest, ":")
		if typ != "repository" || i < 0 {
			continue
		}
		repo := rest[:i]
		for _, action := range strings.Split(rest[i+1:], ",") {
			if a.allow(user, repo, action) {
				granted[repo+":"+action] = true
			} else {
				refused = true
			}
		}
	}
	a.mu.Lock()
	a.asked = append(a.asked, scopes)
	a.mu.Unlock()
	if refused && a.all {
		http.Error(w, `{"errors":[{"code":"DENIED","message":"access denied"}]}`, http.StatusUnauthorized)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	a.mu.Lock()
	if a.tokens == nil {
		a.tokens = map[string]map[string]bool{}
	}
	a.tokens[tok] = granted
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
}

// requests is the number of token requests so far, and how many of them
// asked for pull on from together with push on another repository (a
// mount's session).
func (a *tokenAuth) requests(from string) (all, mount int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.asked {
		if slices.Contains(s, "repository:"+from+":pull") && slices.ContainsFunc(s, func(x string) bool {
			return strings.HasSuffix(x, ":push,pull") && x != "repository:"+from+":push,pull"
		}) {
			mount++
		}
	}
	return len(a.asked), mount
}

// reset forgets the token requests so far (not the tokens).
func (a *tokenAuth) reset() {
	a.mu.Lock()
	a.asked = nil
	a.mu.Unlock()
}

// authFile writes an auth file giving user per repository prefix of
// registry host (the longest prefix wins, as in containers-auth.json).
func authFile(t *testing.T, host string, users map[string]string) string {
	t.Helper()
	auths := map[string]any{}
	for prefix, user := range users {
		auths[strings.TrimSuffix(host+"/"+prefix, "/")] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":pw"))}
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTokenAuthMounts: into a registry with token auth, a blob mounted from
// another repository is mounted (201 on the POST, nothing sent) when the
// token may pull from there, with one token exchange per pair of
// repositories however many blobs they share; when it may not, the blob is
// uploaded, the images are complete, and the refusal costs no token
// exchange per blob.
//
// The base image goes to m/base with user "base"; apps=3 images sharing
// its shared=3 layers go to m/app0.. with user "app", which may or may not
// pull m/base (a per-repository robot account, as Quay and Harbor have).
func TestTokenAuthMounts(t *testing.T) {
	const apps, shared = 3, 3
	src := testreg.Start(t)
	var base []v1.Layer
	for range shared {
		l, err := random.Layer(1024, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		base = append(base, l)
	}
	image := func(name string) Image {
		own, err := random.Layer(1024, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(empty.Image, append(slices.Clone(base), own)...)
		if err != nil {
			t.Fatal(err)
		}
		ref := src.Addr + "/src/" + name + ":v1"
		push(t, ref, img)
		return Image{Source: ref, Repo: name, Tag: "v1", Kind: KindAdditional}
	}
	images := []Image{image("base")}
	for i := range apps {
		images = append(images, image(fmt.Sprintf("app%d", i)))
	}

	for _, tc := range []struct {
		name       string
		pullBase   bool // may "app" pull m/base
		all        bool // the token server refuses a request with any scope denied
		wantMounts int  // blob POSTs from m/base answered 201 for the app images
		// mount POSTs answered 401; token requests for a mount session;
		// token requests in all, for the app images.
		wantRefused, wantMountTokens, wantTokens int
	}{
		{name: "pull on the source granted: mounted", pullBase: true, wantMounts: apps * shared, wantMountTokens: apps, wantTokens: 4 * apps},
		// One refusal per repository, and go-containerregistry's
		// refresh on its challenge, whatever the blobs shared.
		{name: "pull on the source denied: uploaded", wantRefused: 2 * apps, wantMountTokens: 2 * apps, wantTokens: 5 * apps},
		{name: "token request refused: uploaded", all: true, wantMountTokens: apps, wantTokens: 4 * apps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := &tokenAuth{all: tc.all, allow: func(user, repo, action string) bool {
				switch {
				case user == "base":
					return repo == "m/base"
				case user == "app" && strings.HasPrefix(repo, "m/app"):
					return true
				case user == "app" && repo == "m/base":
					return tc.pullBase && action == "pull"
				}
				return false
			}}
			kinds := &requestKinds{}
			var posts statusCounter
			dest := testreg.Start(t, testreg.WithHandler(kinds.wrap, posts.wrap, auth.wrap))
			c, err := registry.New(
				registry.WithAuthFile(authFile(t, dest.Addr, map[string]string{"": "app", "m/base": "base"})),
				registry.WithInsecureRegistry(src.Addr), registry.WithInsecureRegistry(dest.Addr))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			rs, err := NewRegistrySource(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			tgt, err := NewRegistryTarget(t.Context(), c, dest.Addr+"/m")
			if err != nil {
				t.Fatal(err)
			}
			// The base first, alone, so that its blobs are known to be
			// in m/base when the apps are copied.
			for _, batch := range [][]Image{images[:1], images[1:]} {
				for _, r := range Copy(t.Context(), rs, tgt, batch, CopyOptions{Parallel: 1}) {
					if r.Status != StatusCopied {
						t.Fatalf("copy of %s: %+v", r.Image.Repo, r)
					}
				}
				if batch[0].Repo == "base" {
					kinds.reset()
					posts.reset()
					auth.reset()
				}
			}
			tokens, mountTokens := auth.requests("m/base")
			got := kinds.snapshot()
			t.Logf("%d app images of %d blobs (%d shared with m/base): requests %v; mount POSTs %v; %d token requests in all, %d for a mount session",
				apps, shared+2, shared, kinds, posts.snapshot(), tokens, mountTokens)
			mounted := posts.get(http.StatusCreated)
			if mounted != tc.wantMounts {
				t.Errorf("%d blob POSTs answered 201, want %d", mounted, tc.wantMounts)
			}
			// Each app image sends its own layer and its config; the
			// shared layers too unless mounted.
			if want := apps*(2+shared) - tc.wantMounts; got["PUT upload"] != want {
				t.Errorf("%d blob PUTs, want %d", got["PUT upload"], want)
			}
			if got["PATCH upload"] != 0 {
				t.Errorf("%d PATCHes, want none", got["PATCH upload"])
			}
			if mountTokens != tc.wantMountTokens {
				t.Errorf("%d token requests for a mount session, want %d", mountTokens, tc.wantMountTokens)
			}
			if got := posts.get(http.StatusUnauthorized); got != tc.wantRefused {
				t.Errorf("%d mount POSTs answered 401, want %d", got, tc.wantRefused)
			}
			// Whatever the blobs per image, the token requests are per
			// repository: a pull (the tag check), the push session, the
			// mount session (and its refresh when refused), and
			// go-containerregistry's for the manifest.
			if tokens != tc.wantTokens {
				t.Errorf("%d token requests for %d repositories, want %d", tokens, apps, tc.wantTokens)
			}
			for _, im := range images {
				ref := dest.Addr + "/m/" + im.Repo + ":v1"
				img, err := c.Image(t.Context(), ref, v1.Platform{})
				if err != nil {
					t.Fatalf("reading %s back: %v", ref, err)
				}
				if err := validate.Image(img.Image); err != nil {
					t.Errorf("%s is not complete and correct: %v", ref, err)
				}
			}
		})
	}
}

// statusCounter counts the answers to blob POSTs that ask for a mount
// from another repository, by status.
type statusCounter struct {
	mu sync.Mutex
	n  map[int]int
}

func (s *statusCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodPost || !q.Has("mount") || !strings.Contains(r.URL.Path, "/blobs/uploads") || strings.HasPrefix(r.URL.Path, "/v2/"+q.Get("from")+"/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.mu.Lock()
		if s.n == nil {
			s.n = map[int]int{}
		}
		s.n[rec.status]++
		s.mu.Unlock()
	})
}

func (s *statusCounter) get(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[status]
}

func (s *statusCounter) snapshot() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]int{}
	for k, v := range s.n {
		out[k] = v
	}
	return out
}

func (s *statusCounter) reset() {
	s.mu.Lock()
	s.n = nil
	s.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
