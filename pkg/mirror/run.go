package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// Mode is one of oc-mirror's three workflows.
type Mode string

// The modes.
const (
	// MirrorToMirror copies from source registries into a registry.
	MirrorToMirror Mode = "mirrorToMirror"
	// MirrorToDisk copies from source registries into a directory.
	MirrorToDisk Mode = "mirrorToDisk"
	// DiskToMirror copies from a directory into a registry, never
	// contacting a source registry.
	DiskToMirror Mode = "diskToMirror"
)

// Options configures Run.
type Options struct {
	Mode Mode
	// Client reaches source and destination registries.
	Client *registry.Client
	// Destination is the registry root (host[:port][/path]) for
	// MirrorToMirror and DiskToMirror.
	Destination string
	// Dir is the disk-mode directory: written by MirrorToDisk, read by
	// DiskToMirror.
	Dir string
	// Workspace holds the record and the cluster resources: the
	// --workspace directory, or Dir in disk modes.
	Workspace string
	// Graphs and GraphURL reach the update service.
	Graphs   GraphSource
	GraphURL string
	Parallel int
	// DryRun resolves everything and writes the mapping and the cluster
	// resources it would write under working-dir/dry-run/, copying nothing.
	DryRun   bool
	Progress Progress
	// ICSP and SignaturesDir add optional cluster resources.
	ICSP          bool
	SignaturesDir string
}

// Report is the outcome of a run, printed by the command and written as
// report.json.
type Report struct {
	Mode        Mode      `json:"mode"`
	Destination string    `json:"destination"`
	Workspace   string    `json:"workspace"`
	DryRun      bool      `json:"dryRun,omitempty"`
	Releases    []Release `json:"releases,omitempty"`
	Results     []Result  `json:"results"`
	Blocked     []Blocked `json:"blocked,omitempty"`
	Notes       []string  `json:"notes,omitempty"`
	Planned     int       `json:"planned,omitempty"`
	Copied      int       `json:"copied"`
	Present     int       `json:"present"`
	Failed      int       `json:"failed"`
	Bytes       int64     `json:"bytes"`
	Seconds     float64   `json:"seconds"`
	// ClusterResources lists what was written, and where.
	ClusterResources *Resources `json:"clusterResources,omitempty"`
	// Interrupted is true when the run was cancelled.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Complete reports whether every requested image is in the destination.
func (r *Report) Complete() bool { return r.Failed == 0 && !r.Interrupted }

// Run plans, copies, records and writes cluster resources. Errors that stop
// the run before copying (bad configuration, unreachable update service,
// unreadable release image) are returned; failures of single images are
// in the report, and Report.Complete says whether everything arrived.
func Run(ctx context.Context, isc *imageset.ImageSetConfiguration, o Options) (*Report, error) {
	start := time.Now()
	rep := &Report{Mode: o.Mode, Destination: o.Destination, Workspace: o.Workspace, DryRun: o.DryRun}
	var src Source
	var dst Target
	var images []Image
	root := o.Destination
	// fetched are the update graphs this run resolved channels with.
	var fetched map[string]*cincinnati.Graph
	switch o.Mode {
	case MirrorToMirror, MirrorToDisk:
		graphs := o.Graphs
		if graphs == nil {
			graphs = &cincinnati.Client{}
		}
		rec := &recordingGraphs{next: graphs, got: map[string]*cincinnati.Graph{}}
		fetched = rec.got
		plan, err := NewPlan(ctx, isc, PlanOptions{Client: o.Client, Graphs: rec, GraphURL: o.GraphURL})
		if err != nil {
			return nil, err
		}
		images, rep.Releases, rep.Blocked, rep.Notes = plan.Images, plan.Releases, plan.Blocked, plan.Notes
		rs, err := NewRegistrySource(ctx, o.Client)
		if err != nil {
			return nil, err
		}
		src = rs
		if len(plan.Built) > 0 {
			if src, err = NewBuiltSource(plan.Built, rs); err != nil {
				return nil, err
			}
		}
		if o.Mode == MirrorToMirror {
			if dst, err = NewRegistryTarget(ctx, o.Client, o.Destination); err != nil {
				return nil, err
			}
		} else {
			l, err := OpenLayout(o.Dir)
			if err != nil {
				return nil, err
			}
			l.Remember(plan.Releases, rec.got)
			dst, root = l, LayoutRoot
		}
	case DiskToMirror:
		l, err := OpenLayout(o.Dir)
		if err != nil {
			return nil, err
		}
		if err := l.Check(); err != nil {
			return nil, err
		}
		plan, err := l.Plan(ctx, isc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Dir, err)
		}
		images, rep.Releases, rep.Blocked, rep.Notes = plan.Images, plan.Releases, plan.Blocked, plan.Notes
		if len(images) == 0 {
			return nil, fmt.Errorf("%s: holds nothing the configuration asks for; run `hcpmirror mirror -c ISC file://%s` first", o.Dir, o.Dir)
		}
		if held := len(l.Images()); held > len(images) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("disk to mirror: %d of the %d images held in %s are what the configuration asks for; only those are copied", len(images), held, o.Dir))
		}
		src = l
		if len(plan.Built) > 0 {
			if src, err = NewBuiltSource(plan.Built, l); err != nil {
				return nil, err
			}
		}
		if dst, err = NewRegistryTarget(ctx, o.Client, o.Destination); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown mode %q", o.Mode)
	}

	if o.DryRun {
		rep.Results = resolve(ctx, src, images, o.Parallel)
	} else {
		rep.Results = Copy(ctx, src, dst, images, CopyOptions{Parallel: o.Parallel, Progress: o.Progress})
	}
	for _, r := range rep.Results {
		switch r.Status {
		case StatusPlanned:
			rep.Planned++
		case StatusCopied:
			rep.Copied++
		case StatusPresent:
			rep.Present++
		case StatusFailed:
			rep.Failed++
		}
		rep.Bytes += r.Bytes
	}
	rep.Interrupted = ctx.Err() != nil
	rep.Seconds = time.Since(start).Seconds()

	// Record and write even after an interruption: what arrived is
	// recorded, and the resources cover it.
	ws := Workspace{Dir: o.Workspace}
	if l, ok := dst.(*Layout); ok && !o.DryRun {
		if err := l.Commit(rep.Results); err != nil {
			return rep, err
		}
	}
	if o.Mode == MirrorToDisk {
		rep.Notes = append(rep.Notes, "mirror to disk: cluster resources are written by the disk-to-mirror run, which knows the destination")
		return rep, nil
	}
	// A disk layout keeps its graphs in its index; a registry-to-registry
	// workspace keeps them beside its record, for verify -c offline.
	if o.Mode == MirrorToMirror && !o.DryRun {
		if err := ws.RememberGraphs(fetched); err != nil {
			return rep, fmt.Errorf("recording the update graphs in %s: %w", o.Workspace, err)
		}
	}
	var recs []Record
	var err error
	resDir := ""
	if o.DryRun {
		recs, err = ws.Records()
		if err != nil {
			return rep, err
		}
		recs = mergeRecords(recs, root, rep.Results)
		resDir = filepath.Join(o.Workspace, WorkingDir, "dry-run")
	} else if recs, err = ws.Add(root, rep.Results); err != nil {
		return rep, err
	}
	mapping := Mapping(root, rep.Results)
	report, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return rep, err
	}
	res, err := ws.WriteResources(recs, ResourceOptions{ICSP: o.ICSP, SignaturesDir: o.SignaturesDir, Mapping: mapping, Report: append(report, '\n'), Dir: resDir})
	if err != nil {
		return rep, err
	}
	rep.ClusterResources = res
	rep.Notes = append(rep.Notes, res.Notes...)
	return rep, nil
}

// resolve is a dry run's copy: every source is asked for its digest (one
// HEAD for a tag, nothing for a digest reference), nothing is written.
func resolve(ctx context.Context, src Source, images []Image, parallel int) []Result {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	out := make([]Result, len(images))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, im := range images {
		out[i] = Result{Image: im, Status: StatusPlanned}
		if d, ok := digestOf(im.Source); ok {
			out[i].Digest = d.String()
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := src.Digest(ctx, im.Source)
			if err != nil {
				out[i] = failed(im, &copyError{SideSource, err})
				return
			}
			out[i].Digest = d.String()
		}()
	}
	wg.Wait()
	return out
}

// mergeRecords adds planned results to recs without writing them.
func mergeRecords(recs []Record, root string, results []Result) []Record {
	out := append([]Record(nil), recs...)
	for _, r := range results {
		if r.Status == StatusPlanned {
			out = append(out, Record{Image: r.Image, Root: root, Digest: r.Digest})
		}
	}
	return out
}

// Mapping is mapping.txt: one source=destination line per image, sorted.
func Mapping(root string, results []Result) []byte {
	lines := make([]string, 0, len(results))
	for _, r := range results {
		lines = append(lines, r.Image.Source+"="+r.Image.Dest(root))
	}
	sort.Strings(lines)
	return []byte(strings.Join(lines, "\n") + "\n")
}

// ErrIncomplete is returned by commands whose run did not put every
// requested image in the destination.
var ErrIncomplete = errors.New("not every requested image is in the destination")
