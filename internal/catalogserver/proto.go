package catalogserver

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// The messages of operator-registry's pkg/api/registry.proto and of
// grpc.health.v1, encoded and decoded field by field. Field numbers are the
// proto's; proto3 leaves empty strings and empty repeated fields out, and
// a present sub-message (a Deprecation, even with an empty message) is
// written even when empty.

// decodeStrings decodes a request message whose fields 1..len(out) are all
// strings, as every request of the registry API and the health check's
// is. As protobuf-go decodes: unknown fields (and known fields of another
// wire type) are skipped, the last occurrence of a field wins, and a
// string must be valid UTF-8.
func decodeStrings(b []byte, out []string) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if !num.IsValid() {
			return fmt.Errorf("field number %d out of range", num)
		}
		b = b[n:]
		if typ == protowire.BytesType && num >= 1 && int(num) <= len(out) {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			if !utf8.Valid(v) {
				return fmt.Errorf("field %d: string is not valid UTF-8", num)
			}
			out[num-1] = string(v)
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		b = b[m:]
	}
	return nil
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendMessage appends a length-delimited sub-message built by fn.
func appendMessage(b []byte, num protowire.Number, fn func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	// The length prefix is written after the body is known: reserve
	// room for the body and move it only when its varint length is not 1.
	start := len(b)
	b = append(b, 0)
	b = fn(b)
	size := len(b) - start - 1
	if protowire.SizeVarint(uint64(size)) == 1 {
		b[start] = byte(size)
		return b
	}
	body := append([]byte(nil), b[start+1:]...)
	b = protowire.AppendVarint(b[:start], uint64(size))
	return append(b, body...)
}

func appendDeprecation(b []byte, num protowire.Number, msg *string) []byte {
	if msg == nil {
		return b
	}
	return appendMessage(b, num, func(b []byte) []byte { return appendString(b, 1, *msg) })
}

func encodePackageName(name string) []byte { return appendString(nil, 1, name) }

func encodePackage(p *pkg) []byte {
	b := appendString(nil, 1, p.name)
	for _, cn := range p.names {
		ch := p.channels[cn]
		b = appendMessage(b, 2, func(b []byte) []byte {
			b = appendString(b, 1, ch.name)
			b = appendString(b, 2, ch.head)
			return appendDeprecation(b, 3, ch.deprecation)
		})
	}
	b = appendString(b, 3, p.defaultChannel)
	return appendDeprecation(b, 4, p.deprecation)
}

// bundleForm says which fields of a bundle an answer leaves out.
type bundleForm int

const (
	// formListed is ListBundles': no csvJson and object when the bundle
	// has an image (clients fetch the image instead).
	formListed bundleForm = iota
	// formSingle is a one-bundle answer's: no replaces and skips.
	formSingle
)

func encodeBundle(bd *bundle, form bundleForm) []byte {
	b := appendString(nil, 1, bd.name)
	b = appendString(b, 2, bd.pkg)
	b = appendString(b, 3, bd.channel)
	withManifests := form == formSingle || bd.bundlePath == ""
	if withManifests {
		b = appendString(b, 4, bd.csvJSON)
		for _, o := range bd.objects {
			b = protowire.AppendTag(b, 5, protowire.BytesType)
			b = protowire.AppendString(b, o)
		}
	}
	b = appendString(b, 6, bd.bundlePath)
	for _, list := range []struct {
		num  protowire.Number
		gvks []gvk
	}{{7, bd.provided}, {8, bd.required}} {
		for _, g := range list.gvks {
			b = appendMessage(b, list.num, func(b []byte) []byte {
				b = appendString(b, 1, g.group)
				b = appendString(b, 2, g.version)
				return appendString(b, 3, g.kind)
			})
		}
	}
	b = appendString(b, 9, bd.version)
	b = appendString(b, 10, bd.skipRange)
	for _, list := range []struct {
		num protowire.Number
		tvs []typedValue
	}{{11, bd.dependencies}, {12, bd.properties}} {
		for _, tv := range list.tvs {
			b = appendMessage(b, list.num, func(b []byte) []byte {
				b = appendString(b, 1, tv.typ)
				return appendString(b, 2, tv.value)
			})
		}
	}
	if form == formListed {
		b = appendString(b, 13, bd.replaces)
		for _, s := range bd.skips {
			b = protowire.AppendTag(b, 14, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	return appendDeprecation(b, 15, bd.deprecation)
}

// channelEntry is an API ChannelEntry.
type channelEntry struct{ pkg, channel, bundle, replaces string }

func encodeChannelEntry(e channelEntry) []byte {
	b := appendString(nil, 1, e.pkg)
	b = appendString(b, 2, e.channel)
	b = appendString(b, 3, e.bundle)
	return appendString(b, 4, e.replaces)
}

// Health check statuses (grpc.health.v1.HealthCheckResponse.ServingStatus).
const (
	healthServing    = 1
	healthNotServing = 2
)

func encodeHealth(status uint64) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	return protowire.AppendVarint(b, status)
}
