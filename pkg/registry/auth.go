package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"sigs.k8s.io/yaml"
)

// dockerHub is the canonical key for Docker Hub. Credential files name it
// docker.io, index.docker.io, registry-1.docker.io or
// https://index.docker.io/v1/; go-containerregistry calls it
// index.docker.io. All mean the same registry.
const dockerHub = "docker.io"

// authEntry is one value of a docker config "auths" map (or of a legacy
// .dockercfg file).
type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// credSource is one parsed credentials file or pull secret.
type credSource struct {
	name    string                      // where it came from, for messages
	entries map[string]authn.AuthConfig // normalised key -> credentials
}

// credentials answers "which credentials for this repository" the way
// podman and docker do: sources in order (pull secret, then auth file);
// within a source the most specific key wins: host/ns/repo, host/ns, host.
// A matched entry without a username is an explicit "anonymous".
//
// Credential helpers (credsStore, credHelpers) are not run: in a
// disconnected cluster there is no helper to run, and the pull secret is
// the contract.
type credentials struct {
	sources []credSource
	// searched are default auth files that did not exist, for "no
	// credentials" messages.
	searched []string
}

// loadCredentials reads the pull secret and the auth files named by o, in
// the order containers/image (podman, skopeo, CRI-O) uses: --authfile, else
// REGISTRY_AUTH_FILE, else every default file that exists, first match
// wins.
func loadCredentials(o *Options) (*credentials, error) {
	c := &credentials{}
	if o.PullSecret != nil {
		s, err := parseDockerConfig("pull secret", o.PullSecret)
		if err != nil {
			return nil, err
		}
		c.sources = append(c.sources, s)
	}
	var paths []string
	explicit := false
	switch {
	case o.AuthFile != "":
		paths, explicit = []string{o.AuthFile}, true
	case o.NoDefaultAuthFile:
	case os.Getenv("REGISTRY_AUTH_FILE") != "":
		// Set by the user for this purpose, so as binding as
		// --authfile: a typo must not mean "anonymous".
		paths, explicit = []string{os.Getenv("REGISTRY_AUTH_FILE")}, true
	default:
		paths = defaultAuthFiles()
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
		case !explicit && errors.Is(err, fs.ErrNotExist):
			c.searched = append(c.searched, path)
			continue
		default:
			return nil, fmt.Errorf("reading auth file: %w", err)
		}
		s, err := parseAuthFile(path, data)
		if err != nil {
			return nil, err
		}
		c.sources = append(c.sources, s)
	}
	return c, nil
}

// defaultAuthFiles are the files read when no auth file is named, in
// lookup order: podman's and skopeo's ${XDG_RUNTIME_DIR}/containers/auth.json
// (where "podman login" writes), then docker's $DOCKER_CONFIG/config.json or
// ~/.docker/config.json.
func defaultAuthFiles() []string {
	var out []string
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		out = append(out, filepath.Join(d, "containers", "auth.json"))
	}
	if d := defaultDockerConfig(); d != "" {
		out = append(out, d)
	}
	return out
}

// defaultDockerConfig is where docker keeps credentials: $DOCKER_CONFIG or
// ~/.docker, then config.json.
func defaultDockerConfig() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// Secret types that carry registry credentials, and their data keys.
const (
	secretTypeDockerConfigJSON = "kubernetes.io/dockerconfigjson"
	secretKeyDockerConfigJSON  = ".dockerconfigjson"
	secretTypeDockerCfg        = "kubernetes.io/dockercfg"
	secretKeyDockerCfg         = ".dockercfg"
)

// k8sSecret is the part of a Kubernetes Secret an auth file may be.
type k8sSecret struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Metadata   struct{ Name string } `json:"metadata"`
	Type       string                `json:"type"`
	Data       map[string]string     `json:"data"`
	StringData map[string]string     `json:"stringData"`
}

// parseAuthFile reads an auth file: a docker config.json or containers
// auth.json, or a Kubernetes Secret of type kubernetes.io/dockerconfigjson
// (or the legacy kubernetes.io/dockercfg), in YAML or JSON, as "oc get
// secret pull-secret -o yaml" writes it. Error messages name the file and
// the field, never a value.
func parseAuthFile(name string, data []byte) (credSource, error) {
	doc := bytes.TrimSpace(data)
	if len(doc) == 0 {
		return credSource{}, fmt.Errorf("%s: empty file: want a docker config.json or a Kubernetes Secret of type %s", name, secretTypeDockerConfigJSON)
	}
	if doc[0] != '{' {
		// YAML: only a Secret is written that way.
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return credSource{}, fmt.Errorf("%s: neither JSON nor YAML (%s)", name, redactYAMLError(err))
		}
		doc = j
	}
	var probe struct {
		Kind string `json:"kind"`
	}
	_ = json.Unmarshal(doc, &probe)
	if probe.Kind == "" {
		return parseDockerConfig(name, doc)
	}
	if probe.Kind != "Secret" {
		return credSource{}, fmt.Errorf("%s: a %s object, want a docker config.json or a Kubernetes Secret of type %s", name, probe.Kind, secretTypeDockerConfigJSON)
	}
	var sec k8sSecret
	if err := json.Unmarshal(doc, &sec); err != nil {
		return credSource{}, fmt.Errorf("%s: Secret: %w", name, redactJSONError(err))
	}
	what := fmt.Sprintf("%s: Secret %s", name, sec.Metadata.Name)
	key := ""
	switch sec.Type {
	case secretTypeDockerConfigJSON:
		key = secretKeyDockerConfigJSON
	case secretTypeDockerCfg:
		key = secretKeyDockerCfg
	default:
		return credSource{}, fmt.Errorf("%s: type %q, want %s", what, sec.Type, secretTypeDockerConfigJSON)
	}
	var content []byte
	if v, ok := sec.StringData[key]; ok {
		content = []byte(v)
	} else if v, ok := sec.Data[key]; ok {
		dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return credSource{}, fmt.Errorf("%s: data[%s] is not valid base64", what, key)
		}
		content = dec
	} else {
		return credSource{}, fmt.Errorf("%s: no data[%s]", what, key)
	}
	src, err := parseDockerConfig(fmt.Sprintf("%s data[%s]", what, key), content)
	if err != nil {
		return credSource{}, err
	}
	src.name = name
	return src, nil
}

// redactYAMLError keeps a YAML error's line but not the text some messages
// quote.
func redactYAMLError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		line := msg[i:]
		if j := strings.IndexByte(line, ':'); j >= 0 {
			line = line[:j]
		}
		return "invalid YAML at " + line
	}
	return "invalid YAML"
}

// parseDockerConfig reads a docker config.json / .dockerconfigjson, or a
// legacy .dockercfg (the "auths" map at top level, host-only keys). Every
// bad entry is reported, by key and never by value.
func parseDockerConfig(name string, data []byte) (credSource, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return credSource{}, fmt.Errorf("%s: not a docker config: %w", name, redactJSONError(err))
	}
	raw := map[string]json.RawMessage{}
	legacy := false
	if auths, ok := top["auths"]; ok {
		if err := json.Unmarshal(auths, &raw); err != nil {
			return credSource{}, fmt.Errorf("%s: auths: %w", name, redactJSONError(err))
		}
	} else {
		// Legacy .dockercfg: every top-level value is an entry.
		// A modern file without "auths" (only credsStore, say)
		// has no entries for us.
		legacy = true
		for k, v := range top {
			if len(v) > 0 && v[0] == '{' {
				raw[k] = v
			}
		}
	}

	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	src := credSource{name: name, entries: map[string]authn.AuthConfig{}}
	exact := map[string]bool{} // canonical keys set from an identical raw key
	var errs []error
	for _, k := range keys {
		var e authEntry
		if err := json.Unmarshal(raw[k], &e); err != nil {
			errs = append(errs, fmt.Errorf("%s: entry %q: %w", name, k, redactJSONError(err)))
			continue
		}
		cfg, err := e.authConfig()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: entry %q: %w", name, k, err))
			continue
		}
		nk := normalizeAuthKey(k, legacy)
		if nk == "" {
			errs = append(errs, fmt.Errorf("%s: entry %q: empty registry", name, k))
			continue
		}
		// Several spellings of one registry: the one written as
		// the canonical key wins, else the first in sorted order,
		// so the choice never depends on map iteration.
		if _, seen := src.entries[nk]; seen && (exact[nk] || k != nk) {
			continue
		}
		src.entries[nk] = cfg
		exact[nk] = k == nk
	}
	if err := errors.Join(errs...); err != nil {
		return credSource{}, err
	}
	return src, nil
}

func (e authEntry) authConfig() (authn.AuthConfig, error) {
	cfg := authn.AuthConfig{
		Username:      e.Username,
		Password:      e.Password,
		IdentityToken: e.IdentityToken,
		RegistryToken: e.RegistryToken,
	}
	if e.Auth != "" {
		dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Auth))
		if err != nil {
			return authn.AuthConfig{}, errors.New(`"auth" is not valid base64`)
		}
		user, pass, ok := strings.Cut(string(dec), ":")
		if !ok {
			return authn.AuthConfig{}, errors.New(`"auth" does not decode to user:password`)
		}
		cfg.Username, cfg.Password = user, pass
	}
	return cfg, nil
}

// normalizeAuthKey turns a file key into the form lookups use: no scheme,
// lowercase host, Docker Hub aliases folded. A key written with a scheme
// (old docker style, "https://host/v1/") or in a legacy file names a whole
// registry, so its path is dropped.
func normalizeAuthKey(key string, legacy bool) string {
	k := strings.TrimSpace(key)
	stripped := strings.TrimPrefix(strings.TrimPrefix(k, "http://"), "https://")
	if legacy || stripped != k {
		stripped, _, _ = strings.Cut(stripped, "/")
	}
	stripped = strings.TrimSuffix(stripped, "/")
	host, path, hasPath := strings.Cut(stripped, "/")
	host = canonicalHost(host)
	if hasPath && path != "" {
		return host + "/" + path
	}
	return host
}

func canonicalHost(host string) string {
	host = strings.ToLower(host)
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return dockerHub
	}
	return host
}

// lookup finds credentials for repository (a path such as "ocp/release")
// on registry (host[:port]). ok is false when no entry matches.
func (c *credentials) lookup(registry, repository string) (cfg authn.AuthConfig, ok bool) {
	key := canonicalHost(registry)
	if repository != "" {
		key += "/" + repository
	}
	for _, s := range c.sources {
		for k := key; ; {
			if cfg, ok := s.entries[k]; ok {
				return cfg, true
			}
			i := strings.LastIndex(k, "/")
			if i < 0 {
				break
			}
			k = k[:i]
		}
	}
	return authn.AuthConfig{}, false
}

// explainUnauthorized says which side of a refusal to look at: credentials
// that were never there, or credentials the registry rejected.
func (c *credentials) explainUnauthorized(registry, repository string) string {
	host := canonicalHost(registry)
	key := host
	if repository != "" {
		key += "/" + repository
	}
	for _, s := range c.sources {
		for k := key; ; {
			if cfg, ok := s.entries[k]; ok {
				if cfg.Username == "" && cfg.IdentityToken == "" && cfg.RegistryToken == "" {
					return fmt.Sprintf("%s has an anonymous entry %q for %s, and %s requires credentials", s.name, k, key, registry)
				}
				return fmt.Sprintf("credentials rejected by %s (entry %q in %s)", registry, k, s.name)
			}
			i := strings.LastIndex(k, "/")
			if i < 0 {
				break
			}
			k = k[:i]
		}
	}
	var names []string
	for _, s := range c.sources {
		names = append(names, s.name)
	}
	if len(names) == 0 {
		if len(c.searched) == 0 {
			return fmt.Sprintf("no credentials for %s: no auth file was given", registry)
		}
		return fmt.Sprintf("no credentials for %s: no auth file found (looked for %s)", registry, strings.Join(c.searched, ", "))
	}
	return fmt.Sprintf("no credentials for %s in %s", registry, strings.Join(names, ", "))
}

// Resolve implements authn.Keychain for go-containerregistry.
func (c *credentials) Resolve(res authn.Resource) (authn.Authenticator, error) {
	reg := res.RegistryStr()
	repo := strings.TrimPrefix(res.String(), reg)
	repo = strings.TrimPrefix(repo, "/")
	cfg, ok := c.lookup(reg, repo)
	if !ok || (cfg.Username == "" && cfg.IdentityToken == "" && cfg.RegistryToken == "") {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(cfg), nil
}

// secrets lists every credential value, for the error redactor.
func (c *credentials) secrets() []string {
	var out []string
	for _, s := range c.sources {
		for _, cfg := range s.entries {
			for _, v := range []string{cfg.Password, cfg.IdentityToken, cfg.RegistryToken} {
				if v != "" {
					out = append(out, v)
				}
			}
			if cfg.Username != "" || cfg.Password != "" {
				out = append(out, base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
			}
		}
	}
	// Longest first, so a secret containing another is removed whole.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// redactJSONError keeps a JSON syntax error's position but not the input
// text that some decoding errors quote.
func redactJSONError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at offset %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: wrong JSON type %s", te.Field, te.Value)
	}
	return errors.New("invalid JSON")
}
