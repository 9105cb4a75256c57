package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func TestCredentialLookup(t *testing.T) {
	t.Parallel()
	secret := []byte(`{"auths": {
		"mirror.example.com:5000":            {"auth": "` + b64("host-port:pw") + `"},
		"mirror.example.com:5000/ocp":        {"auth": "` + b64("ns:pw") + `"},
		"mirror.example.com:5000/ocp/release": {"username": "repo", "password": "pw"},
		"mirror.example.com":                  {"auth": "` + b64("bare-host:pw") + `"},
		"https://legacy.example.com/v1/":      {"auth": "` + b64("legacy:pw") + `"},
		"http://plain.example.com/some/path":  {"auth": "` + b64("plain:pw") + `"},
		"https://index.docker.io/v1/":         {"auth": "` + b64("hub:pw") + `"},
		"quay.io/openshift-release-dev":       {"auth": "` + b64("quay-ns:pw") + `"},
		"Upper.Example.COM":                   {"auth": "` + b64("upper:pw") + `"},
		"anon.example.com":                    {}
	}}`)
	authFile := []byte(`{"auths": {
		"mirror.example.com:5000/ocp": {"auth": "` + b64("file-ns:pw") + `"},
		"file-only.example.com":       {"auth": "` + b64("file:pw") + `"},
		"quay.io":                     {"auth": "` + b64("file-quay:pw") + `"}
	}}`)
	ps, err := parseDockerConfig("pull secret", secret)
	if err != nil {
		t.Fatal(err)
	}
	af, err := parseDockerConfig("auth.json", authFile)
	if err != nil {
		t.Fatal(err)
	}
	creds := &credentials{sources: []credSource{ps, af}}

	tests := []struct {
		ref      string
		wantUser string // "" = anonymous
	}{
		{"mirror.example.com:5000/ocp/release@sha256:" + strings.Repeat("a", 64), "repo"},
		{"mirror.example.com:5000/ocp/other:1", "ns"},
		{"mirror.example.com:5000/ocp/deep/er/path:1", "ns"},
		{"mirror.example.com:5000/other/x:1", "host-port"},
		{"mirror.example.com/ocp/release:1", "bare-host"},
		{"mirror.example.com:5001/ocp/release:1", ""}, // a port is part of the key
		{"legacy.example.com/a/b:1", "legacy"},        // scheme keys name the whole host
		{"plain.example.com/other:1", "plain"},
		{"docker.io/library/busybox:1", "hub"},
		{"busybox:1", "hub"},
		{"registry-1.docker.io/library/busybox:1", "hub"},
		{"quay.io/openshift-release-dev/ocp-release:4.18", "quay-ns"}, // pull secret first
		{"quay.io/other/x:1", "file-quay"},                            // then the auth file
		{"file-only.example.com/x:1", "file"},
		{"upper.example.com/x:1", "upper"},
		{"anon.example.com/x:1", ""},
		{"unknown.example.com/x:1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := name.ParseReference(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			a, err := creds.Resolve(r.Context())
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != tc.wantUser {
				t.Errorf("Resolve(%s) user = %q, want %q", tc.ref, cfg.Username, tc.wantUser)
			}
			if tc.wantUser == "" && a != authn.Anonymous {
				t.Errorf("Resolve(%s) = %v, want anonymous", tc.ref, a)
			}
		})
	}
}

func TestLegacyDockercfg(t *testing.T) {
	t.Parallel()
	src, err := parseDockerConfig("legacy", []byte(`{"https://m.example.com:5000/v1/": {"auth": "`+b64("u:p")+`", "email": "x@example.com"}}`))
	if err != nil {
		t.Fatal(err)
	}
	creds := &credentials{sources: []credSource{src}}
	if cfg, ok := creds.lookup("m.example.com:5000", "a/b"); !ok || cfg.Username != "u" || cfg.Password != "p" {
		t.Errorf("lookup = %+v, %v; want u/p", cfg, ok)
	}
}

func TestSpellingsOfOneRegistry(t *testing.T) {
	t.Parallel()
	// docker.io and its aliases collide; the canonical spelling wins,
	// whatever the map order.
	for range 20 {
		src, err := parseDockerConfig("x", []byte(`{"auths": {
			"https://index.docker.io/v1/": {"auth": "`+b64("alias:p")+`"},
			"docker.io": {"auth": "`+b64("canonical:p")+`"},
			"registry-1.docker.io": {"auth": "`+b64("other:p")+`"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := src.entries["docker.io"].Username; got != "canonical" {
			t.Fatalf("docker.io user = %q, want canonical", got)
		}
	}
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []string
		secrets []string
	}{
		{"not JSON", `{"auths": `, []string{"pull secret: not a docker config"}, nil},
		{"auths not an object", `{"auths": ["x"]}`, []string{"pull secret: auths"}, nil},
		{
			name:    "every bad entry is reported",
			in:      `{"auths": {"a.example.com": {"auth": "!!notbase64-hunter2"}, "b.example.com": {"auth": "` + b64("nocolon-hunter3") + `"}, "ok.example.com": {"auth": "` + b64("u:p") + `"}}}`,
			want:    []string{`entry "a.example.com": "auth" is not valid base64`, `entry "b.example.com": "auth" does not decode to user:password`},
			secrets: []string{"hunter2", "hunter3"},
		},
		{"wrong field type", `{"auths": {"a.example.com": {"auth": 5}}}`, []string{`entry "a.example.com"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(WithoutDefaultAuthFile(), WithPullSecret([]byte(tc.in)))
			if err == nil {
				t.Fatal("New() = nil error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New() = %q, want it to contain %q", err, w)
				}
			}
			for _, s := range tc.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("New() = %q leaks %q", err, s)
				}
			}
		})
	}
}

// These tests change the environment, so they do not run in parallel.
func TestAuthFileDiscovery(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "auth.json", []byte(`{"auths": {"m.example.com": {"auth": "`+b64("from-file:p")+`"}}}`))
	dockerDir := filepath.Join(dir, "dockercfg")
	writeFile(t, dockerDir, "config.json", []byte(`{"auths": {"m.example.com": {"auth": "`+b64("from-docker-config:p")+`"}}}`))
	missing := filepath.Join(dir, "missing.json")
	runDir := filepath.Join(dir, "run")
	writeFile(t, filepath.Join(runDir, "containers"), "auth.json", []byte(`{"auths": {"m.example.com": {"auth": "`+b64("from-podman-login:p")+`"}}}`))
	runOther := filepath.Join(dir, "run-other")
	writeFile(t, filepath.Join(runOther, "containers"), "auth.json", []byte(`{"auths": {"other.example.com": {"auth": "`+b64("other:p")+`"}}}`))

	tests := []struct {
		name     string
		env      map[string]string
		opts     []Option
		wantUser string
		wantErr  string
	}{
		{name: "explicit file", opts: []Option{WithAuthFile(good)}, wantUser: "from-file"},
		{name: "explicit file missing", opts: []Option{WithAuthFile(missing)}, wantErr: "reading auth file"},
		{name: "REGISTRY_AUTH_FILE", env: map[string]string{"REGISTRY_AUTH_FILE": good}, wantUser: "from-file"},
		{name: "REGISTRY_AUTH_FILE missing", env: map[string]string{"REGISTRY_AUTH_FILE": missing}, wantErr: "reading auth file"},
		{name: "explicit file beats REGISTRY_AUTH_FILE", env: map[string]string{"REGISTRY_AUTH_FILE": missing}, opts: []Option{WithAuthFile(good)}, wantUser: "from-file"},
		{name: "DOCKER_CONFIG", env: map[string]string{"DOCKER_CONFIG": dockerDir}, wantUser: "from-docker-config"},
		{name: "default file missing is fine", env: map[string]string{"HOME": filepath.Join(dir, "nohome")}},
		{name: "XDG_RUNTIME_DIR auth.json", env: map[string]string{"XDG_RUNTIME_DIR": runDir}, wantUser: "from-podman-login"},
		{name: "XDG_RUNTIME_DIR before docker config", env: map[string]string{"XDG_RUNTIME_DIR": runDir, "DOCKER_CONFIG": dockerDir}, wantUser: "from-podman-login"},
		{name: "docker config when auth.json lacks the host", env: map[string]string{"XDG_RUNTIME_DIR": runOther, "DOCKER_CONFIG": dockerDir}, wantUser: "from-docker-config"},
		{name: "REGISTRY_AUTH_FILE before XDG_RUNTIME_DIR", env: map[string]string{"XDG_RUNTIME_DIR": runDir, "REGISTRY_AUTH_FILE": good}, wantUser: "from-file"},
		{name: "XDG_RUNTIME_DIR without auth.json", env: map[string]string{"XDG_RUNTIME_DIR": filepath.Join(dir, "empty-run"), "DOCKER_CONFIG": dockerDir}, wantUser: "from-docker-config"},
		{name: "default search off", env: map[string]string{"REGISTRY_AUTH_FILE": good}, opts: []Option{WithoutDefaultAuthFile()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("REGISTRY_AUTH_FILE", "")
			t.Setenv("DOCKER_CONFIG", "")
			t.Setenv("XDG_RUNTIME_DIR", "")
			t.Setenv("HOME", filepath.Join(dir, "nohome"))
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := New(tc.opts...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New() = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			cfg, _ := c.creds.lookup("m.example.com", "x")
			if cfg.Username != tc.wantUser {
				t.Errorf("user for m.example.com = %q, want %q", cfg.Username, tc.wantUser)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("test setup: missing file exists")
	}
}

// TestSecretAsAuthFile reads a Kubernetes pull secret given as --authfile,
// as "oc get secret -o yaml" (or -o json) writes it.
func TestSecretAsAuthFile(t *testing.T) {
	t.Parallel()
	cfg := `{"auths":{"m.example.com":{"auth":"` + b64("from-secret:hunter2-pw") + `"}}}`
	enc := b64(cfg)
	tests := []struct {
		name, file string
		wantUser   string
		wantErr    []string
	}{
		{name: "yaml", file: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull-secret\n  namespace: openshift-config\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: " + enc + "\n", wantUser: "from-secret"},
		{name: "json", file: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"pull-secret"},"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"` + enc + `"}}`, wantUser: "from-secret"},
		{name: "stringData", file: "kind: Secret\nmetadata: {name: ps}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '" + cfg + "'\n", wantUser: "from-secret"},
		{name: "legacy dockercfg", file: "kind: Secret\nmetadata: {name: ps}\ntype: kubernetes.io/dockercfg\ndata:\n  .dockercfg: " + b64(`{"m.example.com":{"auth":"`+b64("legacy-secret:pw")+`"}}`) + "\n", wantUser: "legacy-secret"},
		{name: "docker config in yaml-ish json still works", file: "  " + cfg + "\n", wantUser: "from-secret"},
		{name: "opaque secret", file: "kind: Secret\nmetadata: {name: ps}\ntype: Opaque\ndata:\n  x: " + enc + "\n", wantErr: []string{"Secret ps", `type "Opaque", want kubernetes.io/dockerconfigjson`}},
		{name: "missing key", file: "kind: Secret\nmetadata: {name: ps}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  other: " + enc + "\n", wantErr: []string{"Secret ps: no data[.dockerconfigjson]"}},
		{name: "bad base64", file: "kind: Secret\nmetadata: {name: ps}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: '!!hunter2-pw'\n", wantErr: []string{"data[.dockerconfigjson] is not valid base64"}},
		{name: "another kind", file: "kind: ConfigMap\nmetadata: {name: cm}\n", wantErr: []string{"a ConfigMap object, want a docker config.json or a Kubernetes Secret"}},
		{name: "not yaml", file: "kind: [hunter2-pw\n", wantErr: []string{"neither JSON nor YAML"}},
		{name: "empty", file: "\n", wantErr: []string{"empty file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "secret.yaml", []byte(tc.file))
			c, err := New(WithAuthFile(path))
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("New() = nil error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("New() = %q, want it to contain %q", err, w)
					}
				}
				if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("New() = %q: want the file named and no secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			cfg, _ := c.creds.lookup("m.example.com", "x")
			if cfg.Username != tc.wantUser {
				t.Errorf("user for m.example.com = %q, want %q", cfg.Username, tc.wantUser)
			}
		})
	}
}
