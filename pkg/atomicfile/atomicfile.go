// Package atomicfile writes files so that a reader, or a command run after a
// failure, never sees half a result.
//
// hcpmirror's outputs are applied to clusters as they are found on disk
// (`oc apply -f DIR`). A truncated ImageDigestMirrorSet, or a directory where
// one file is new and its sibling still old, would drop mirrors from every
// node that reads it, so each file is written to a temporary file in the same
// directory, flushed to disk, and renamed over its target; a set of files is
// staged completely before the first rename and rolled back if any rename
// fails.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// rename is os.Rename, replaced in tests to fail part-way through a set.
var rename = os.Rename

// DefaultPerm is the mode of files written here: manifests and
// configuration are not secret, and other tools (oc, an editor) must read them.
const DefaultPerm fs.FileMode = 0o644

// WriteFile replaces name with data atomically: a reader sees the old content
// or the new one, never a mix, and on error the old file is left untouched.
// The parent directory must exist.
func WriteFile(name string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(name)
	tmp, err := stage(dir, filepath.Base(name), data, perm)
	if err != nil {
		return err
	}
	if err := rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
	}
	return syncDir(dir)
}

// File is one member of a set written by WriteDir.
type File struct {
	// Name is a plain file name inside the directory, without a separator.
	Name string
	Data []byte
}

// WriteDir makes dir hold files (creating dir when missing) and removes the
// files named in remove that are not among them, as one change: when it
// returns an error nothing in dir has changed. Files of dir named in neither
// list are left alone.
//
// All new content is written and flushed before the first existing file is
// touched, and every replaced or removed file is kept aside until the end, so
// a failure part-way through puts the old files back. Only a crash of the
// machine during the final renames can leave a mix of old and new files, each
// one of them complete.
func WriteDir(dir string, files []File, remove []string, perm fs.FileMode) (err error) {
	seen := map[string]bool{}
	for _, f := range files {
		if err := checkName(f.Name); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		if seen[f.Name] {
			return fmt.Errorf("writing %s: file %q given twice", dir, f.Name)
		}
		seen[f.Name] = true
	}
	var stale []string
	for _, name := range remove {
		if err := checkName(name); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		if !seen[name] {
			stale = append(stale, name)
		}
	}

	created, err := ensureDir(dir)
	if err != nil {
		return err
	}
	var t txn
	defer func() {
		if err != nil {
			t.rollback()
			if created {
				os.Remove(dir) // only succeeds while empty
			}
		}
	}()

	// Stage every new file before touching any old one.
	staged := make([]string, len(files))
	for i, f := range files {
		tmp, err := stage(dir, f.Name, f.Data, perm)
		if err != nil {
			return err
		}
		t.temps = append(t.temps, tmp)
		staged[i] = tmp
	}
	// Keep a copy of every file about to be replaced, then move the stale
	// files aside: both are undone by renaming back.
	for _, f := range files {
		target := filepath.Join(dir, f.Name)
		backup, err := keepAside(dir, target, false)
		if err != nil {
			return err
		}
		t.replaced = append(t.replaced, replacement{target: target, backup: backup})
	}
	for _, name := range stale {
		target := filepath.Join(dir, name)
		backup, err := keepAside(dir, target, true)
		if err != nil {
			return err
		}
		if backup != "" {
			t.removed = append(t.removed, replacement{target: target, backup: backup})
		}
	}
	for i, f := range files {
		target := filepath.Join(dir, f.Name)
		if err := rename(staged[i], target); err != nil {
			return fmt.Errorf("writing %s: %w", target, unwrapPath(err))
		}
		t.temps[i] = ""
		t.done = i + 1
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	t.commit()
	return nil
}

// Names lists the regular files directly in dir whose names match one of the
// shell patterns (filepath.Match), sorted; a missing dir has none. Callers use
// it to find the files of an earlier run to pass to WriteDir as remove.
func Names(dir string, patterns ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, unwrapPath(err))
	}
	var out []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, e.Name()); ok {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out, nil
}

type replacement struct {
	target string
	backup string // empty when the target did not exist
}

// txn remembers what WriteDir changed so that it can be undone.
type txn struct {
	temps    []string // staged files not yet renamed ("" once renamed)
	replaced []replacement
	removed  []replacement
	done     int // how many of replaced have been renamed over
}

func (t *txn) rollback() {
	for _, tmp := range t.temps {
		if tmp != "" {
			os.Remove(tmp)
		}
	}
	for i := t.done - 1; i >= 0; i-- {
		r := t.replaced[i]
		if r.backup != "" {
			os.Rename(r.backup, r.target)
		} else {
			os.Remove(r.target)
		}
	}
	for i := t.done; i < len(t.replaced); i++ {
		if b := t.replaced[i].backup; b != "" {
			os.Remove(b)
		}
	}
	for _, r := range t.removed {
		os.Rename(r.backup, r.target)
	}
}

func (t *txn) commit() {
	for _, r := range t.replaced {
		if r.backup != "" {
			os.Remove(r.backup)
		}
	}
	for _, r := range t.removed {
		os.Remove(r.backup)
	}
}

// stage writes data to a new hidden temporary file next to name's target and
// flushes it, returning its path.
func stage(dir, name string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", filepath.Join(dir, name), unwrapPath(err))
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("writing %s: %w", filepath.Join(dir, name), unwrapPath(err))
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("writing %s: %w", filepath.Join(dir, name), unwrapPath(err))
	}
	return tmp, nil
}

// keepAside preserves target under a temporary name so that it can be put
// back. With move it is renamed away (the file is being removed); otherwise a
// hard link (or, where links are unsupported, a copy) is made and target
// stays in place until the new content is renamed over it. It returns "" when
// target does not exist.
func keepAside(dir, target string, move bool) (string, error) {
	st, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", target, unwrapPath(err))
	}
	if st.IsDir() {
		return "", fmt.Errorf("writing %s: is a directory", target)
	}
	backup, err := reserve(dir, filepath.Base(target))
	if err != nil {
		return "", err
	}
	if move {
		if err := os.Rename(target, backup); err != nil {
			os.Remove(backup)
			return "", fmt.Errorf("removing %s: %w", target, unwrapPath(err))
		}
		return backup, nil
	}
	os.Remove(backup) // Link needs the name free
	if err := os.Link(target, backup); err == nil {
		return backup, nil
	}
	if err := copyFile(target, backup, st.Mode().Perm()); err != nil {
		os.Remove(backup)
		return "", fmt.Errorf("writing %s: keeping the old content: %w", target, unwrapPath(err))
	}
	return backup, nil
}

// reserve creates an empty, uniquely named hidden file in dir.
func reserve(dir, name string) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".old-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", filepath.Join(dir, name), unwrapPath(err))
	}
	f.Close()
	return f.Name(), nil
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ensureDir creates dir (and its parents) when missing and reports whether it
// did, so that a failed write can remove what it created.
func ensureDir(dir string) (bool, error) {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return false, fmt.Errorf("writing %s: not a directory", dir)
		}
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("writing %s: %w", dir, unwrapPath(err))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", dir, unwrapPath(err))
	}
	return true, nil
}

// syncDir flushes a directory so that renames in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, unwrapPath(err))
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the renames are done anyway.
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing %s: %w", dir, unwrapPath(err))
	}
	return nil
}

// checkName refuses names that would escape the directory or hide among the
// temporary files.
func checkName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("invalid file name %q", name)
	case strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0):
		return fmt.Errorf("file name %q must not contain a path separator", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("file name %q must not start with a dot", name)
	}
	return nil
}

// unwrapPath drops the operation and path of an *fs.PathError: callers put
// the path they care about in front themselves.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
