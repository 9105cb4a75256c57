package mirrorset

import "fmt"

// ImageContentSourcesResult is what a HostedCluster's imageContentSources
// can carry of the management configuration, and what it cannot.
type ImageContentSourcesResult struct {
	// Entries in source order, digest mirrors in try order.
	Entries []Entry
	// Lost says, per source, what guest nodes will not get: the field has no
	// policy and no tag mirrors.
	Lost []string
}

// ImageContentSources derives a HostedCluster's spec.imageContentSources
// from management mirror sets, so that guest nodes and the control plane pull
// the same images from the same places. The field only means "digest mirrors,
// source as fallback", so NeverContactSource and tag-only mirrors are
// reported rather than silently dropped.
func (c *Config) ImageContentSources() ImageContentSourcesResult {
	var res ImageContentSourcesResult
	for _, r := range c.registries {
		if len(r.DigestMirrors) > 0 {
			res.Entries = append(res.Entries, Entry{Source: r.Prefix, Mirrors: append([]string(nil), r.DigestMirrors...)})
		}
		if r.Blocked {
			res.Lost = append(res.Lost, fmt.Sprintf("%s: NeverContactSource cannot be expressed: guest nodes fall back to the source when the mirrors fail", r.Prefix))
		}
		if len(r.TagMirrors) > 0 {
			res.Lost = append(res.Lost, fmt.Sprintf("%s: tag mirrors %v cannot be expressed: guest nodes pull tags from the source (the HostedCluster annotation hcpmirror.io/mirror-tags: \"true\" makes nodes use the listed mirrors for tag pulls too; tag-only mirrors must be added to the entry by hand)", r.Prefix, r.TagMirrors))
		}
	}
	return res
}
