package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
	"github.com/hcpmirror/hcpmirror/pkg/mirror"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// verifyResult is `verify -o json`; its field names are a stable interface
// for scripts.
type verifyResult struct {
	Release *verifyRelease `json:"release"`
	Summary verifySummary  `json:"summary"`
	Images  []verifyImage  `json:"images"`
	// Catalogs are verify -c's operator catalogs: which copy was read.
	Catalogs []verifyCatalog `json:"catalogs,omitempty"`
	// Notes say how verify -c found releases without the update service.
	Notes []string `json:"notes,omitempty"`
}

type verifyRelease struct {
	Reference string `json:"reference"`
	Image     string `json:"image"`
	Version   string `json:"version"`
	PullFrom  string `json:"pullFrom"`
}

type verifySummary struct {
	Checked   int `json:"checked"`
	Reachable int `json:"reachable"`
	Missing   int `json:"missing"`
	Flagged   int `json:"flagged"`
}

type verifyImage struct {
	Kind          string          `json:"kind"`
	Name          string          `json:"name"`
	Image         string          `json:"image"`
	Source        string          `json:"source,omitempty"`
	SourceBlocked bool            `json:"sourceBlocked"`
	PullSources   []string        `json:"pullSources"`
	Reachable     bool            `json:"reachable"`
	ServedBy      string          `json:"servedBy,omitempty"`
	Digest        string          `json:"digest,omitempty"`
	Unpinned      bool            `json:"unpinned,omitempty"`
	Error         string          `json:"error,omitempty"`
	Attempts      []verifyAttempt `json:"attempts,omitempty"`
	Notes         []verifyNote    `json:"notes,omitempty"`
}

type verifyAttempt struct {
	Reference string `json:"reference"`
	Registry  string `json:"registry,omitempty"`
	Kind      string `json:"kind"`
	Error     string `json:"error"`
}

type verifyNote struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

func newVerifyCommand() *cobra.Command {
	var (
		sets        setFlags
		reg         registryFlags
		image       string
		iscPath     string
		graphURL    string
		concurrency int
		quiet       bool
	)
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "verify (--release IMAGE | -c ISC.yaml) [-f MIRRORSETS]... [--concurrency N] [-q] [-o text|json|yaml]",
		Short: "Check that every image of a release can be pulled through the mirrors",
		Long: `Verify reads the release named by --release through the mirror sets, then
checks that everything a hosted cluster pulls from it is reachable: the release
image (by its resolved digest, which is what HyperShift runs), every component
in image-references, and the KubeVirt boot image from the CoreOS stream, which
image-references does not list. Each image gets a HEAD request through its own
pull sources, exactly as a node would try them: mirrors first, the source last,
and a NeverContactSource source never.

For every image no pull source served, verify prints the mirror-set source
that covers it and each attempt's physical reference and failure kind
(unauthorized, tls, not found, unreachable, rate limited, server error, digest
mismatch). Images referenced by tag (HCM017) and repositories no mirror covers
(HCM009, HCM030 for the KubeVirt image) are flagged even when reachable here,
because a disconnected cluster could not pull them.

Missing images are grouped by where and how they failed (the mirror
repositories tried and each one's failure kind), so a mirror lacking a whole
repository reads as one group, and the summary is repeated at the end.

A progress bar is drawn on stderr when it is a terminal. -q prints nothing but
one line per missing or unmirrored image, on stdout, for scripts; with -o json
it only turns the progress bar off.

With -c, each operator catalog is read the way the cluster reads it: from the
image of the CatalogSource or ClusterCatalog among the -f inputs that serves it
(a mirror run's cs-*.yaml and cc-*.yaml), else through the mirror sets, so the
upstream registry need not be reachable. Every bundle a rebuilt catalog offers
is checked; the configuration's packages filter only the upstream catalog. The
report says which copy was read, or every place tried.

Exit status 1 if anything is missing.`,
		Example: `  hcpmirror verify -f mirrorsets.yaml --release quay.io/openshift-release-dev/ocp-release@sha256:...
  hcpmirror verify -f idms.yaml --authfile pull-secret.json --ca-file mirror-ca.pem --release quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64
  hcpmirror verify -f idms.yaml -q --release ... && echo mirrored`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if image == "" && iscPath == "" {
				return usageErrorf("--release or -c is required: the release image or the ImageSetConfiguration to verify")
			}
			if image != "" && iscPath != "" {
				return usageErrorf("give --release or -c, not both")
			}
			if concurrency < 1 {
				return usageErrorf("--concurrency %d: want at least 1", concurrency)
			}
			stderr := cmd.ErrOrStderr()
			var catalogs catalogObjects
			if iscPath != "" {
				sets.take = catalogs.take
			}
			cfg, err := sets.compileOptional(stderr)
			if err != nil {
				return err
			}
			p, err := releaseinfo.New(releaseinfo.WithRegistryOptions(reg.options()...))
			if err != nil {
				return err
			}
			defer p.Close()
			opts := releaseinfo.VerifyOptions{Concurrency: concurrency}
			var bar *progressBar
			if !quiet {
				bar = terminalBar(stderr)
			}
			if bar != nil {
				opts.Progress = bar.update
			}
			bar.reading(cfg, image)
			var rep *releaseinfo.VerifyReport
			var reads []mirror.CatalogRead
			var notes []string
			if iscPath != "" {
				var isr *mirror.ImageSetReport
				if isr, err = verifyImageSet(cmd.Context(), p, cfg, catalogs.objs, sets.paths, iscPath, graphURL, reg, opts); err == nil {
					rep, reads, notes = &isr.VerifyReport, isr.Catalogs, isr.Notes
				}
			} else {
				rep, err = p.Verify(cmd.Context(), cfg, image, nil, opts)
			}
			bar.clear()
			if err != nil {
				return err
			}
			res := newVerifyResult(rep)
			res.Catalogs = newVerifyCatalogs(reads)
			res.Notes = notes
			if out.is(formatText) && !quiet {
				for _, n := range notes {
					fmt.Fprintf(stderr, "note: %s\n", n)
				}
			}
			switch {
			case !out.is(formatText):
				if err := out.print(cmd.OutOrStdout(), res, nil); err != nil {
					return err
				}
			case quiet:
				w := cmd.OutOrStdout()
				for _, img := range res.Images {
					if !img.Reachable {
						fmt.Fprintf(w, "missing %s: %s\n", describeImage(img), img.Error)
					}
				}
				for _, c := range rep.Unmirrored() {
					fmt.Fprintf(w, "not mirrored %s: %s\n", c.Name, c.Image)
				}
			default:
				if rep.Release != nil {
					for _, w := range rep.Release.Warnings {
						fmt.Fprintf(stderr, "warning: %s\n", w)
					}
				}
				printVerify(cmd.OutOrStdout(), res, len(rep.Unmirrored()))
			}
			if !rep.OK() {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	sets.register(cmd)
	reg.register(cmd)
	cmd.Flags().StringVar(&image, "release", "", "release image to verify, by tag or digest (or -c)")
	cmd.Flags().StringVarP(&iscPath, "config", "c", "", "ImageSetConfiguration: verify every image it names (releases from the update graph, components, KubeVirt images, additional images, operator bundles and related images; each catalog read from the image of its CatalogSource or ClusterCatalog among the -f inputs, else through the mirror sets); see --graph-url")
	cmd.Flags().StringVar(&graphURL, "graph-url", "", "update graph endpoint for -c (default $UPDATE_URL_OVERRIDE, else OpenShift's public update service)")
	cmd.Flags().IntVar(&concurrency, "concurrency", releaseinfo.DefaultVerifyConcurrency, "images checked at once")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only missing and unmirrored images, one per line on stdout; no progress bar")
	out.register(cmd)
	return cmd
}

func newVerifyResult(rep *releaseinfo.VerifyReport) *verifyResult {
	res := &verifyResult{Images: []verifyImage{}}
	if r := rep.Release; r != nil {
		res.Release = &verifyRelease{Reference: r.Reference, Image: r.Image, Version: r.Version, PullFrom: r.ServedBy}
	}
	for i := range rep.Checks {
		c := &rep.Checks[i]
		img := verifyImage{
			Kind:          string(c.Kind),
			Name:          c.Name,
			Image:         c.Image,
			Source:        c.Source,
			SourceBlocked: c.SourceBlocked,
			PullSources:   nonNil(c.PullSources),
			Reachable:     c.OK(),
			ServedBy:      c.ServedBy,
			Digest:        c.Digest,
			Unpinned:      c.Unpinned,
		}
		if c.Err != nil {
			img.Error = c.Err.Error()
		}
		for _, a := range c.Attempts() {
			img.Attempts = append(img.Attempts, verifyAttempt{Reference: a.Reference, Registry: a.Registry, Kind: a.Kind.String(), Error: attemptDetail(a)})
		}
		for _, n := range c.Notes {
			img.Notes = append(img.Notes, verifyNote{Code: n.Code, Message: n.Message})
		}
		res.Summary.Checked++
		if img.Reachable {
			res.Summary.Reachable++
		} else {
			res.Summary.Missing++
		}
		if len(img.Notes) > 0 {
			res.Summary.Flagged++
		}
		res.Images = append(res.Images, img)
	}
	return res
}

// attemptDetail is an attempt's cause without the reference and kind, which
// are shown beside it.
func attemptDetail(a *registry.Error) string {
	if a.Err == nil {
		return ""
	}
	return a.Err.Error()
}

func printVerify(w io.Writer, res *verifyResult, unmirrored int) {
	if r := res.Release; r != nil {
		fmt.Fprintf(w, "Release %s  %s\n", r.Version, r.Image)
		fmt.Fprintf(w, "  pulled from %s\n", r.PullFrom)
	}
	printCatalogs(w, res.Catalogs)
	summary := verifySummaryLine(res)
	fmt.Fprintln(w, summary)
	if res.Release == nil && slices.ContainsFunc(res.Images, func(img verifyImage) bool { return img.Kind == string(releaseinfo.CheckRelease) }) {
		fmt.Fprintln(w, "The release image could not be read, so its components were not checked.")
	}

	for _, g := range groupMissing(res.Images) {
		printMissingGroup(w, g)
	}

	first := true
	for _, img := range res.Images {
		for _, n := range img.Notes {
			if first {
				fmt.Fprintln(w)
				first = false
			}
			code := n.Code
			if code == "" {
				code = "note"
			}
			fmt.Fprintf(w, "%s %s: %s\n", code, describeImage(img), n.Message)
		}
	}
	if unmirrored > 0 {
		fmt.Fprintf(w, "\n%d images are served by their source only (HCM009): unreachable in a disconnected data center; add mirror sets for them\n", unmirrored)
	}
	if res.Summary.Missing > 0 || res.Summary.Flagged > 0 {
		// After a long list the headline has scrolled away.
		fmt.Fprintf(w, "\n%s\n", summary)
	}
}

// verifySummaryLine is "Checked 22 images (the release image, 20
// components, the KubeVirt boot image): 21 reachable, 1 missing".
func verifySummaryLine(res *verifyResult) string {
	kinds := map[string]int{}
	for _, img := range res.Images {
		kinds[img.Kind]++
	}
	what := []string{}
	if kinds["release"] > 0 {
		what = append(what, "the release image")
	}
	if n := kinds["component"]; n > 0 {
		what = append(what, fmt.Sprintf("%d components", n))
	}
	if kinds["kubevirt"] > 0 {
		what = append(what, "the KubeVirt boot image")
	}
	for _, k := range []struct{ kind, one, many string }{
		{"additional", "additional image", "additional images"},
		{"catalog", "catalog", "catalogs"},
		{"operator", "bundle or related image", "bundle and related images"},
	} {
		switch n := kinds[k.kind]; {
		case n == 1:
			what = append(what, "1 "+k.one)
		case n > 1:
			what = append(what, fmt.Sprintf("%d %s", n, k.many))
		}
	}
	noun := "images"
	if res.Summary.Checked == 1 {
		noun = "image"
	}
	return fmt.Sprintf("Checked %d %s (%s): %d reachable, %d missing",
		res.Summary.Checked, noun, strings.Join(what, ", "), res.Summary.Reachable, res.Summary.Missing)
}

// missingGroup is the missing images that failed alike: same mirror-set
// source, same repositories tried in the same order, each with the same
// failure kind (or, with nothing tried, the same reason).
type missingGroup struct {
	images []verifyImage
}

// groupMissing groups the missing images, in report order of each group's
// first image.
func groupMissing(images []verifyImage) []*missingGroup {
	var groups []*missingGroup
	byKey := map[string]*missingGroup{}
	for _, img := range images {
		if img.Reachable {
			continue
		}
		key := failureKey(img)
		g, ok := byKey[key]
		if !ok {
			g = &missingGroup{}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.images = append(g.images, img)
	}
	return groups
}

func failureKey(img verifyImage) string {
	parts := []string{img.Source, fmt.Sprint(img.SourceBlocked)}
	if len(img.Attempts) == 0 {
		// Nothing tried: the reason names the image, so only the
		// source groups these.
		parts = append(parts, "nothing tried", fmt.Sprint(len(img.PullSources) == 0))
	}
	for _, a := range img.Attempts {
		parts = append(parts, repositoryOf(a.Reference), a.Kind)
	}
	return strings.Join(parts, "\x00")
}

// repositoryOf is a physical reference without its tag or digest.
func repositoryOf(ref string) string {
	if r, err := imageref.ParseRaw(ref); err == nil {
		return r.Name()
	}
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

func printMissingGroup(w io.Writer, g *missingGroup) {
	img := g.images[0]
	if len(g.images) == 1 {
		fmt.Fprintf(w, "\nMISSING %s\n", describeImage(img))
		fmt.Fprintf(w, "  image:  %s\n", img.Image)
	} else {
		var how []string
		for _, a := range img.Attempts {
			how = append(how, a.Kind+" at "+repositoryOf(a.Reference))
		}
		if len(how) == 0 {
			how = append(how, "nothing tried")
		}
		fmt.Fprintf(w, "\nMISSING %d images (%s)\n", len(g.images), strings.Join(how, ", then "))
	}
	switch {
	case img.Source == "":
		fmt.Fprintln(w, "  source: no mirror set covers it")
	case img.SourceBlocked:
		fmt.Fprintf(w, "  source: %s (NeverContactSource: never contacted)\n", img.Source)
	default:
		fmt.Fprintf(w, "  source: %s\n", img.Source)
	}
	switch {
	case len(img.Attempts) > 0 && len(g.images) == 1:
		fmt.Fprintln(w, "  tried:")
		for i, a := range img.Attempts {
			fmt.Fprintf(w, "    %d. %s: %s\n", i+1, a.Reference, a.Kind)
			if a.Error != "" {
				fmt.Fprintf(w, "       %s\n", a.Error)
			}
		}
	case len(img.Attempts) > 0:
		fmt.Fprintln(w, "  tried, for each:")
		for i, a := range img.Attempts {
			fmt.Fprintf(w, "    %d. %s: %s\n", i+1, repositoryOf(a.Reference), a.Kind)
			if a.Error != "" {
				fmt.Fprintf(w, "       for %s: %s\n", describeImage(img), a.Error)
			}
		}
	case len(img.PullSources) == 0 && img.Error != "":
		fmt.Fprintf(w, "  nothing tried: %s\n", img.Error)
	default:
		fmt.Fprintf(w, "  error: %s\n", img.Error)
	}
	if len(g.images) > 1 {
		fmt.Fprintln(w, "  images:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, m := range g.images {
			fmt.Fprintf(tw, "    %s\t%s\n", describeImage(m), m.Image)
		}
		tw.Flush()
	}
}

// describeImage names an image by its role: "release image", "component
// etcd", "KubeVirt boot image".
func describeImage(img verifyImage) string {
	switch img.Kind {
	case string(releaseinfo.CheckRelease):
		return "release image"
	case string(releaseinfo.CheckKubeVirt):
		return "KubeVirt boot image"
	}
	return img.Kind + " " + img.Name
}

// terminalBar is a progress bar on w when w is a terminal, else nil: every
// progressBar method does nothing on a nil bar, so callers need no checks.
func terminalBar(w io.Writer) *progressBar {
	if !isTerminal(w) {
		return nil
	}
	return &progressBar{w: w}
}

// progressBar draws "verifying [####      ] 96/192" on one terminal line.
type progressBar struct {
	w      io.Writer
	drawn  bool
	status bool // the line shows reading's status, not the bar
}

const progressWidth = 30

func (b *progressBar) update(done, total int) {
	if total == 0 {
		return
	}
	filled := done * progressWidth / total
	if b.status {
		// The status line is longer than the bar: erase it first.
		fmt.Fprint(b.w, "\r\033[K")
		b.status = false
	}
	fmt.Fprintf(b.w, "\rverifying [%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", progressWidth-filled), done, total)
	b.drawn = true
}

// reading says, before any progress can be counted, which release image is
// being read and from where: the first pull source, the one a node tries
// first. A hung mirror then shows by name instead of as a silent terminal.
func (b *progressBar) reading(cfg *mirrorset.Config, image string) {
	if b == nil {
		return
	}
	from := ""
	if res, err := resolver(cfg); err == nil {
		if r, err := res.Resolve(image); err == nil {
			if refs := r.References(); len(refs) > 0 {
				from = refs[0]
			}
		}
	}
	if from == "" {
		from = image
	}
	fmt.Fprintf(b.w, "\rreading release image from %s", from)
	b.drawn, b.status = true, true
}

// clear erases the bar so that what follows starts on a clean line. A nil
// bar (not a terminal) does nothing.
func (b *progressBar) clear() {
	if b == nil || !b.drawn {
		return
	}
	fmt.Fprint(b.w, "\r\033[K")
}
