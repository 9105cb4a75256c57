package catalog

import (
	"encoding/json"
)

// The schemas this package interprets. Objects of any other schema are kept
// as [Meta] and written back unchanged.
const (
	SchemaPackage      = "olm.package"
	SchemaChannel      = "olm.channel"
	SchemaBundle       = "olm.bundle"
	SchemaDeprecations = "olm.deprecations"
)

// PropertyPackage is the bundle property that carries the bundle's package
// name and version: {"type":"olm.package","value":{"packageName":…,"version":…}}.
const PropertyPackage = "olm.package"

// Config is a file-based catalog: every object of every file of the catalog
// directory, grouped by schema. Objects are kept in the order they were read
// (files in lexical path order, objects in file order).
type Config struct {
	Packages     []Package
	Channels     []Channel
	Bundles      []Bundle
	Deprecations []Deprecation
	// Others holds objects of every other schema, untouched.
	Others []Meta
}

// Fields holds the members of a JSON object that this package does not
// interpret, by key, as raw JSON. They are written back unchanged, so a
// catalog that uses fields newer than this reader survives a round trip.
type Fields map[string]json.RawMessage

// Package is an olm.package object: one operator.
type Package struct {
	Name string
	// DefaultChannel is the channel a Subscription without a channel
	// follows. It must name one of the package's channels.
	DefaultChannel string
	// Extra holds description, icon, properties and unknown fields.
	Extra Fields
}

// Channel is an olm.channel object: an upgrade graph over some of a
// package's bundles.
type Channel struct {
	Package string
	Name    string
	Entries []ChannelEntry
	// Extra holds properties and unknown fields.
	Extra Fields
}

// ChannelEntry is one bundle of a channel with its upgrade edges. Replaces
// and Skips name the bundles this one upgrades from; they may name bundles
// that are not in the catalog (a cluster may run a bundle the catalog no
// longer lists).
type ChannelEntry struct {
	Name      string
	Replaces  string
	Skips     []string
	SkipRange string
	Extra     Fields
}

// Bundle is an olm.bundle object: one version of an operator, with the image
// that holds its manifests and the images it runs.
type Bundle struct {
	Package       string
	Name          string
	Image         string
	Properties    []Property
	RelatedImages []RelatedImage
	Extra         Fields
}

// Property is one typed property of a bundle, such as olm.package,
// olm.gvk or olm.bundle.object; Value is kept as raw JSON.
type Property struct {
	Type  string
	Value json.RawMessage
	Extra Fields
}

// RelatedImage is an image a bundle's operator deploys or refers to.
type RelatedImage struct {
	Name  string
	Image string
	Extra Fields
}

// Deprecation is an olm.deprecations object: messages shown for a whole
// package, some of its channels or some of its bundles.
type Deprecation struct {
	Package string
	Entries []DeprecationEntry
	Extra   Fields
}

// DeprecationEntry deprecates one object, named by Reference.
type DeprecationEntry struct {
	Reference Reference
	Message   string
	Extra     Fields
}

// Reference names an object of a package: Schema is olm.package (Name
// empty), olm.channel or olm.bundle.
type Reference struct {
	Schema string
	Name   string
	Extra  Fields
}

// Meta is an object of a schema this package does not interpret. Package and
// Name are read when present, so that filtering can keep the objects of the
// kept packages; Blob is the whole object.
type Meta struct {
	Schema  string
	Package string
	Name    string
	Blob    json.RawMessage
}

// Version returns the version in the bundle's olm.package property, or ""
// when it has none.
func (b *Bundle) Version() string {
	for _, p := range b.Properties {
		if p.Type != PropertyPackage {
			continue
		}
		var v struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(p.Value, &v) == nil {
			return v.Version
		}
	}
	return ""
}
