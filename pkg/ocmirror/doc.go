// Package ocmirror turns what oc-mirror leaves behind into one complete,
// deterministic set of mirror sets that can be applied as is.
//
// oc-mirror v1 writes every run to oc-mirror-workspace/results-<unix time>/,
// and from the second run on its imageContentSourcePolicy.yaml lists only the
// images that run added, under the same object names (release-0, operator-0,
// generic-0) as the run before. Applying it replaces the earlier objects and
// silently drops every source they held: hence the advice to "run oc-mirror
// twice, keep every ICSP file and merge them by hand". oc-mirror v2 writes
// complete ImageDigestMirrorSets and ImageTagMirrorSets to
// working-dir/cluster-resources/ on every run, but in Go map order, so two
// runs over the same images give different files.
//
// Merge reads any mix of those outputs, plain ICSP/IDMS/ITMS files and its own
// earlier output and guarantees (docs/semantics.md §8.3):
//
//  1. complete: every (kind, source, mirror) of every input is in the output;
//     ImageContentSourcePolicies become ImageDigestMirrorSets;
//  2. equivalent: every image gets the same pull sources from the output as
//     from all inputs together, because each (kind, source) appears once
//     with its mirrors in the machine-config-operator's merge order;
//  3. deterministic: the same inputs, in any order, give the same bytes;
//  4. idempotent: merging the output, alone or with the inputs it came from,
//     gives the output again;
//  5. safe: conflicting mirrorSourcePolicy values fail, naming the objects,
//     and Result.WriteDir changes all files or none.
//
// Convert is the one-object-per-object alternative, for people who want to
// keep their ICSPs' names: it maps each ImageContentSourcePolicy to the
// ImageDigestMirrorSet `oc adm migrate icsp` would write, without the
// server-side metadata oc copies along.
package ocmirror
