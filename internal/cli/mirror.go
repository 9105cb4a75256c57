package cli

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/mirror"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

func newMirrorCommand() *cobra.Command {
	var (
		config, workspace, from string
		graphURL, signatures    string
		parallel                int
		dryRun, quiet, icsp     bool
		reg                     registryFlags
	)
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "mirror -c ISC.yaml (--workspace DIR docker://HOST[:PORT][/PATH] | file://DIR | --from file://DIR docker://HOST[:PORT][/PATH]) [-o text|json|yaml]",
		Short: "Mirror what an ImageSetConfiguration names into a registry or a directory",
		Long: `Mirror copies the releases, KubeVirt boot images, additional images and
operator catalogs (each filtered to the packages asked for and rebuilt, with
their bundle and related images) an ImageSetConfiguration
(mirror.openshift.io/v1alpha2 or v2alpha1) names, in one of oc-mirror v2's
three modes:

  registry to registry   -c ISC --workspace DIR docker://HOST[:PORT][/PATH]
  registry to disk       -c ISC file://DIR
  disk to registry       -c ISC --from file://DIR docker://HOST[:PORT][/PATH]

Destinations are laid out as oc-mirror v2 lays them out
(<dest>/openshift/release-images:<version>-<arch>,
<dest>/openshift/release:<version>-<arch>-<component>, other images at
<dest>/<source path>), so registries filled by either tool are interchangeable.

After every run the complete cluster resources for everything this workspace
has mirrored so far are written to <workspace>/working-dir/cluster-resources/:
idms-hcpmirror.yaml and itms-hcpmirror.yaml (one entry per source repository),
the HostedCluster imageContentSources snippet, mapping.txt and report.json,
plus ImageContentSourcePolicies with --icsp and the release signatures
ConfigMap with --release-signatures. "hcpmirror verify -f <workspace>" and
resolve, lint and merge read them as they read oc-mirror's.

Images already in the destination cost one HEAD request. A failing image does
not stop the others. Exit status 0 only when every requested image is in the
destination; otherwise 1, with each failed image, the side that failed (source
or destination) and why. Ctrl-C stops within seconds; run again to finish.`,
		Example: `  hcpmirror mirror -c imageset-config.yaml --workspace ./ws docker://registry.sample.lab:5000
  hcpmirror mirror -c imageset-config.yaml file:///mnt/usb/mirror
  hcpmirror mirror -c imageset-config.yaml --from file:///mnt/usb/mirror docker://registry.sample.lab:5000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stderr := cmd.ErrOrStderr()
			usage := usageErrorf
			if config == "" {
				return usage("-c ISC.yaml is required")
			}
			if parallel < 1 {
				return usage("--parallel %d: want at least 1", parallel)
			}
			opts := mirror.Options{GraphURL: graphURL, Parallel: parallel, DryRun: dryRun, ICSP: icsp, SignaturesDir: signatures}
			dest := args[0]
			switch {
			case strings.HasPrefix(dest, "docker://") && from != "":
				dir, ok := strings.CutPrefix(from, "file://")
				if !ok || dir == "" {
					return usage("--from %q: want file://DIR", from)
				}
				if workspace != "" {
					return usage("--workspace is the --from directory in disk-to-mirror mode; do not give both")
				}
				opts.Mode, opts.Dir, opts.Workspace = mirror.DiskToMirror, dir, dir
			case strings.HasPrefix(dest, "docker://"):
				if workspace == "" {
					return usage("--workspace DIR is required for registry to registry (it keeps the record and the cluster resources)")
				}
				opts.Mode, opts.Workspace = mirror.MirrorToMirror, strings.TrimPrefix(workspace, "file://")
			case strings.HasPrefix(dest, "file://"):
				if from != "" {
					return usage("--from needs a docker:// destination")
				}
				if workspace != "" {
					return usage("--workspace is the file:// directory in registry-to-disk mode; do not give both")
				}
				dir := strings.TrimPrefix(dest, "file://")
				if dir == "" {
					return usage("%q: want file://DIR", dest)
				}
				opts.Mode, opts.Dir, opts.Workspace = mirror.MirrorToDisk, dir, dir
			default:
				return usage("destination %q: want docker://HOST[:PORT][/PATH] or file://DIR", dest)
			}
			if root, ok := strings.CutPrefix(dest, "docker://"); ok {
				root = strings.TrimSuffix(root, "/")
				if root == "" || strings.ContainsAny(root, "@ ") {
					return usage("destination %q: want docker://HOST[:PORT][/PATH]", dest)
				}
				opts.Destination = root
			}

			isc, notes, err := imageset.Load(config)
			if err != nil {
				return err
			}
			if !quiet {
				for _, n := range notes {
					fmt.Fprintf(stderr, "note: %s\n", n)
				}
			}
			// --parallel images each stream a few blobs: let that many
			// requests per registry be in flight.
			client, err := registry.New(append(reg.options(), registry.WithMaxConcurrentPerRegistry(max(registry.DefaultMaxConcurrentPerRegistry, 2*parallel)))...)
			if err != nil {
				return err
			}
			defer client.Close()
			opts.Client = client
			opts.Graphs = &cincinnati.Client{HTTP: &http.Client{Transport: graphTransport{tls: client.HTTPTransport()}}}
			var prog *mirrorProgress
			if !quiet && !dryRun {
				prog = newMirrorProgress(stderr, isTerminal(stderr))
				opts.Progress = prog
			}
			rep, err := mirror.Run(cmd.Context(), isc, opts)
			prog.wait()
			if err != nil {
				return err
			}
			if !out.is(formatText) {
				if err := out.print(cmd.OutOrStdout(), rep, nil); err != nil {
					return err
				}
			} else if !quiet {
				printMirrorReport(cmd.OutOrStdout(), rep)
			} else {
				for _, r := range rep.Results {
					if r.Status == mirror.StatusFailed {
						fmt.Fprintf(stderr, "failed: %s (%s): %s\n", r.Image.Source, r.Side, r.Error)
					}
				}
			}
			switch {
			case rep.Interrupted:
				if !quiet {
					fmt.Fprintln(stderr, "hcpmirror mirror: interrupted; run the same command again to finish")
				}
				return &ExitError{Code: 130}
			case !rep.Complete():
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&config, "config", "c", "", "ImageSetConfiguration file (mirror.openshift.io/v1alpha2 or v2alpha1)")
	f.StringVar(&workspace, "workspace", "", "workspace directory (file://DIR or DIR) for registry to registry: the record of what was mirrored and working-dir/cluster-resources/")
	f.StringVar(&from, "from", "", "file://DIR written by an earlier registry-to-disk run: copy from it, never contacting a source registry")
	f.StringVar(&graphURL, "graph-url", "", "update graph endpoint (default $"+cincinnati.EnvURLOverride+", else "+cincinnati.DefaultURL+")")
	f.IntVar(&parallel, "parallel", mirror.DefaultParallel, "images copied at once")
	f.BoolVar(&dryRun, "dry-run", false, "resolve everything and write the mapping and the cluster resources it would write to working-dir/dry-run/; copy nothing")
	f.BoolVarP(&quiet, "quiet", "q", false, "print nothing but failures")
	out.register(cmd)
	f.StringVar(&signatures, "release-signatures", "", "directory of release signatures (sha256=<hex>/signature-N, or files named sha256-<hex>-N) to publish as the mirrored-release-signatures ConfigMap")
	f.BoolVar(&icsp, "icsp", false, "also write ImageContentSourcePolicies (icsp-hcpmirror.yaml) for clusters older than ImageDigestMirrorSet")
	reg.register(cmd)
	return cmd
}

// printMirrorReport is the text report.
func printMirrorReport(w io.Writer, rep *mirror.Report) {
	for _, r := range rep.Releases {
		ch := ""
		if r.Channel != "" {
			ch = " from " + r.Channel
		}
		fmt.Fprintf(w, "release %s (%s)%s: %s, %d components\n", r.Version, r.Arch, ch, r.Image, r.Components)
	}
	for _, b := range rep.Blocked {
		fmt.Fprintf(w, "blocked: %s (blockedImages %q): not copied\n", b.Image.Source, b.Pattern)
	}
	for _, r := range rep.Results {
		if r.Status == mirror.StatusFailed {
			kind := ""
			if r.Kind != "" {
				kind = " [" + r.Kind + "]"
			}
			fmt.Fprintf(w, "FAILED: %s -> %s: %s side%s: %s\n", r.Image.Source, r.Image.Repo+":"+r.Image.Tag, r.Side, kind, r.Error)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	verb := "copied"
	if rep.DryRun {
		verb = "planned"
	}
	fmt.Fprintf(w, "%d images: %d %s, %d already present, %d failed, %d blocked; %s sent in %.1fs\n",
		len(rep.Results), rep.Copied+rep.Planned, verb, rep.Present, rep.Failed, len(rep.Blocked), humanBytes(rep.Bytes), rep.Seconds)
	if cr := rep.ClusterResources; cr != nil {
		fmt.Fprintf(w, "cluster resources in %s: %s\n", cr.Dir, strings.Join(cr.Files, ", "))
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// mirrorProgress draws one live display on a terminal (images done of all,
// bytes and rate, images in flight) and prints one plain line per finished
// image elsewhere.
type mirrorProgress struct {
	w        io.Writer
	terminal bool

	total    int
	done     atomic.Int64
	inFlight atomic.Int64
	bytes    atomic.Int64

	mu     sync.Mutex
	p      *mpb.Progress
	images *mpb.Bar
	data   *mpb.Bar
}

func newMirrorProgress(w io.Writer, terminal bool) *mirrorProgress {
	return &mirrorProgress{w: w, terminal: terminal}
}

func (m *mirrorProgress) Start(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.total = n
	if !m.terminal {
		fmt.Fprintf(m.w, "mirroring %d images\n", n)
		return
	}
	m.p = mpb.New(mpb.WithOutput(m.w), mpb.WithWidth(40), mpb.WithAutoRefresh())
	m.images = m.p.AddBar(int64(n),
		mpb.PrependDecorators(decor.Name("images "), decor.CountersNoUnit("%d/%d")),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			return fmt.Sprintf("%d in flight", m.inFlight.Load())
		})))
	m.data = m.p.AddBar(0,
		mpb.PrependDecorators(decor.Name("bytes  "), decor.Current(decor.SizeB1024(0), "% .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f")))
}

func (m *mirrorProgress) ImageStarted(mirror.Image) { m.inFlight.Add(1) }

func (m *mirrorProgress) ImageDone(r mirror.Result) {
	m.inFlight.Add(-1)
	n := m.done.Add(1)
	if m.terminal {
		m.images.Increment()
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	line := fmt.Sprintf("[%d/%d] %s %s -> %s:%s", n, m.total, r.Status, r.Image.Source, r.Image.Repo, r.Image.Tag)
	if r.Status == mirror.StatusFailed {
		line += fmt.Sprintf(" (%s: %s)", r.Side, r.Error)
	}
	fmt.Fprintln(m.w, line)
}

func (m *mirrorProgress) Bytes(n int64) {
	m.bytes.Add(n)
	if m.terminal && m.data != nil {
		m.data.IncrInt64(n)
	}
}

// wait ends the live display.
func (m *mirrorProgress) wait() {
	if m == nil || m.p == nil {
		return
	}
	// Complete both bars where they stand (an interrupted run stops short
	// of its total), so the last frame stays on the screen.
	m.images.SetTotal(-1, true)
	m.data.SetTotal(-1, true)
	m.p.Wait()
}

var _ mirror.Progress = (*mirrorProgress)(nil)

// graphTransport sends https:// update-service requests through the registry
// client's trust (--ca-file, --cert-dir) and retries; an http:// URL given
// with --graph-url or UPDATE_URL_OVERRIDE was chosen as plain HTTP by the user.
type graphTransport struct{ tls http.RoundTripper }

func (g graphTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" {
		return http.DefaultTransport.RoundTrip(r)
	}
	return g.tls.RoundTrip(r)
}
