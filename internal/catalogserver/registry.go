package catalogserver

import (
	"context"
	"slices"
	"strings"
)

// The registry API's answers, read from a view with operator-registry's
// semantics (its pkg/cache, which `opm serve` serves from). Streams are in
// package, channel, bundle name order, where opm's follow map order; error
// messages are opm's, sent as it sends them: status Unknown.

const (
	registryService = "api.Registry"
	healthService   = "grpc.health.v1.Health"
)

// unknownErr is how grpc-go sends a handler's plain error, as opm's are.
func unknownErr(format string, args ...any) *status { return statusf(codeUnknown, format, args...) }

// request decodes a request of n string fields.
func request(req []byte, n int) ([]string, *status) {
	f := make([]string, n)
	if err := decodeStrings(req, f); err != nil {
		return nil, statusf(codeInternal, "grpc: error unmarshalling request: %v", err)
	}
	return f, nil
}

// registryMethods are the RPCs of service api.Registry by name, each given
// the view it answers from.
var registryMethods = map[string]func(v *view, req []byte, send func([]byte) error) *status{
	"ListPackages": func(v *view, req []byte, send func([]byte) error) *status {
		if _, st := request(req, 0); st != nil {
			return st
		}
		for _, name := range v.names {
			if err := send(encodePackageName(name)); err != nil {
				return sendErr(err)
			}
		}
		return nil
	},
	"GetPackage": func(v *view, req []byte, send func([]byte) error) *status {
		f, st := request(req, 1)
		if st != nil {
			return st
		}
		p, ok := v.pkgs[f[0]]
		if !ok {
			return unknownErr("package %q not found", f[0])
		}
		return sendErr(send(encodePackage(p)))
	},
	"GetBundle": func(v *view, req []byte, send func([]byte) error) *status {
		f, st := request(req, 3)
		if st != nil {
			return st
		}
		ch, st := v.channel(f[0], f[1], true)
		if st != nil {
			return st
		}
		b, ok := ch.bundles[f[2]]
		if !ok {
			return unknownErr("package %q, channel %q, bundle %q not found", f[0], f[1], f[2])
		}
		return sendErr(send(encodeBundle(b, formSingle)))
	},
	"GetBundleForChannel": func(v *view, req []byte, send func([]byte) error) *status {
		f, st := request(req, 2)
		if st != nil {
			return st
		}
		ch, st := v.channel(f[0], f[1], true)
		if st != nil {
			return st
		}
		return sendErr(send(encodeBundle(ch.bundles[ch.head], formSingle)))
	},
	"GetChannelEntriesThatReplace": func(v *view, req []byte, send func([]byte) error) *status {
		f, st := request(req, 1)
		if st != nil {
			return st
		}
		var entries []channelEntry
		for _, b := range v.bundles {
			entry := channelEntry{pkg: b.pkg, channel: b.channel, bundle: b.name, replaces: b.replaces}
			if b.replaces == f[0] {
				entries = append(entries, entry)
			}
			// opm answers one more entry per matching skip, with the
			// bundle's replaces (not the skipped name) as its replaces.
			for _, s := range b.skips {
				if s == f[0] && s != b.replaces {
					entries = append(entries, entry)
				}
			}
		}
		if len(entries) == 0 {
			return unknownErr("no channel entries found that replace %s", f[0])
		}
		return sendEntries(entries, send)
	},
	"GetBundleThatReplaces": func(v *view, req []byte, send func([]byte) error) *status {
		f, st := request(req, 3)
		if st != nil {
			return st
		}
		name, pkgName, chName := f[0], f[1], f[2]
		ch, st := v.channel(pkgName, chName, false)
		if st != nil {
			return st
		}
		// Of several, opm answers any (map order); this is the first by name.
		for _, bn := range ch.names {
			b := ch.bundles[bn]
			if b.replaces == name || slices.Contains(b.skips, name) {
				return sendErr(send(encodeBundle(b, formSingle)))
			}
		}
		return unknownErr("no entry found for package %q, channel %q", pkgName, chName)
	},
	"GetChannelEntriesThatProvide": func(v *view, req []byte, send func([]byte) error) *status {
		g, st := gvkRequest(req)
		if st != nil {
			return st
		}
		var entries []channelEntry
		for _, b := range v.bundles {
			if b.provides(g) {
				entries = append(entries, v.entriesFor(b, true)...)
			}
		}
		if len(entries) == 0 {
			return noProviders(g)
		}
		return sendEntries(entries, send)
	},
	"GetLatestChannelEntriesThatProvide": func(v *view, req []byte, send func([]byte) error) *status {
		g, st := gvkRequest(req)
		if st != nil {
			return st
		}
		entries := v.latestProviders(g)
		if len(entries) == 0 {
			return noProviders(g)
		}
		return sendEntries(entries, send)
	},
	"GetDefaultBundleThatProvides": func(v *view, req []byte, send func([]byte) error) *status {
		g, st := gvkRequest(req)
		if st != nil {
			return st
		}
		entries := v.latestProviders(g)
		if len(entries) == 0 {
			return noProviders(g)
		}
		// Entries are in package name order already: the first in a
		// package's default channel wins, as opm picks it.
		for _, e := range entries {
			p := v.pkgs[e.pkg]
			if e.channel == p.defaultChannel {
				return sendErr(send(encodeBundle(p.channels[e.channel].bundles[e.bundle], formSingle)))
			}
		}
		return unknownErr("no entry found that provides group:%q version:%q kind:%q", g.group, g.version, g.kind)
	},
	"ListBundles": func(v *view, req []byte, send func([]byte) error) *status {
		if _, st := request(req, 0); st != nil {
			return st
		}
		for _, b := range v.bundles {
			if err := send(encodeBundle(b, formListed)); err != nil {
				return sendErr(err)
			}
		}
		return nil
	},
}

// channel finds a package's channel, with opm's messages (GetBundleThatReplaces
// formats the package name without quotes).
func (v *view) channel(pkgName, chName string, quoted bool) (*channel, *status) {
	p, ok := v.pkgs[pkgName]
	if !ok {
		if quoted {
			return nil, unknownErr("package %q not found", pkgName)
		}
		return nil, unknownErr("package %s not found", pkgName)
	}
	ch, ok := p.channels[chName]
	if !ok {
		return nil, unknownErr("package %q, channel %q not found", pkgName, chName)
	}
	return ch, nil
}

func gvkRequest(req []byte) (gvk, *status) {
	f, st := request(req, 4) // group, version, kind, plural (unused)
	if st != nil {
		return gvk{}, st
	}
	return gvk{group: f[0], version: f[1], kind: f[2]}, nil
}

func noProviders(g gvk) *status {
	return unknownErr("no channel entries found that provide group:%q version:%q kind:%q", g.group, g.version, g.kind)
}

func (b *bundle) provides(g gvk) bool { return slices.Contains(b.provided, g) }

// entriesFor is a bundle's channel entries: one for its replaces and one
// per skip that differs from it; only skips within the channel unless
// anyChannel.
func (v *view) entriesFor(b *bundle, anyChannel bool) []channelEntry {
	out := []channelEntry{{pkg: b.pkg, channel: b.channel, bundle: b.name, replaces: b.replaces}}
	ch := v.pkgs[b.pkg].channels[b.channel]
	for _, s := range b.skips {
		if _, in := ch.bundles[s]; s != b.replaces && (anyChannel || in) {
			out = append(out, channelEntry{pkg: b.pkg, channel: b.channel, bundle: b.name, replaces: s})
		}
	}
	return out
}

// latestProviders is the entries of the channel heads that provide g.
func (v *view) latestProviders(g gvk) []channelEntry {
	var out []channelEntry
	for _, pn := range v.names {
		p := v.pkgs[pn]
		for _, cn := range p.names {
			ch := p.channels[cn]
			if head := ch.bundles[ch.head]; head.provides(g) {
				out = append(out, v.entriesFor(head, false)...)
			}
		}
	}
	return out
}

func sendEntries(entries []channelEntry, send func([]byte) error) *status {
	for _, e := range entries {
		if err := send(encodeChannelEntry(e)); err != nil {
			return sendErr(err)
		}
	}
	return nil
}

// sendErr is the status of a failed write: the client went away.
func sendErr(err error) *status {
	if err == nil {
		return nil
	}
	return statusf(codeUnavailable, "sending the answer: %v", err)
}

// lookup finds the method for a request path "/service/method".
func (s *Server) lookup(path string) (method, *status) {
	service, name, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok {
		return nil, statusf(codeUnimplemented, "malformed method name: %q", path)
	}
	switch service {
	case healthService:
		if name != "Check" {
			return nil, statusf(codeUnimplemented, "unknown method %s for service %s", name, service)
		}
		return s.check, nil
	case registryService:
		m, ok := registryMethods[name]
		if !ok {
			return nil, statusf(codeUnimplemented, "unknown method %s for service %s", name, service)
		}
		return func(_ context.Context, req []byte, send func([]byte) error) *status {
			v := s.view.Load()
			if v == nil {
				return statusf(codeUnavailable, "no catalog is loaded yet")
			}
			return m(v, req, send)
		}, nil
	}
	return nil, statusf(codeUnimplemented, "unknown service %s", service)
}

// check is grpc.health.v1.Health/Check: SERVING once a catalog is loaded,
// for any service name (opm answers so too).
func (s *Server) check(_ context.Context, req []byte, send func([]byte) error) *status {
	if _, st := request(req, 1); st != nil {
		return st
	}
	serving := uint64(healthNotServing)
	if s.view.Load() != nil {
		serving = healthServing
	}
	return sendErr(send(encodeHealth(serving)))
}
