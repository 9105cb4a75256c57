package registry

import (
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
}

// loadCredentials reads the pull secret and the auth file named by o.
func loadCredentials(o *Options) (*credentials, error) {
	c := &credentials{}
	if o.PullSecret != nil {
		s, err := parseDockerConfig("pull secret", o.PullSecret)
		if err != nil {
			return nil, err
		}
		c.sources = append(c.sources, s)
	}
	path, explicit := o.AuthFile, o.AuthFile != ""
	if !explicit && !o.NoDefaultAuthFile {
		if env := os.Getenv("REGISTRY_AUTH_FILE"); env != "" {
			// Set by the user for this purpose, so as binding as
			// --authfile: a typo must not mean "anonymous".
			path, explicit = env, true
		} else {
			path = defaultDockerConfig()
		}
	}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
	case !explicit && errors.Is(err, fs.ErrNotExist):
		return c, nil
	default:
		return nil, fmt.Errorf("reading auth file: %w", err)
	}
	s, err := parseDockerConfig(path, data)
	if err != nil {
		return nil, err
	}
	c.sources = append(c.sources, s)
	return c, nil
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
