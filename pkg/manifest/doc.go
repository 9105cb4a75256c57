// Package manifest reads Kubernetes-style objects from files the way a person
// hands them to hcpmirror: multi-document YAML, JSON, `kind: List`, files or
// whole directories. Decoding is strict (an unknown field is an error, because a
// misspelt `mirrorSourcePolicy` silently allowing the source is worse than a
// failed command) and every error names the file, the document and the object.
package manifest
