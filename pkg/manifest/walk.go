package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// Directory names oc-mirror writes. A walk recognises them so that pointing
// at a whole workspace reads only the cluster resources in it, not the
// gigabytes of catalog content and metadata beside them.
const (
	// ocMirrorV1Workspace is oc-mirror v1's working directory; only its
	// results-* directories hold cluster resources.
	ocMirrorV1Workspace = "oc-mirror-workspace"
	// OCMirrorWorkingDir is oc-mirror v2's working directory; only its
	// cluster-resources directory holds cluster resources.
	OCMirrorWorkingDir = "working-dir"
	// OCMirrorClusterResources holds oc-mirror v2's idms-oc-mirror.yaml,
	// itms-oc-mirror.yaml and cs-*.yaml.
	OCMirrorClusterResources = "cluster-resources"
)

// ocMirrorResultsDir matches oc-mirror v1's per-run directory, results-<unix time>.
var ocMirrorResultsDir = regexp.MustCompile(`^results-[0-9]+$`)

// Files expands paths to the files every hcpmirror command reads for -f, in
// the order given, each file once (a file reached twice is read the first
// time). Stdin ("-") is kept as is, once.
//
// A file named explicitly is read whatever its name; a path given is
// followed even when it is a symbolic link. A directory is read
// recursively, in lexical order, for *.yaml, *.yml and *.json, skipping
// hidden entries (".git", editor swap files), with oc-mirror's layout
// recognised: inside oc-mirror-workspace/ only its results-<time>/
// directories are read, inside working-dir/ only cluster-resources/, and of
// those only the files directly in them (not release-signatures/). The rest
// (catalog caches, signatures, oc-mirror's own state) can be gigabytes of
// JSON that are not cluster resources.
//
// Inside a directory, a symbolic link to a file is read; a link to a
// directory is not followed (so that no link can make the walk endless or
// leave the tree), and neither is a dangling or looping link. Each link
// left out is returned as a note, "path: reason", for the caller to show.
//
// Every unreadable path is reported (errors.Join), and the walk carries on.
func Files(paths ...string) (files, notes []string, err error) {
	w := &walk{seen: map[string]bool{}}
	for _, p := range paths {
		if p == Stdin {
			w.add(p, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			w.errs = append(w.errs, PathError(p, err))
			continue
		}
		if !st.IsDir() {
			w.addFile(p)
			continue
		}
		w.dir(p)
	}
	return w.files, w.notes, errors.Join(w.errs...)
}

type walk struct {
	files, notes []string
	errs         []error
	seen         map[string]bool
}

func (w *walk) add(key, file string) {
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.files = append(w.files, file)
}

func (w *walk) addFile(p string) {
	key, err := filepath.Abs(p)
	if err != nil {
		key = p
	}
	w.add(key, p)
}

// dir adds the files of dir, applying oc-mirror's layout.
func (w *walk) dir(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.errs = append(w.errs, PathError(dir, err))
		return
	}
	base := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		base = filepath.Base(abs)
	}
	flat := base == OCMirrorClusterResources || ocMirrorResultsDir.MatchString(base)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			var why string
			switch {
			case err == nil && st.IsDir():
				why = "skipping symbolic link to a directory: links to directories are not followed (give the target with -f)"
			case !IsManifestName(name):
				continue // not read, whatever it points at
			case errors.Is(err, syscall.ELOOP):
				why = "skipping symbolic link: it loops"
			case err != nil:
				why = "skipping dangling symbolic link"
			case !st.Mode().IsRegular():
				why = "skipping symbolic link to something other than a file"
			}
			if why != "" {
				w.notes = append(w.notes, p+": "+why)
				continue
			}
		}
		switch {
		case isDir && flat:
			// release-signatures/ and the like: not cluster resources.
		case isDir && base == ocMirrorV1Workspace:
			if ocMirrorResultsDir.MatchString(name) {
				w.dir(p)
			}
		case isDir && base == OCMirrorWorkingDir:
			if name == OCMirrorClusterResources {
				w.dir(p)
			}
		case isDir:
			w.dir(p)
		case base == ocMirrorV1Workspace || base == OCMirrorWorkingDir:
			// Their loose files are oc-mirror's own state, not resources.
		case IsManifestName(name):
			w.addFile(p)
		}
	}
}
