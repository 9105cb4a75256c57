package ocmirror

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
)

// Directory names oc-mirror writes, recognised so that pointing at a whole
// workspace reads only the cluster resources in it and not the gigabytes of
// catalog content and metadata beside them.
const (
	// V1Workspace is oc-mirror v1's working directory; only its results-*
	// directories hold cluster resources.
	V1Workspace = "oc-mirror-workspace"
	// V2WorkingDir is oc-mirror v2's working directory; only its
	// cluster-resources directory holds cluster resources.
	V2WorkingDir = "working-dir"
	// V2ClusterResources holds oc-mirror v2's idms-oc-mirror.yaml,
	// itms-oc-mirror.yaml and cs-*.yaml.
	V2ClusterResources = "cluster-resources"
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

// Read finds and reads the inputs of a merge. A path may name a file (read
// whatever its name), "-" for stdin, or a directory, read recursively in
// lexical order for *.yaml, *.yml and *.json, skipping hidden entries, with
// oc-mirror's layout recognised:
//
//   - oc-mirror-workspace/: only its results-<time>/ directories;
//   - results-<time>/: only the files directly in it (imageContentSourcePolicy.yaml,
//     catalogSource-*.yaml, ...), not release-signatures/;
//   - working-dir/: only its cluster-resources/ directory;
//   - cluster-resources/: only the files directly in it.
//
// A file reached twice is read once. Every problem is reported (errors.Join),
// each naming its file; on error the inputs that could be read are returned
// too, but a merge must not go ahead.
func Read(stdin io.Reader, paths ...string) ([]Input, error) {
	var inputs []Input
	var errs []error
	seen := map[string]bool{}
	add := func(file, name string, data []byte) {
		in, err := readInput(file, name, data)
		inputs = append(inputs, in)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range paths {
		if p == manifest.Stdin {
			if seen[p] {
				continue
			}
			seen[p] = true
			if stdin == nil {
				errs = append(errs, errors.New("-: standard input is not available"))
				continue
			}
			data, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, fmt.Errorf("<stdin>: %w", err))
				continue
			}
			add("<stdin>", "<stdin>", data)
			continue
		}
		files, err := findFiles(p)
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range files {
			abs, aerr := filepath.Abs(f)
			if aerr != nil {
				abs = f
			}
			if seen[abs] {
				continue
			}
			seen[abs] = true
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, manifest.PathError(f, err))
				continue
			}
			add(f, abs, data)
		}
	}
	return inputs, errors.Join(errs...)
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

// HasOwnOutput reports whether dir holds files of an earlier merge.
func HasOwnOutput(dir string) bool {
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

// Files expands paths the way every hcpmirror command reads -f: files as
// given ("-" too), directories walked for *.yaml, *.yml and *.json, except
// that inside an oc-mirror v1 workspace only results-*/ folders are read,
// inside a v2 working-dir only cluster-resources/, and only the files
// directly in those: the rest (catalog caches, signatures, oc-mirror's own
// state) can be gigabytes of JSON that are not cluster resources.
func Files(paths ...string) ([]string, error) {
	var out []string
	var errs []error
	for _, p := range paths {
		if p == manifest.Stdin {
			out = append(out, p)
			continue
		}
		files, err := findFiles(p)
		out = append(out, files...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// findFiles expands a path to the files to read, in lexical order.
func findFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, manifest.PathError(path, err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	var errs []error
	walkDir(path, &files, &errs)
	return files, errors.Join(errs...)
}

// walkDir adds the files of dir to files, applying oc-mirror's layout.
func walkDir(dir string, files *[]string, errs *[]error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		*errs = append(*errs, manifest.PathError(dir, err))
		return
	}
	base := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		base = filepath.Base(abs)
	}
	flat := base == V2ClusterResources || resultsDir.MatchString(base)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// A link to a file is read; links to directories are not followed.
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
		}
		switch {
		case isDir && flat:
			// release-signatures/ and the like: not cluster resources.
		case isDir && base == V1Workspace:
			if resultsDir.MatchString(name) {
				walkDir(p, files, errs)
			}
		case isDir && base == V2WorkingDir:
			if name == V2ClusterResources {
				walkDir(p, files, errs)
			}
		case isDir:
			walkDir(p, files, errs)
		case base == V1Workspace || base == V2WorkingDir:
			// Their loose files are oc-mirror's own state, not resources.
		case manifest.IsManifestName(name):
			*files = append(*files, p)
		}
	}
}
