package mirrorset

import (
	"strconv"
	"strings"
)

// UnqualifiedSearchRegistries is the header the machine-config-operator writes.
var UnqualifiedSearchRegistries = []string{"registry.access.redhat.com", "docker.io"}

// RegistriesConf renders the configuration as the registries.conf (v2) a node
// gets from the machine-config-operator: one [[registry]] per source in
// sorted order, digest mirrors as pull-from-mirror "digest-only" followed by
// tag mirrors as "tag-only", blocked = true for NeverContactSource. Same
// configuration, same bytes.
func (c *Config) RegistriesConf() []byte {
	var b strings.Builder
	b.WriteString("unqualified-search-registries = [")
	for i, r := range UnqualifiedSearchRegistries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(r))
	}
	b.WriteString("]\n")
	for _, r := range c.registries {
		b.WriteString("\n[[registry]]\n")
		if r.Location == "" {
			b.WriteString("  prefix = " + strconv.Quote(r.Prefix) + "\n")
		}
		b.WriteString("  location = " + strconv.Quote(r.Location) + "\n")
		if r.Blocked {
			b.WriteString("  blocked = true\n")
		}
		for _, m := range r.Mirrors {
			b.WriteString("  [[registry.mirror]]\n")
			b.WriteString("    location = " + strconv.Quote(m.Location) + "\n")
			b.WriteString("    pull-from-mirror = " + strconv.Quote(string(m.PullFrom)) + "\n")
		}
	}
	return []byte(b.String())
}
