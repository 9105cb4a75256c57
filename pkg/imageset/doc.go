// Package imageset reads ImageSetConfiguration files, oc-mirror's description
// of what to mirror, in both of the versions users have:
// mirror.openshift.io/v1alpha2 (oc-mirror v1, the form in the user's guide)
// and mirror.openshift.io/v2alpha1 (oc-mirror v2).
//
// Both are read strictly, by apiVersion: a field the version does not have is
// an error naming the file and the field path (mirror.platform.channels[0].minVersoin),
// because a misspelt bound silently widens or narrows what gets mirrored.
// Fields that hcpmirror understands but does not implement are never ignored
// silently either:
//
//   - mirror.helm, mirror.samples, mirror.platform.graph and per-image
//     platforms are errors (the run would not produce what the file asks for);
//   - storageConfig (v1alpha2) is accepted with a [Note]: oc-mirror v1 kept
//     its run history there, hcpmirror keeps it in the workspace and writes
//     complete, cumulative cluster resources every run, so nothing is lost
//     by not reading it.
//
// [Load] returns the file as written ([ImageSetConfiguration]) after
// validation; the one interpreted field with a default is
// mirror.platform.architectures ([Platform.Archs]: amd64 when empty).
package imageset
