package ocmirror

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// resultsDir matches oc-mirror v1's per-run directory, results-<unix time>.
var resultsDir = regexp.MustCompile(`^results-([0-9]+)$`)

// Input is one file read for a merge: the objects it holds and its place in
// the order of runs, which decides which CatalogSource wins.
type Input struct {
	// Path is the file as given, or as found under a directory given.
	Path string
	// Run is the Unix time of the oc-mirror v1 results-<time> directory the
	// file lies in, 0 when it lies in none (v2 output, plain files), and -1
	// for hcpmirror's own earlier output, which is older than any run it
	// is merged with. Inputs are ordered by (Run, Path).
	Run int64
	// Sets are the file's ImageContentSourcePolicies, ImageDigestMirrorSets
	// and ImageTagMirrorSets.
	Sets []mirrorset.Set
	// CatalogSources are the file's CatalogSources, ready to be written.
	CatalogSources []CatalogSource
	// Skipped are the objects that are neither (UpdateService, ClusterCatalog,
	// signature ConfigMaps, ...): merge does not need them, callers may say so.
	Skipped []manifest.Object
}

// Read finds and reads the inputs of a merge: the files [manifest.Files]
// finds for paths (oc-mirror's layout recognised, each file once), "-"
// for stdin. It returns the notes of the walk (symbolic links not
// followed) for the caller to show.
//
// Every problem is reported (errors.Join), each naming its file; on error
// the inputs that could be read are returned too, but a merge must not go
// ahead.
func Read(stdin io.Reader, paths ...string) ([]Input, []string, error) {
	files, notes, err := manifest.Files(paths...)
	errs := []error{err}
	var inputs []Input
	for _, f := range files {
		var data []byte
		var err error
		file, abs := f, f
		if f == manifest.Stdin {
			file, abs = "<stdin>", "<stdin>"
			if stdin == nil {
				errs = append(errs, errors.New("<stdin>: standard input is not available"))
				continue
			}
			data, err = io.ReadAll(stdin)
		} else {
			if a, aerr := filepath.Abs(f); aerr == nil {
				abs = a
			}
			data, err = os.ReadFile(f)
		}
		if err != nil {
			errs = append(errs, manifest.PathError(file, err))
			continue
		}
		in, err := readInput(file, abs, data)
		inputs = append(inputs, in)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return inputs, notes, errors.Join(errs...)
}

// ReadInto is Read for a merge whose output goes to dir. When dir holds an
// earlier merge that paths do not already cover, it is read as an input
// too (and a note says so), so that merging only the newest oc-mirror run
// never drops what earlier runs produced: the guarantee merge makes, kept
// here so that every caller gets it.
func ReadInto(dir string, stdin io.Reader, paths ...string) ([]Input, []string, error) {
	var pre []string
	if hasOwnOutput(dir) && !covers(paths, dir) {
		pre = append(pre, dir+": holds an earlier merge: reading it as an input so that nothing it holds is dropped")
		paths = append(slices.Clone(paths), dir)
	}
	inputs, notes, err := Read(stdin, paths...)
	return inputs, append(pre, notes...), err
}

// covers reports whether one of paths is dir or a folder above it.
func covers(paths []string, dir string) bool {
	d, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if a == d || strings.HasPrefix(d, a+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// readInput decodes one file and sorts its objects.
func readInput(file, abs string, data []byte) (Input, error) {
	in := Input{Path: file, Run: runOf(abs)}
	if IsOwnOutput(file) {
		in.Run = -1
	}
	objs, err := manifest.Read(file, data)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	var setObjs []manifest.Object
	for _, o := range objs {
		switch {
		case isCatalogSource(o):
			cs, err := newCatalogSource(o)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			in.CatalogSources = append(in.CatalogSources, cs)
		default:
			setObjs = append(setObjs, o)
		}
	}
	sets, skipped, err := mirrorset.FromObjects(setObjs)
	if err != nil {
		errs = append(errs, err)
	}
	in.Sets = sets
	in.Skipped = skipped
	return in, errors.Join(errs...)
}

// runOf returns the time of the innermost results-<time> directory in path.
func runOf(path string) int64 {
	dir := filepath.Dir(filepath.Clean(path))
	for {
		if m := resultsDir.FindStringSubmatch(filepath.Base(dir)); m != nil {
			if ts, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				return ts
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return 0
		}
		dir = parent
	}
}

// IsOwnOutput reports whether a file is one merge writes: a later oc-mirror
// run must win over it wherever they disagree (CatalogSources).
func IsOwnOutput(file string) bool {
	base := filepath.Base(file)
	return base == IDMSFile || base == ITMSFile || strings.HasPrefix(base, catalogSourceFilePrefix)
}

// signaturesLabel marks the ConfigMaps that carry release signatures, which
// oc-mirror writes beside the mirror sets and clusters need to verify a
// release.
const signaturesLabel = "release.openshift.io/verification-signatures"

// IsSignatures reports whether o is a release-signature ConfigMap: merge does
// not copy it, and a caller should say so more loudly than for other kinds.
func IsSignatures(o manifest.Object) bool {
	if o.Kind != "ConfigMap" || o.APIVersion != "v1" {
		return false
	}
	var cm struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(o.Raw, &cm); err != nil {
		return false
	}
	_, ok := cm.Metadata.Labels[signaturesLabel]
	return ok
}

// hasOwnOutput reports whether dir holds files of an earlier merge.
func hasOwnOutput(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() && IsOwnOutput(e.Name()) {
			return true
		}
	}
	return false
}

// sortInputs orders inputs by (Run, Path): oc-mirror v1 runs oldest first,
// everything else before them in path order.
func sortInputs(inputs []Input) []Input {
	out := append([]Input(nil), inputs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Run != out[j].Run {
			return out[i].Run < out[j].Run
		}
		return out[i].Path < out[j].Path
	})
	return out
}
