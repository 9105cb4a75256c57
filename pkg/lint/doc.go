// Package lint finds the mistakes that break disconnected hosted clusters
// before they are applied: mirror sets that the API server or the
// machine-config-operator refuses, entries that are accepted but make pulls
// fail, and configuration that node runtimes honour but HyperShift-built
// consumers (release lookup, image metadata, the ignition server) do not.
//
// Nothing here contacts a registry or a cluster. [Lint] works from mirror
// sets alone, and from a release's image list and HostedCluster annotations
// when given them in [Options]; [LintFlag] and [LintEnv] check the two override
// strings HyperShift hands to control plane components, and [CompareFlag]
// and [CompareEnv] compare them with the sets. [LintContext] stops when its
// context ends; [InputFindings] turns unreadable or empty input into
// findings, so a report never reads clean for input that was not read.
// Sets that do not validate are still linted: the validation errors become
// findings and the other checks run on the entries that are valid, so one
// run shows everything there is to fix.
//
// Matching follows containers-registries.conf through pkg/mirrorset: a
// source is a prefix matched at a path boundary, the longest match wins and
// hides every shorter one, digest mirrors serve only digest pulls and tag
// mirrors only tag pulls.
//
// # Catalogue
//
// Severity E fails (the CLI exits 1), W warns, I informs. "(HS)" marks
// findings about HyperShift-built consumers, not node runtimes.
//
//	HCM001 E  source fails the SOURCE pattern (also: a policy value or field the kind does not have, an override string's source)
//	HCM002 E  mirror fails the MIRROR pattern (also: an override string's replacement)
//	HCM003 E  one source, different mirrorSourcePolicy across sets
//	HCM004 E  NeverContactSource with the source among its mirrors
//	HCM005 W  NeverContactSource on an entry without real mirrors: ignored, source still contacted
//	HCM006 E  mirror host of one label, without port, not localhost: every pull through it fails
//	HCM007 E  repository source mirrored to a bare host: pulls of that repository fail
//	HCM008 W  (HS) only a root-registry or namespace source covers a release repository
//	HCM009 E  (release) a payload repository has no mirror serving its pulls
//	HCM010 W  host-only or wildcard source with a mirror path: references with a port fail
//	HCM011 W  (HS) wildcard source, which HyperShift ignores
//	HCM012 W  a longer source lacks a shorter one's mirrors (or its NeverContactSource)
//	HCM013 W  lists for one source order mirrors differently
//	HCM014 W  source among its own mirrors
//	HCM015 I  duplicate mirrors or entries (I unless the API server rejects them)
//	HCM016 W  equal-length wildcard and exact sources overlap: the wildcard wins
//	HCM017 W  (release) tag-referenced image where only digest mirrors exist
//	HCM018 W  NeverContactSource with digest mirrors only: every tag pull fails
//	HCM019 W  mirror inside a NeverContactSource scope: the runtime refuses it
//	HCM020 W  docker.io/<one component> or index.docker.io source: misses official images
//	HCM021 W  uppercase in a source host
//	HCM022 W  (HS) root source with a port, multi-level namespace source, one-component mirror
//	HCM023 W  source host of one label, without port, not localhost: never matches
//	HCM024 I  ImageContentSourcePolicy, deprecated
//	HCM025 E  malformed --registry-overrides or OPENSHIFT_IMG_OVERRIDES value
//	HCM026 E  OLM catalog pins partial or not by digest
//	HCM027 W  catalog override key matching no catalog image, or relying on HEAD's two-key rules
//	HCM028 W  imageContentSources and management sets pull a release repository from different places
//	HCM029 W  oc-mirror v1 results applied run by run: earlier sources dropped
//	HCM030 W  (release) KubeVirt boot image not mirrored
//	HCM031 E  only one of the two release repositories is covered
//	HCM032 E  an input could not be read, or holds nothing to lint
//	HCM033 W  two objects of one kind and name: applying both keeps only the last
//	HCM034 E  object name missing or not a DNS subdomain of at most 253 characters
//	HCM035 E  mirror rewriting names past the 255-character repository-name limit
//	HCM036 W  override string disagreeing with the mirror sets
//
// Anything validation rejects is an Error whatever its code: a duplicate
// mirror in an ImageDigestMirrorSet is HCM015 but refused by the API server.
//
// Where the strings alone cannot tell a namespace from a repository, the
// checks assume the common layouts and say so: HCM007 and the one-component
// mirror of HCM022 treat a source with two or more path components as a
// repository; HCM022 calls such a source a multi-level namespace only when
// another source or a release image lies below it. HCM018 is not reported for
// quay.io/openshift-release-dev/ocp-v4.0-art-dev, whose images are only ever
// pulled by digest. HCM029 is reported only when applying the objects in
// order would actually lose a mirror.
package lint
