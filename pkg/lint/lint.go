package lint

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// The two repositories every OpenShift release lives in (the same strings as
// pkg/release's canonical repositories, repeated here so that linting does
// not pull in the registry client).
const (
	releaseRepository   = "quay.io/openshift-release-dev/ocp-release"
	componentRepository = "quay.io/openshift-release-dev/ocp-v4.0-art-dev"
)

// Options carries what Lint needs beyond the mirror sets. Every field is
// optional; the checks that need a missing one are skipped, never guessed.
type Options struct {
	// Release enables the payload checks (HCM009, HCM017, HCM030): whether
	// every image of one release is reachable through the sets.
	Release *ReleaseImages
	// HostedClusters enables the HostedCluster checks (HCM026, HCM027,
	// HCM028) and the mirror-set checks on each one's imageContentSources.
	HostedClusters []HostedClusterView
}

// ReleaseImages lists the images of one release payload by reference, as
// read from its image-references and coreos-bootimages files. The linter does
// not read payloads itself: it must work offline, from files.
type ReleaseImages struct {
	// ReleaseImage is the release image as the HostedCluster names it,
	// usually by tag (quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64).
	ReleaseImage string
	// Components maps component name to reference, normally
	// quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:….
	Components map[string]string
	// KubeVirt is the boot image container's digest-ref, which is not among
	// the components; empty when unknown.
	KubeVirt string
}

// HostedClusterView is the part of a HostedCluster the linter reads. It is a
// plain view rather than the API type so that callers can fill it from a
// live object, a file or a test literal alike.
type HostedClusterView struct {
	// Name is the HostedCluster's name, used to name it in findings.
	Name string
	// Namespace is optional; when set, findings name the cluster namespace/name.
	Namespace string
	// Origin is where the object was read from, when it came from a file.
	Origin manifest.Origin
	// Annotations are the HostedCluster's annotations (OLM catalog pins and
	// overrides).
	Annotations map[string]string
	// ImageContentSources is spec.imageContentSources: the mirrors the guest
	// nodes are given.
	ImageContentSources []mirrorset.Entry
}

// Lint checks mirror sets for the mistakes in the catalogue that can be
// decided from them, plus those that need Options. It never fails: sets that
// do not validate are reported (HCM001–HCM004, and duplicate mirrors the API
// server rejects), and the other checks run on the entries that are valid, so
// one run shows everything there is to fix.
//
// Findings come in file order (the order of sets, their entries and fields),
// then by code.
func Lint(sets []mirrorset.Set, opts Options) []Finding {
	findings, _ := LintContext(context.Background(), sets, opts)
	return findings
}

// LintContext is Lint, giving up once ctx is done: then it returns no
// findings and an error wrapping ctx.Err(). The checks are near-linear in
// the number of entries, but a cluster's worth of oc-mirror output can hold
// hundreds of thousands.
func LintContext(ctx context.Context, sets []mirrorset.Set, opts Options) ([]Finding, error) {
	c := &collector{ctx: ctx}
	mgmt := newGroup(c, 0, sets, true)
	if opts.Release != nil {
		for _, rr := range opts.Release.refs() {
			mgmt.refsBelow = append(mgmt.refsBelow, rr.ref.Name())
		}
		slices.Sort(mgmt.refsBelow)
	}
	mgmt.check(c)
	lintOCMirrorRuns(c, mgmt)
	if opts.Release != nil {
		lintRelease(c, mgmt, opts.Release)
	}
	for i, hc := range opts.HostedClusters {
		lintHostedCluster(c, 2+i, mgmt, hc)
	}
	if c.err == nil && ctx.Err() != nil {
		c.err = fmt.Errorf("linting mirror sets: %w", ctx.Err())
	}
	if c.err != nil {
		return nil, c.err
	}
	return c.sorted(), nil
}

// loc is the place of one entry: which set and which entry in it.
type loc struct{ set, entry int }

// group is one configuration being linted: the management cluster's sets,
// or one HostedCluster's imageContentSources (which the guest nodes get).
type group struct {
	c          *collector
	id         int
	sets       []mirrorset.Set
	management bool
	// invalid marks entries validation rejected; the other checks skip them.
	invalid map[loc]bool
	// cfg is compiled from the valid entries; nil only if that still fails.
	cfg *mirrorset.Config
	// first is the first valid, effective entry of each source: where
	// findings about a merged source are reported.
	first map[string]loc
	// refsBelow are release references, sorted, used to tell namespace
	// sources from repository sources (HCM022).
	refsBelow []string
	// refsUnder maps a source to the release references it serves (HCM035).
	refsUnder map[string][]string
	// byDescription indexes the sets by Describe(), built on first use.
	byDescription map[string][]int
}

func newGroup(c *collector, id int, sets []mirrorset.Set, management bool) *group {
	return &group{c: c, id: id, sets: sets, management: management, invalid: map[loc]bool{}, first: map[string]loc{}}
}

func (g *group) pos(l loc, sub int) position { return position{g.id, l.set, l.entry, sub} }

// object and field name an entry for findings.
func (g *group) object(l loc) string { return g.sets[l.set].Describe() }

func (g *group) field(l loc, suffix string) string {
	return g.sets[l.set].EntryPath(l.entry) + suffix
}

// check runs validation, then every check on the valid entries.
func (g *group) check(c *collector) {
	g.validate(c)
	g.compile()
	g.checkEntries(c)
	g.checkDuplicates(c)
	g.checkOrders(c)
	if g.cfg != nil {
		g.checkConfig(c)
	}
}

// fieldErrors flattens a Validate error into its *FieldError values.
func fieldErrors(err error) ([]*mirrorset.FieldError, []error) {
	if err == nil {
		return nil, nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var fes []*mirrorset.FieldError
	var other []error
	for _, e := range errs {
		var fe *mirrorset.FieldError
		if errors.As(e, &fe) {
			fes = append(fes, fe)
		} else {
			other = append(other, e)
		}
	}
	return fes, other
}

// validate turns mirrorset.Validate's errors into findings. Each set is
// validated alone, so every error is placed in its own set without relying
// on object names being unique; cross-set policy conflicts come from one
// validation of all sets. Anything validation rejects is an Error whatever
// its code: Compile refuses the whole configuration because of it.
func (g *group) validate(c *collector) {
	for si := range g.sets {
		if g.c.stopped() {
			return
		}
		s := &g.sets[si]
		fes, other := fieldErrors(mirrorset.ValidateContext(g.c.ctx, []mirrorset.Set{*s}))
		for _, fe := range fes {
			if fe.Code == mirrorset.CodePolicyConflict {
				continue // reported once below, across all sets
			}
			ei, sub := locateField(s, fe.Field)
			if ei >= 0 {
				g.invalid[loc{si, ei}] = true
			} else {
				// Not attributable to one entry: distrust the whole set.
				for i := range s.Entries {
					g.invalid[loc{si, i}] = true
				}
			}
			g.addRejected(c, position{g.id, si, ei, sub}, fe.Code, fe.Object, fe.Field, fe.Message)
		}
		for _, err := range other {
			g.addRejected(c, position{g.id, si, -1, 0}, mirrorset.CodeBadSource, s.Describe(), "", err.Error())
		}
	}
	fes, _ := fieldErrors(mirrorset.ValidateContext(g.c.ctx, g.sets))
	for _, fe := range fes {
		if fe.Code != mirrorset.CodePolicyConflict {
			continue
		}
		si, ei := g.findEntry(fe.Object, fe.Field)
		g.addRejected(c, position{g.id, si, ei, 0}, fe.Code, fe.Object, fe.Field, fe.Message+"; the machine-config-operator refuses to render any of it")
	}
	// Entries of a conflicting source cannot be given either policy.
	policies := map[string]map[bool]bool{}
	g.eachEntry(func(l loc, s *mirrorset.Set, e mirrorset.Entry) {
		if !e.HasRealMirrors() {
			return
		}
		if policies[e.Source] == nil {
			policies[e.Source] = map[bool]bool{}
		}
		policies[e.Source][e.Blocks()] = true
	})
	g.eachEntry(func(l loc, s *mirrorset.Set, e mirrorset.Entry) {
		if len(policies[e.Source]) > 1 {
			g.invalid[l] = true
		}
	})
}

func (g *group) addRejected(c *collector, pos position, code, object, field, message string) {
	f := newFinding(code, object, field, message)
	f.Severity = Error
	if code == mirrorset.CodeDuplicate {
		f.Message += " (the API server rejects duplicates in this list)"
	}
	c.items = append(c.items, located{pos, f})
}

// locateField finds the entry index (or -1) and a sub-position (mirror index
// + 1, or 0) of a field path inside set s.
func locateField(s *mirrorset.Set, field string) (entry, sub int) {
	// The index is read from the path, not found by trying every entry:
	// that was quadratic in a set whose entries all fail validation.
	rest, ok := strings.CutPrefix(field, s.Kind.ListField()+"[")
	if !ok {
		return -1, 0
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return -1, 0
	}
	i, err := strconv.Atoi(rest[:end])
	if err != nil || i < 0 || i >= len(s.Entries) || s.EntryPath(i) != field[:len(field)-len(rest)+end+1] {
		return -1, 0
	}
	rest = rest[end+1:]
	if rest != "" && rest[0] != '.' {
		return -1, 0
	}
	var m int
	if _, err := fmt.Sscanf(rest, ".mirrors[%d]", &m); err == nil {
		return i, m + 1
	}
	return i, 0
}

// findEntry locates an error reported across sets by its object description
// and field, falling back to the first set so described.
func (g *group) findEntry(object, field string) (set, entry int) {
	if g.byDescription == nil {
		g.byDescription = map[string][]int{}
		for si := range g.sets {
			d := g.sets[si].Describe()
			g.byDescription[d] = append(g.byDescription[d], si)
		}
	}
	set, entry = len(g.sets), -1
	for _, si := range g.byDescription[object] {
		if ei, _ := locateField(&g.sets[si], field); ei >= 0 {
			return si, ei
		}
		if set == len(g.sets) {
			set = si
		}
	}
	return set, entry
}

// eachEntry calls fn for every entry, valid or not, in file order.
func (g *group) eachEntry(fn func(l loc, s *mirrorset.Set, e mirrorset.Entry)) {
	for si := range g.sets {
		s := &g.sets[si]
		for ei, e := range s.Entries {
			if g.c.stopped() {
				return
			}
			fn(loc{si, ei}, s, e)
		}
	}
}

// eachValid calls fn for every entry validation accepted, in file order.
func (g *group) eachValid(fn func(l loc, s *mirrorset.Set, e mirrorset.Entry)) {
	g.eachEntry(func(l loc, s *mirrorset.Set, e mirrorset.Entry) {
		if !g.invalid[l] {
			fn(l, s, e)
		}
	})
}

// compile builds the effective configuration from the valid entries, so
// that the checks that need matching still run when some entries are broken.
func (g *group) compile() {
	valid := make([]mirrorset.Set, len(g.sets))
	for si := range g.sets {
		s := g.sets[si]
		s.Entries = nil
		for ei, e := range g.sets[si].Entries {
			if !g.invalid[loc{si, ei}] {
				s.Entries = append(s.Entries, e)
			}
		}
		valid[si] = s
	}
	cfg, err := mirrorset.CompileContext(g.c.ctx, valid)
	if err == nil {
		g.cfg = cfg
		g.refsUnder = map[string][]string{}
		for _, ref := range g.refsBelow {
			if r := cfg.Find(ref); r != nil {
				g.refsUnder[r.Prefix] = append(g.refsUnder[r.Prefix], ref)
			}
		}
	}
	g.eachValid(func(l loc, s *mirrorset.Set, e mirrorset.Entry) {
		if _, ok := g.first[e.Source]; !ok && e.HasRealMirrors() {
			g.first[e.Source] = l
		}
	})
}

// at returns the place to report a finding about a merged source.
func (g *group) at(source string) (loc, bool) {
	l, ok := g.first[source]
	return l, ok
}

// quoteList formats at most max strings as a quoted, comma-separated list.
func quoteList(list []string, max int) string {
	var b strings.Builder
	for i, s := range list {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(list)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", s)
	}
	return b.String()
}

// sortedKeys is slices.Sorted(maps.Keys(m)), kept only for release.go,
// which another change owns: use slices.Sorted(maps.Keys(m)) elsewhere.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
