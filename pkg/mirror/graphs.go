package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
)

// GraphsFile, in a workspace's state directory, holds the update graphs its
// mirror runs resolved channels with (by channel/arch, the newest fetch of
// each), so that `verify -c` inside the disconnected data centre, where the
// update service is out of reach, selects releases as the mirror run did.
// A disk layout keeps the same graphs in its own index.
const GraphsFile = "update-graphs.json"

func (w Workspace) graphsPath() string {
	return filepath.Join(w.Dir, WorkingDir, StateDir, GraphsFile)
}

// readGraphs reads the graphs file at path; a missing file holds none.
func readGraphs(path string) (map[string]*cincinnati.Graph, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the recorded update graphs: %w", err)
	}
	var gs map[string]*cincinnati.Graph
	if err := json.Unmarshal(b, &gs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return gs, nil
}

// RememberGraphs adds the graphs a run fetched to the workspace's graphs
// file, replacing older fetches of the same channel and architecture.
// Written atomically.
func (w Workspace) RememberGraphs(got map[string]*cincinnati.Graph) error {
	if len(got) == 0 {
		return nil
	}
	gs, err := readGraphs(w.graphsPath())
	if err != nil {
		return err
	}
	if gs == nil {
		gs = map[string]*cincinnati.Graph{}
	}
	maps.Copy(gs, got)
	b, err := json.MarshalIndent(gs, "", "  ") // map keys sorted: deterministic
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(w.graphsPath()), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(w.graphsPath(), append(b, '\n'), atomicfile.DefaultPerm)
}

// RecordedGraphs are the update graphs held by the directories among verify's
// -f inputs: a registry-to-registry workspace's graphs file, and a disk
// layout's index (the file:// directory of mirror to disk and disk to
// mirror).
type RecordedGraphs struct {
	graphs map[string]*cincinnati.Graph
	from   map[string]string // key -> file it was read from
}

// ReadRecordedGraphs reads the graphs each directory among paths holds;
// paths that are files, or directories holding none, add nothing.
func ReadRecordedGraphs(paths []string) (*RecordedGraphs, error) {
	r := &RecordedGraphs{graphs: map[string]*cincinnati.Graph{}, from: map[string]string{}}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			continue
		}
		add := func(file string, gs map[string]*cincinnati.Graph) {
			for _, k := range slices.Sorted(maps.Keys(gs)) {
				if _, ok := r.graphs[k]; !ok {
					r.graphs[k], r.from[k] = gs[k], file
				}
			}
		}
		ws := Workspace{Dir: p}
		gs, err := readGraphs(ws.graphsPath())
		if err != nil {
			return nil, err
		}
		add(ws.graphsPath(), gs)
		index := filepath.Join(p, LayoutIndexFile)
		if _, err := os.Stat(index); err == nil {
			l, err := OpenLayout(p)
			if err != nil {
				return nil, err
			}
			add(index, l.index.Graphs)
		}
	}
	return r, nil
}

// Len is how many channel/architecture graphs are held.
func (r *RecordedGraphs) Len() int {
	if r == nil {
		return 0
	}
	return len(r.graphs)
}

// fallbackGraphs asks the update service first and, when it does not answer
// with a graph (unreachable, refused, timed out: what it is from inside a
// disconnected data centre; any other error too, since the note names it),
// answers from the recorded graphs, noting that it did.
type fallbackGraphs struct {
	live     GraphSource
	recorded *RecordedGraphs

	mu    sync.Mutex
	notes []string
}

func (f *fallbackGraphs) Graph(ctx context.Context, endpoint, channel, arch string) (*cincinnati.Graph, error) {
	g, err := f.live.Graph(ctx, endpoint, channel, arch)
	if err == nil || ctx.Err() != nil || f.recorded == nil {
		return g, err
	}
	k := graphKey(channel, arch)
	held, ok := f.recorded.graphs[k]
	if !ok {
		if f.recorded.Len() == 0 {
			return nil, fmt.Errorf("%w (no update graph is recorded in the -f directories either: give the mirror workspace or disk directory with -f)", err)
		}
		return nil, fmt.Errorf("%w (and no update graph for channel %s (%s) is recorded in the -f directories: mirror that channel first)", err, channel, arch)
	}
	f.mu.Lock()
	f.notes = append(f.notes, fmt.Sprintf("channel %s (%s) resolved from the update graph recorded by the mirror run in %s: the update service did not answer (%v)", channel, arch, f.recorded.from[k], err))
	f.mu.Unlock()
	return held, nil
}
