package mirrorset

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// confEndpoint and confRegistry are the registries.conf (v2) fields that
// decide where images are pulled from; the rest (short names, credential
// helpers, aliases) does not, and is left alone.
type confEndpoint struct {
	Location       string `toml:"location"`
	Insecure       bool   `toml:"insecure"`
	PullFromMirror string `toml:"pull-from-mirror"`
}

type confRegistry struct {
	Prefix string `toml:"prefix"`
	confEndpoint
	Mirrors            []confEndpoint `toml:"mirror"`
	Blocked            bool           `toml:"blocked"`
	MirrorByDigestOnly bool           `toml:"mirror-by-digest-only"`
}

type confFile struct {
	Registries []confRegistry `toml:"registry"`
	// The v1 format, which runtimes refuse: detected to say so.
	V1 struct {
		Search   map[string]any `toml:"search"`
		Insecure map[string]any `toml:"insecure"`
		Block    map[string]any `toml:"block"`
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
	if md.IsDefined("registries") {
		return nil, nil, fmt.Errorf("registries.conf: the v1 format ([registries.search], [registries.insecure], [registries.block]) is no longer accepted by container runtimes: use [[registry]] tables")
	}
	var notes []string
	for _, k := range md.Undecoded() {
		// Keys runtimes read for other purposes are not worth a note.
		top := k[0]
		if top == "unqualified-search-registries" || top == "short-name-mode" || top == "credential-helpers" || top == "aliases" || top == "additional-layer-store-auth-helper" {
			continue
		}
		notes = append(notes, fmt.Sprintf("key %q is not one registries.conf defines: ignored", k.String()))
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

// parseLocation applies the runtime's sanitising to a location or prefix.
func parseLocation(s string) (string, error) {
	t := strings.TrimRight(s, "/")
	if strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
		return "", fmt.Errorf("%q: URI schemes are not supported", s)
	}
	return t, nil
}
