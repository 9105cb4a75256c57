package mirrorset

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
)

// confEndpoint, confRegistry and confFile have the shape runtimes decode
// registries.conf into, field for field and type for type: with the same
// TOML decoder, a value of the wrong type (in any key, case-insensitively
// matched) fails the same way, so a file is refused exactly when a node
// would refuse it.
type confEndpoint struct {
	Location       string `toml:"location,omitempty"`
	Insecure       bool   `toml:"insecure,omitempty"`
	PullFromMirror string `toml:"pull-from-mirror,omitempty"`
	NamespaceProxy string `toml:"namespace-proxy,omitempty"`
}

type confRegistry struct {
	Prefix string `toml:"prefix"`
	confEndpoint
	Mirrors            []confEndpoint `toml:"mirror,omitempty"`
	Blocked            bool           `toml:"blocked,omitempty"`
	MirrorByDigestOnly bool           `toml:"mirror-by-digest-only,omitempty"`
}

type confV1List struct {
	Registries []string `toml:"registries"`
}

type confFile struct {
	Registries                     []confRegistry    `toml:"registry"`
	UnqualifiedSearchRegistries    []string          `toml:"unqualified-search-registries"`
	CredentialHelpers              []string          `toml:"credential-helpers"`
	ShortNameMode                  string            `toml:"short-name-mode"`
	AdditionalLayerStoreAuthHelper string            `toml:"additional-layer-store-auth-helper"`
	Aliases                        map[string]string `toml:"aliases"`
	// The v1 format, which runtimes refuse: decoded only to say so.
	V1 struct {
		Search   confV1List `toml:"search"`
		Insecure confV1List `toml:"insecure"`
		Block    confV1List `toml:"block"`
	} `toml:"registries"`
}

// ParseRegistriesConf reads a node's registries.conf (version 2) into the
// configuration it means, with the rules container runtimes apply when
// loading it: trailing "/" stripped, URI schemes refused, the prefix
// defaulting to the location, a "*.domain" prefix with an empty location,
// pull-from-mirror only on mirrors and not beside mirror-by-digest-only,
// equal insecure and blocked settings for equal locations, and, of entries
// with the same prefix, only the first kept (the others are returned as
// notes, since runtimes drop them silently). Drop-in directories are not
// read: pass the merged file.
//
// It is how a registries.conf taken from a node, or the one the operator
// writes for the ignition server, is resolved with the same matcher as
// mirror sets.
func ParseRegistriesConf(data []byte) (*Config, []string, error) {
	var f confFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		return nil, nil, fmt.Errorf("registries.conf: %w", err)
	}
	if f.V1.Search.Registries != nil || f.V1.Insecure.Registries != nil || f.V1.Block.Registries != nil {
		return nil, nil, fmt.Errorf("registries.conf: the v1 format ([registries.search], [registries.insecure], [registries.block]) is no longer accepted by container runtimes: use [[registry]] tables")
	}
	var notes []string
	for _, k := range md.Undecoded() {
		notes = append(notes, fmt.Sprintf("key %q is not one registries.conf defines: ignored", k.String()))
	}
	if err := validateOtherKeys(&f); err != nil {
		return nil, notes, fmt.Errorf("registries.conf: %w", err)
	}

	regs := make([]*Registry, 0, len(f.Registries))
	byLocation := map[string][]int{}
	for i, r := range f.Registries {
		at := fmt.Sprintf("[[registry]] %d", i+1)
		loc, err := parseLocation(r.Location)
		if err != nil {
			return nil, notes, fmt.Errorf("registries.conf: %s: location: %w", at, err)
		}
		prefix := loc
		if r.Prefix != "" {
			if prefix, err = parseLocation(r.Prefix); err != nil {
				return nil, notes, fmt.Errorf("registries.conf: %s: prefix: %w", at, err)
			}
			if !IsWildcard(prefix) && loc == "" {
				return nil, notes, fmt.Errorf("registries.conf: %s: location is unset and prefix %q is not of the form *.example.com", at, prefix)
			}
		} else if loc == "" {
			return nil, notes, fmt.Errorf("registries.conf: %s: both location and prefix are unset", at)
		}
		if IsWildcard(prefix) && strings.ContainsAny(prefix, "/@:") {
			return nil, notes, fmt.Errorf("registries.conf: %s: wildcard prefix %q must be of the form *.example.com (no port, path or digest)", at, prefix)
		}
		if r.PullFromMirror != "" {
			return nil, notes, fmt.Errorf("registries.conf: %s (%s): pull-from-mirror is only allowed on a mirror", at, prefix)
		}
		reg := &Registry{Prefix: prefix, Location: loc, Blocked: r.Blocked}
		for j, m := range r.Mirrors {
			mat := fmt.Sprintf("%s mirror %d", at, j+1)
			mloc, err := parseLocation(m.Location)
			if err != nil {
				return nil, notes, fmt.Errorf("registries.conf: %s: location: %w", mat, err)
			}
			if mloc == "" {
				return nil, notes, fmt.Errorf("registries.conf: %s: location is unset", mat)
			}
			if r.MirrorByDigestOnly && m.PullFromMirror != "" {
				return nil, notes, fmt.Errorf("registries.conf: %s: pull-from-mirror cannot be set beside the registry's mirror-by-digest-only", mat)
			}
			pf := PullFrom(m.PullFromMirror)
			switch {
			case r.MirrorByDigestOnly:
				pf = PullFromDigestOnly
			case pf == "":
				pf = PullFromAll
			case pf != PullFromAll && pf != PullFromDigestOnly && pf != PullFromTagOnly:
				return nil, notes, fmt.Errorf("registries.conf: %s: pull-from-mirror %q: want all, digest-only or tag-only", mat, m.PullFromMirror)
			}
			reg.Mirrors = append(reg.Mirrors, Mirror{Location: mloc, PullFrom: pf})
			if pf != PullFromTagOnly {
				reg.DigestMirrors = append(reg.DigestMirrors, mloc)
			}
			if pf != PullFromDigestOnly {
				reg.TagMirrors = append(reg.TagMirrors, mloc)
			}
		}
		key := loc
		if key == "" {
			key = prefix
		}
		byLocation[key] = append(byLocation[key], i)
		regs = append(regs, reg)
	}
	for _, idx := range byLocation {
		for _, i := range idx[1:] {
			a, b := f.Registries[idx[0]], f.Registries[i]
			if a.Insecure != b.Insecure || a.Blocked != b.Blocked {
				return nil, notes, fmt.Errorf("registries.conf: location %q is defined more than once with conflicting insecure or blocked settings", regs[i].Location)
			}
		}
	}

	c := &Config{exact: map[string]*Registry{}, wildcard: map[string]*Registry{}}
	seen := map[string]bool{}
	for i, r := range regs {
		if seen[r.Prefix] {
			notes = append(notes, fmt.Sprintf("[[registry]] %d: prefix %q is defined again: runtimes use only the first", i+1, r.Prefix))
			continue
		}
		seen[r.Prefix] = true
		c.add(r)
	}
	c.sort()
	sort.Strings(notes)
	return c, notes, nil
}

// validateOtherKeys checks what does not decide pull sources but makes a
// runtime refuse the whole file: search registries that are not hosts, an
// unknown short-name mode, malformed aliases.
func validateOtherKeys(f *confFile) error {
	for _, r := range f.UnqualifiedSearchRegistries {
		loc, err := parseLocation(r)
		if err != nil {
			return fmt.Errorf("unqualified-search-registries: %w", err)
		}
		if !imageref.ValidDomain(loc) {
			return fmt.Errorf("unqualified-search-registries: %q is not a registry host[:port]", r)
		}
	}
	switch f.ShortNameMode {
	case "", "disabled", "enforcing", "permissive":
	default:
		return fmt.Errorf("short-name-mode %q: want disabled, enforcing or permissive", f.ShortNameMode)
	}
	names := make([]string, 0, len(f.Aliases))
	for name := range f.Aliases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		short, err := imageref.ParseRaw(name)
		switch {
		case err != nil:
			return fmt.Errorf("aliases: short name %q: %w", name, err)
		case short.Tag() != "" || short.Digest() != "":
			return fmt.Errorf("aliases: short name %q must not have a tag or digest", name)
		case strings.ContainsAny(short.Domain(), ".:") || short.Domain() == "localhost":
			return fmt.Errorf("aliases: short name %q must not name a registry", name)
		}
		value := f.Aliases[name]
		if value == "" {
			continue
		}
		long, err := imageref.ParseRaw(value)
		switch {
		case err != nil:
			return fmt.Errorf("aliases: %q = %q: %w", name, value, err)
		case long.Tag() != "" || long.Digest() != "":
			return fmt.Errorf("aliases: %q = %q must not have a tag or digest", name, value)
		case !strings.ContainsAny(long.Domain(), ".:") && long.Domain() != "localhost":
			return fmt.Errorf("aliases: %q = %q must name a registry and a repository", name, value)
		}
		if _, err := imageref.Parse(value); err != nil {
			return fmt.Errorf("aliases: %q = %q: %w", name, value, err)
		}
	}
	return nil
}

// parseLocation applies the runtime's sanitising to a location or prefix.
func parseLocation(s string) (string, error) {
	t := strings.TrimRight(s, "/")
	if strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
		return "", fmt.Errorf("%q: URI schemes are not supported", s)
	}
	return t, nil
}
