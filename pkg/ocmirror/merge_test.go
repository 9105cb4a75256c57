package ocmirror

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/*/want")

// read reads inputs and fails the test on any error.
func read(t *testing.T, paths ...string) []Input {
	t.Helper()
	inputs, _, err := Read(nil, paths...)
	if err != nil {
		t.Fatalf("Read(%q) = %v", paths, err)
	}
	return inputs
}

func merge(t *testing.T, inputs []Input) *Result {
	t.Helper()
	res, err := Merge(inputs)
	if err != nil {
		t.Fatalf("Merge = %v", err)
	}
	return res
}

// fileMap turns written files into name → content for comparisons.
func fileMap(files []atomicfile.File) map[string]string {
	m := map[string]string{}
	for _, f := range files {
		m[f.Name] = string(f.Data)
	}
	return m
}

// golden compares files with the content of dir, or rewrites dir with -update.
func golden(t *testing.T, dir string, files []atomicfile.File) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.WriteDir(dir, files, nil, atomicfile.DefaultPerm); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading golden files (run with -update to create them): %v", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		want[e.Name()] = string(b)
	}
	if diff := cmp.Diff(want, fileMap(files)); diff != "" {
		t.Errorf("files differ from %s (-want +got; run with -update to accept):\n%s", dir, diff)
	}
}

// triples lists every (kind group, source, mirror) an input holds that a node
// would use: the completeness guarantee is about these.
func triples(sets []mirrorset.Set) map[string]bool {
	out := map[string]bool{}
	for _, s := range sets {
		for _, e := range s.Entries {
			for _, m := range e.Mirrors {
				if m != e.Source {
					out[fmt.Sprintf("%v %s %s", s.Kind.ForTags(), e.Source, m)] = true
				}
			}
		}
	}
	return out
}

func allSets(inputs []Input) []mirrorset.Set {
	var sets []mirrorset.Set
	for _, in := range inputs {
		sets = append(sets, in.Sets...)
	}
	return sets
}

// reread writes a result to a fresh directory and reads it back as inputs.
func reread(t *testing.T, res *Result) []Input {
	t.Helper()
	dir := t.TempDir()
	if _, err := res.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return read(t, dir)
}

// checkIdempotent is guarantee 4: merge(out) == out and merge(in + out) == out.
func checkIdempotent(t *testing.T, inputs []Input, res *Result) {
	t.Helper()
	out := reread(t, res)
	if diff := cmp.Diff(fileMap(res.Files), fileMap(merge(t, out).Files)); diff != "" {
		t.Errorf("merge(out) != out (-out +merge(out)):\n%s", diff)
	}
	both := append(slices.Clone(inputs), out...)
	if diff := cmp.Diff(fileMap(res.Files), fileMap(merge(t, both).Files)); diff != "" {
		t.Errorf("merge(inputs + out) != out (-out +merge):\n%s", diff)
	}
}

// checkComplete is guarantee 1, checked from the outside.
func checkCompleteOutput(t *testing.T, inputs []Input, res *Result) {
	t.Helper()
	got := triples(allSets(reread(t, res)))
	for tr := range triples(allSets(inputs)) {
		if !got[tr] {
			t.Errorf("(tags?, source, mirror) %s is missing from the output", tr)
		}
	}
}

// checkEquivalent is guarantee 2: the output compiles to the same
// registries.conf as the inputs, up to a source the merge order placed among
// its own mirrors where it cannot stay: a blocked source (refused by the
// runtime either way) or a wildcard (no valid mirror location).
func checkEquivalent(t *testing.T, inputs []Input, res *Result) {
	t.Helper()
	norm := func(sets []mirrorset.Set) string {
		cfg, err := mirrorset.Compile(sets)
		if err != nil {
			t.Fatalf("Compile = %v", err)
		}
		var b strings.Builder
		for _, r := range cfg.Registries() {
			fmt.Fprintf(&b, "%s blocked=%v\n", r.Prefix, r.Blocked)
			for _, m := range r.Mirrors {
				if (r.Blocked || mirrorset.IsWildcard(r.Prefix)) && m.Location == r.Prefix {
					continue
				}
				fmt.Fprintf(&b, "  %s %s\n", m.Location, m.PullFrom)
			}
		}
		return b.String()
	}
	if diff := cmp.Diff(norm(allSets(inputs)), norm(allSets(reread(t, res)))); diff != "" {
		t.Errorf("output is not equivalent to the inputs (-inputs +output):\n%s", diff)
	}
}

func TestMergeTwoV1Runs(t *testing.T) {
	root := filepath.Join("testdata", "two-v1-runs")
	inputs := read(t, filepath.Join(root, "in"))
	var paths []string
	for _, in := range inputs {
		paths = append(paths, filepath.ToSlash(in.Path))
	}
	wantPaths := []string{
		"testdata/two-v1-runs/in/oc-mirror-workspace/results-1700000000/catalogSource-redhat-operator-index.yaml",
		"testdata/two-v1-runs/in/oc-mirror-workspace/results-1700000000/imageContentSourcePolicy.yaml",
		"testdata/two-v1-runs/in/oc-mirror-workspace/results-1700086400/catalogSource-redhat-operator-index.yaml",
		"testdata/two-v1-runs/in/oc-mirror-workspace/results-1700086400/imageContentSourcePolicy.yaml",
	}
	if diff := cmp.Diff(wantPaths, paths); diff != "" {
		t.Errorf("files read (-want +got):\n%s", diff)
	}
	if inputs[0].Run != 1700000000 || inputs[3].Run != 1700086400 {
		t.Errorf("runs = %d, %d; want 1700000000, 1700086400", inputs[0].Run, inputs[3].Run)
	}

	res := merge(t, inputs)
	golden(t, filepath.Join(root, "want"), res.Files)

	// The point of merging: the second run alone would drop the first run's
	// sources, the merge keeps both runs'.
	var sources []string
	for _, o := range res.IDMS {
		for _, e := range o.Spec.ImageDigestMirrors {
			sources = append(sources, e.Source)
		}
	}
	sort.Strings(sources)
	want := []string{
		"quay.io/edge-infrastructure", "quay.io/karmab",
		"quay.io/openshift-release-dev/ocp-release", "quay.io/openshift-release-dev/ocp-v4.0-art-dev",
		"registry.redhat.io/lvms4", "registry.redhat.io/odf4", "registry.redhat.io/openshift4", "registry.redhat.io/rhel9",
	}
	if diff := cmp.Diff(want, sources); diff != "" {
		t.Errorf("merged sources (-want +got):\n%s", diff)
	}
	var names []string
	for _, o := range res.Objects {
		names = append(names, string(o.Kind)+"/"+o.Name)
	}
	wantNames := []string{"ImageDigestMirrorSet/hcpmirror-release-0", "ImageDigestMirrorSet/hcpmirror-operator-0", "ImageDigestMirrorSet/hcpmirror-generic-0"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if len(res.ITMS) != 0 {
		t.Errorf("ITMS = %d objects, want none from ICSP inputs", len(res.ITMS))
	}

	// Naming the runs one by one, newest first, changes nothing.
	runs := filepath.Join(root, "in", "oc-mirror-workspace")
	again := merge(t, read(t, filepath.Join(runs, "results-1700086400"), filepath.Join(runs, "results-1700000000")))
	if diff := cmp.Diff(fileMap(res.Files), fileMap(again.Files)); diff != "" {
		t.Errorf("merge depends on input order (-workspace +runs):\n%s", diff)
	}
	checkIdempotent(t, inputs, res)
	checkCompleteOutput(t, inputs, res)
	checkEquivalent(t, inputs, res)
}

func TestMergeV2RandomOrder(t *testing.T) {
	root := filepath.Join("testdata", "v2-random-order")
	a := read(t, filepath.Join(root, "run-a"))
	b := read(t, filepath.Join(root, "run-b"))
	resA, resB := merge(t, a), merge(t, b)
	if diff := cmp.Diff(fileMap(resA.Files), fileMap(resB.Files)); diff != "" {
		t.Errorf("two runs differing only in map order merge differently (-a +b):\n%s", diff)
	}
	golden(t, filepath.Join(root, "want"), resA.Files)

	var skipped []string
	for _, o := range resA.Skipped {
		skipped = append(skipped, o.Kind+"/"+o.Name)
	}
	if diff := cmp.Diff([]string{"ClusterCatalog/cc-redhat-operator-index-v4-15", "ConfigMap/mirrored-release-signatures"}, skipped); diff != "" {
		t.Errorf("skipped objects (-want +got):\n%s", diff)
	}

	// Any order of files, objects and entries gives the same bytes.
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		shuffled := shuffle(rng, append(slices.Clone(a), b...))
		if diff := cmp.Diff(fileMap(resA.Files), fileMap(merge(t, shuffled).Files)); diff != "" {
			t.Fatalf("shuffle %d: output differs (-want +got):\n%s", i, diff)
		}
	}
	checkIdempotent(t, a, resA)
	checkCompleteOutput(t, a, resA)
	checkEquivalent(t, a, resA)
}

// shuffle permutes inputs, their sets and every set's entries; mirror lists
// keep their order (it carries meaning).
func shuffle(rng *rand.Rand, inputs []Input) []Input {
	out := make([]Input, len(inputs))
	for i, in := range inputs {
		in.Sets = slices.Clone(in.Sets)
		for j := range in.Sets {
			in.Sets[j].Entries = slices.Clone(in.Sets[j].Entries)
			rng.Shuffle(len(in.Sets[j].Entries), func(x, y int) {
				in.Sets[j].Entries[x], in.Sets[j].Entries[y] = in.Sets[j].Entries[y], in.Sets[j].Entries[x]
			})
		}
		rng.Shuffle(len(in.Sets), func(x, y int) { in.Sets[x], in.Sets[y] = in.Sets[y], in.Sets[x] })
		out[i] = in
	}
	rng.Shuffle(len(out), func(x, y int) { out[x], out[y] = out[y], out[x] })
	return out
}

func TestMergeMixed(t *testing.T) {
	root := filepath.Join("testdata", "mixed")
	inputs := read(t, filepath.Join(root, "in"))
	res := merge(t, inputs)
	golden(t, filepath.Join(root, "want"), res.Files)

	var ignored []string
	for _, e := range res.Ignored {
		ignored = append(ignored, e.Source)
	}
	if diff := cmp.Diff([]string{"quay.io/empty", "quay.io/self"}, ignored); diff != "" {
		t.Errorf("ignored entries (-want +got):\n%s", diff)
	}
	checkIdempotent(t, inputs, res)
	checkCompleteOutput(t, inputs, res)
	checkEquivalent(t, inputs, res)
}

func TestMergePolicyConflict(t *testing.T) {
	inputs := read(t, filepath.Join("testdata", "policy-conflict"))
	res, err := Merge(inputs)
	if err == nil {
		t.Fatalf("Merge = %d files, want a policy conflict", len(res.Files))
	}
	var fe *mirrorset.FieldError
	if !errors.As(err, &fe) || fe.Code != mirrorset.CodePolicyConflict {
		t.Errorf("Merge error = %v, want a %s FieldError", err, mirrorset.CodePolicyConflict)
	}
	for _, want := range []string{
		"blocking.yaml", `ImageDigestMirrorSet "ocp-never-contact"`,
		"allowing.yaml", `ImageContentSourcePolicy "release-0"`,
		"quay.io/openshift-release-dev/ocp-v4.0-art-dev",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Merge error = %q, want it to name %q", err, want)
		}
	}
	if res != nil {
		t.Errorf("Merge returned a result with its error")
	}
}

func TestMergeSplitsLargeSets(t *testing.T) {
	// About 2 500 sources of ~120 bytes each: over 250 kB, so two objects.
	var b strings.Builder
	b.WriteString("apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: idms-generic-0\nspec:\n  imageDigestMirrors:\n")
	const n = 2500
	for i := n - 1; i >= 0; i-- { // reverse order: output must sort
		fmt.Fprintf(&b, "  - source: registry.vendor-%04d.example.com/products/team-%04d\n    mirrors:\n    - mirror.internal.example.com:5000/disconnected/vendor-%04d/products\n", i, i, i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := read(t, dir)
	res := merge(t, inputs)

	if len(res.IDMS) < 2 {
		t.Fatalf("IDMS = %d objects, want the input split", len(res.IDMS))
	}
	docs := strings.Split(string(res.Files[0].Data), "---\n")
	if len(docs) != len(res.IDMS) {
		t.Fatalf("%s holds %d documents, want %d", res.Files[0].Name, len(docs), len(res.IDMS))
	}
	var prev string
	total := 0
	for i, o := range res.IDMS {
		if want := fmt.Sprintf("hcpmirror-generic-%d", i); o.Name != want {
			t.Errorf("object %d is named %q, want %q", i, o.Name, want)
		}
		size := len(docs[i])
		if size >= MaxObjectBytes {
			t.Errorf("%s is %d bytes, want below %d", o.Name, size, MaxObjectBytes)
		}
		if size != res.Objects[i].Bytes {
			t.Errorf("%s: summary says %d bytes, YAML has %d", o.Name, res.Objects[i].Bytes, size)
		}
		// Greedy: the next entry would not have fitted.
		if i+1 < len(res.IDMS) {
			next, err := itemSize(outEntry{source: res.IDMS[i+1].Spec.ImageDigestMirrors[0].Source, mirrors: res.IDMS[i+1].Spec.ImageDigestMirrors[0].Mirrors})
			if err != nil {
				t.Fatal(err)
			}
			if size+next < MaxObjectBytes {
				t.Errorf("%s is %d bytes and the next entry %d: it should have been added", o.Name, size, next)
			}
		}
		for _, e := range o.Spec.ImageDigestMirrors {
			if e.Source <= prev {
				t.Errorf("%s: source %q after %q: want sorted across objects", o.Name, e.Source, prev)
			}
			prev = e.Source
			total++
		}
	}
	if total != n {
		t.Errorf("%d sources in the output, want %d", total, n)
	}
	checkIdempotent(t, inputs, res)
}

func TestMergeSplitRefusesHugeEntry(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: huge\nspec:\n  imageDigestMirrors:\n  - source: quay.io/huge\n    mirrors:\n")
	for i := 0; i < 4000; i++ { // ~66 bytes each: 264 kB
		fmt.Fprintf(&b, "    - mirror-%05d.internal.example.com:5000/disconnected/huge/path\n", i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "huge.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Merge(read(t, dir))
	if err == nil || !strings.Contains(err.Error(), `source "quay.io/huge" alone`) {
		t.Errorf("Merge = %v, want an error naming the oversized entry", err)
	}
}

func TestCatalogSourceLastWins(t *testing.T) {
	root := filepath.Join("testdata", "catalog-last-wins")
	in := filepath.Join(root, "in")
	// results-100 sorts before results-99 by path but is the later run.
	for _, paths := range [][]string{
		{in},
		{filepath.Join(in, "oc-mirror-workspace", "results-100"), filepath.Join(in, "extra"), filepath.Join(in, "oc-mirror-workspace", "results-99")},
	} {
		res := merge(t, read(t, paths...))
		if len(res.CatalogSources) != 1 {
			t.Fatalf("%q: %d CatalogSources, want 1", paths, len(res.CatalogSources))
		}
		cs := res.CatalogSources[0]
		if !bytes.Contains(cs.Data, []byte("displayName: run 100")) {
			t.Errorf("%q: winner is from %s:\n%s\nwant results-100's", paths, cs.Origin, cs.Data)
		}
		if len(res.Superseded) != 2 {
			t.Errorf("%q: %d superseded, want 2", paths, len(res.Superseded))
		}
		if diff := cmp.Diff([]string{"catalogsource-redhat-operator-index.yaml"}, slices.Collect(func(yield func(string) bool) {
			for _, f := range res.Files {
				if !yield(f.Name) {
					return
				}
			}
		})); diff != "" {
			t.Errorf("%q: files (-want +got):\n%s", paths, diff)
		}
		golden(t, filepath.Join(root, "want"), res.Files)
	}
}

func TestWriteDirRemovesStaleOutput(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{ITMSFile: "old", "catalogsource-gone.yaml": "old", "notes.txt": "mine"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := merge(t, read(t, filepath.Join("testdata", "two-v1-runs", "in")))
	removed, err := res.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"catalogsource-gone.yaml", ITMSFile}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"catalogsource-redhat-operator-index.yaml", IDMSFile, "notes.txt"}, names); diff != "" {
		t.Errorf("directory after WriteDir (-want +got):\n%s", diff)
	}
}

func TestReadReportsEveryBadFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: a\nspec:\n  imageDigestMirrors:\n  - source: quay.io/a\n    mirorrs: [m.example.com]\n",
		"b.yaml": "apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: Bad/Name\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := Read(nil, dir, filepath.Join(dir, "missing"))
	if err == nil {
		t.Fatal("Read = nil, want errors")
	}
	for _, want := range []string{"a.yaml", "mirorrs", "b.yaml", `"Bad/Name"`, "missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Read error = %q, want it to mention %q", err, want)
		}
	}
}

func TestCategoryOf(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   Category
	}{
		{"release-0", nil, CategoryRelease},
		{"idms-release-0", nil, CategoryRelease},
		{"itms-release-3", nil, CategoryRelease},
		{"hcpmirror-release-12", nil, CategoryRelease},
		{"operator-0", map[string]string{catalogLabel: "true"}, CategoryOperator},
		{"idms-operator-0", nil, CategoryOperator},
		{"my-catalog", map[string]string{catalogLabel: "true"}, CategoryOperator},
		{"generic-0", nil, CategoryGeneric},
		{"idms-generic-0", nil, CategoryGeneric},
		{"ocp-mirrors", nil, CategoryGeneric},
		{"my-release-mirrors", nil, CategoryGeneric},
	}
	for _, tt := range tests {
		s := mirrorset.Set{Kind: mirrorset.KindIDMS, Name: tt.name, Labels: tt.labels}
		if got := CategoryOf(&s); got != tt.want {
			t.Errorf("CategoryOf(%q, %v) = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

// TestMergeProperties checks the guarantees on random inputs: small pools of
// sources and mirrors make overlaps, conflicting orders and cycles common.
func TestMergeProperties(t *testing.T) {
	sources := []string{"quay.io", "quay.io/a", "quay.io/a/b", "registry.redhat.io/x", "*.example.org", "docker.io/library"}
	mirrors := []string{"m1.example.com", "m2.example.com/a", "m3.example.com:5000/x", "quay.io/a", "zz.example.com"}
	rng := rand.New(rand.NewSource(7))
	kinds := []mirrorset.Kind{mirrorset.KindICSP, mirrorset.KindIDMS, mirrorset.KindITMS}
	names := []string{"release-0", "operator-0", "generic-0", "idms-release-0", "user"}
	for iter := 0; iter < 80; iter++ {
		blocked := map[string]bool{}
		for _, s := range sources {
			blocked[s] = rng.Intn(3) == 0
		}
		var inputs []Input
		for f := 0; f < 1+rng.Intn(4); f++ {
			in := Input{Path: fmt.Sprintf("in-%d.yaml", f), Run: int64(rng.Intn(3))}
			for o := 0; o < 1+rng.Intn(3); o++ {
				kind := kinds[rng.Intn(len(kinds))]
				s := mirrorset.Set{Kind: kind, Name: names[rng.Intn(len(names))]}
				for e := 0; e < 1+rng.Intn(4); e++ {
					src := sources[rng.Intn(len(sources))]
					if kind == mirrorset.KindICSP && blocked[src] {
						continue // an ICSP cannot block: that would be a conflict
					}
					var ms []string
					for _, i := range rng.Perm(len(mirrors))[:rng.Intn(4)] {
						if mirrors[i] == src && blocked[src] {
							continue
						}
						ms = append(ms, mirrors[i])
					}
					entry := mirrorset.Entry{Source: src, Mirrors: ms}
					if blocked[src] {
						entry.Policy = mirrorset.NeverContactSource
					}
					s.Entries = append(s.Entries, entry)
				}
				in.Sets = append(in.Sets, s)
			}
			inputs = append(inputs, in)
		}
		res, err := Merge(inputs)
		if err != nil {
			t.Fatalf("iteration %d: Merge = %v", iter, err)
		}
		for i := 0; i < 3; i++ {
			if diff := cmp.Diff(fileMap(res.Files), fileMap(merge(t, shuffle(rng, inputs)).Files)); diff != "" {
				t.Fatalf("iteration %d: order changes the output (-want +got):\n%s", iter, diff)
			}
		}
		checkIdempotent(t, inputs, res)
		checkCompleteOutput(t, inputs, res)
		checkEquivalent(t, inputs, res)
		if t.Failed() {
			t.Fatalf("iteration %d failed; inputs: %+v", iter, inputs)
		}
	}
}

func TestReadStdin(t *testing.T) {
	in := "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: idms-release-0\nspec:\n  imageDigestMirrors:\n  - source: quay.io/a\n    mirrors: [m.example.com/a]\n"
	inputs, _, err := Read(strings.NewReader(in), "-", "-")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 1 || len(inputs[0].Sets) != 1 || inputs[0].Sets[0].Origin.File != "<stdin>" {
		t.Fatalf("Read(stdin) = %+v, want one set from <stdin>", inputs)
	}
	if _, _, err := Read(nil, "-"); err == nil {
		t.Error("Read(nil, \"-\") = nil error, want one")
	}
	res := merge(t, inputs)
	if len(res.IDMS) != 1 || res.IDMS[0].Name != "hcpmirror-release-0" {
		t.Errorf("merged %+v, want hcpmirror-release-0", res.IDMS)
	}
}

// TestReadIntoKeepsEarlierMerge: a library caller merging only the newest
// run into a directory holding an earlier merge gets the earlier merge as an
// input, so nothing it held is dropped; given the directory itself, it is
// not read twice.
func TestReadIntoKeepsEarlierMerge(t *testing.T) {
	ws := filepath.Join("testdata", "two-v1-runs", "in", "oc-mirror-workspace")
	out := t.TempDir()
	first, _, err := ReadInto(out, nil, filepath.Join(ws, "results-1700000000"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := merge(t, first).WriteDir(out); err != nil {
		t.Fatal(err)
	}
	second, notes, err := ReadInto(out, nil, filepath.Join(ws, "results-1700086400"))
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "holds an earlier merge") {
		t.Errorf("notes = %q, want one saying the earlier merge is read", notes)
	}
	got := triples(allSets(second))
	for k := range triples(allSets(first)) {
		if !got[k] {
			t.Errorf("earlier run's %s is not among the inputs", k)
		}
	}
	if _, notes, _ := ReadInto(out, nil, out); len(notes) != 0 {
		t.Errorf("ReadInto(dir, dir) notes = %q, want none", notes)
	}
}
