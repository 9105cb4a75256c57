package ocmirror

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

// catalogSourceGroup is the API group of OLM's CatalogSource; oc-mirror writes
// operators.coreos.com/v1alpha1.
const catalogSourceGroup = "operators.coreos.com"

// catalogSourceFilePrefix starts the name of every CatalogSource file Merge
// writes: catalogsource-<name>.yaml.
const catalogSourceFilePrefix = "catalogsource-"

// validName is a Kubernetes object name as far as a file name cares: a DNS
// subdomain, which cannot hold a path separator.
var validName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// CatalogSource is an OLM CatalogSource that oc-mirror wrote to point a
// cluster at a mirrored catalog. Merge passes it through unchanged apart from
// the empty status and null creationTimestamp oc-mirror adds.
type CatalogSource struct {
	// Name is metadata.name; one CatalogSource per name survives a merge.
	Name string
	// Origin is where it was read from.
	Origin manifest.Origin
	// Data is the object as the YAML Merge writes.
	Data []byte
}

// FileName is the name Merge writes the CatalogSource under.
func (c CatalogSource) FileName() string { return catalogSourceFilePrefix + c.Name + ".yaml" }

func isCatalogSource(o manifest.Object) bool {
	group, _, _ := strings.Cut(o.APIVersion, "/")
	return o.Kind == "CatalogSource" && group == catalogSourceGroup
}

func newCatalogSource(o manifest.Object) (CatalogSource, error) {
	if !validName.MatchString(o.Name) || len(o.Name) > 253 {
		return CatalogSource{}, fmt.Errorf("%s: metadata.name: %q is not a valid object name", o.Describe(), o.Name)
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(o.Raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return CatalogSource{}, fmt.Errorf("%s: %w", o.Describe(), err)
	}
	data, err := manifest.EncodeYAMLMap(obj)
	if err != nil {
		return CatalogSource{}, fmt.Errorf("%s: %w", o.Describe(), err)
	}
	return CatalogSource{Name: o.Name, Origin: o.Origin, Data: data}, nil
}
