// Package api holds hcpmirror's own Go types for the OpenShift and HyperShift
// objects it reads and writes. OpenShift's Go modules cannot be used here, so
// each group/version package below re-declares just the kinds hcpmirror needs,
// with upstream's group, version, kind, plural, short names and JSON field
// names, so that the same YAML a cluster serves decodes into them unchanged.
//
// The CRDs under config/crd and the zz_generated.deepcopy.go files are
// generated from these packages by controller-gen; run `make generate` after
// editing a type.
package api
