// Package crd embeds the CustomResourceDefinitions generated from the types
// under api/, so that the operator, envtest-based tests and the CLI install
// exactly the schemas that were checked in, without locating files on disk.
//
// The YAML files are generated; edit the Go types and run `make generate`.
// This package's tests fail when the files no longer match the types.
package crd

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// files are the CRD files, one CustomResourceDefinition per file, named
// "<group>_<plural>.yaml" by controller-gen.
//
//go:embed *.yaml
var files embed.FS

// CRDs returns the content of every CRD file, ordered by file name so that
// callers install them in a stable order.
func CRDs() [][]byte {
	names := fileNames()
	out := make([][]byte, 0, len(names))
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			// Embedded files that were listed a moment ago cannot vanish.
			panic(fmt.Sprintf("reading embedded CRD %s: %v", name, err))
		}
		out = append(out, b)
	}
	return out
}

// Definitions decodes every CRD file into the typed object that envtest
// (envtest.Environment.CRDs) and API clients take, in file-name order.
func Definitions() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	names := fileNames()
	out := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(names))
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading embedded CRD %s: %w", name, err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(b, crd); err != nil {
			return nil, fmt.Errorf("decoding embedded CRD %s: %w", name, err)
		}
		out = append(out, crd)
	}
	return out, nil
}

func fileNames() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(fmt.Sprintf("listing embedded CRDs: %v", err))
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
