package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	configv1 "github.com/hcpmirror/hcpmirror/api/config/v1"
	"github.com/hcpmirror/hcpmirror/internal/lab/synthrelease"
	"github.com/hcpmirror/hcpmirror/pkg/atomicfile"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

func newReleaseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Publish synthetic OpenShift releases",
	}
	cmd.AddCommand(newReleasePublishCommand())
	return cmd
}

// publishSetName names the mirror sets publish writes.
const publishSetName = "hcpmirror-release"

func newReleasePublishCommand() *cobra.Command {
	var (
		to         string
		version    string
		components int
		seed       int64
		insecure   bool
		authFile   string
		caFiles    []string
		out        string
		policy     string
		quiet      bool
	)
	cmd := &cobra.Command{
		Use:   "publish --to HOST[:PORT][/PATH] [--version V] [--components N] [--seed N] [--insecure] [--mirrorsets-out FILE]",
		Short: "Push a synthetic OpenShift release to a registry, to try mirroring without quay.io",
		Long: `Publish builds a synthetic but structurally faithful OpenShift release —
components (a few of them multi-architecture), the KubeVirt boot image and the
release image whose payload lists them — and pushes it to the --to registry
where oc-mirror v2 would have put a mirrored release:
<to>/openshift/release:<version>-<arch>-<component> and
<to>/openshift/release-images:<version>-<arch>.

The payload names the canonical quay.io repositories, like a real mirrored
release, so it resolves only through mirror sets. Publish prints the
canonical release reference, its tag, and an ImageDigestMirrorSet plus an
ImageTagMirrorSet (for the release tag) that send both repositories to the
registry, by default with NeverContactSource so quay.io is never contacted.
The mirror sets go to stdout as YAML (the other lines are comments), or to
--mirrorsets-out, for "kubectl apply -f" or hcpmirror's -f.

Progress is drawn on stderr when it is a terminal; -q turns it and the
summary off, leaving only the mirror sets (on stdout, without
--mirrorsets-out). The same options and --seed always give the same digests.`,
		Example: `  hcpmirror-lab registry serve --addr 127.0.0.1:5000 &
  hcpmirror-lab release publish --to 127.0.0.1:5000 --insecure --components 20 --mirrorsets-out mirrorsets.yaml
  hcpmirror release info -f mirrorsets.yaml --insecure-registry 127.0.0.1:5000 quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Zero values mean "the default" to the library; on the
			// command line they are typed on purpose, and wrong.
			var errs []error
			if to == "" {
				errs = append(errs, errors.New("--to is required: the registry to push to, HOST[:PORT][/PATH]"))
			}
			if components < 1 {
				errs = append(errs, fmt.Errorf("--components %d: want at least 1", components))
			}
			if version == "" {
				errs = append(errs, errors.New("--version: empty, want x.y.z with an optional -suffix"))
			}
			p := configv1.MirrorSourcePolicy(policy)
			if p != configv1.NeverContactSource && p != configv1.AllowContactingSource {
				errs = append(errs, fmt.Errorf("--source-policy %q: want %s or %s", policy, configv1.NeverContactSource, configv1.AllowContactingSource))
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
			var opts []registry.Option
			if authFile != "" {
				opts = append(opts, registry.WithAuthFile(authFile))
			}
			for _, c := range caFiles {
				opts = append(opts, registry.WithCAFile(c))
			}
			if insecure {
				host, _, _ := strings.Cut(to, "/")
				opts = append(opts, registry.WithInsecureRegistry(host))
			}
			client, err := registry.New(opts...)
			if err != nil {
				return err
			}
			defer client.Close()
			popts := synthrelease.PublishOptions{
				Destination:   to,
				Insecure:      insecure,
				Version:       version,
				Components:    components,
				Seed:          seed,
				RemoteOptions: client.RemoteOptions(cmd.Context()),
			}
			var bar *progress
			if stderr := cmd.ErrOrStderr(); !quiet && isTerminal(stderr) {
				bar = &progress{w: stderr}
				popts.Progress = bar.update
			}
			pub, err := synthrelease.Publish(cmd.Context(), popts)
			bar.clear()
			if err != nil {
				return err
			}
			sets, err := pub.MirrorSetsYAML(publishSetName, p)
			if err != nil {
				return err
			}
			summary := []string{
				fmt.Sprintf("Published release %s (%s, %d components) to %s", pub.Version, pub.Arch, len(pub.Components), to),
				"release: " + pub.Release,
				"tag:     " + pub.ReleaseTag,
				"mirror:  " + pub.MirrorRelease,
			}
			w := cmd.OutOrStdout()
			if out == "" {
				if !quiet {
					for _, l := range summary {
						fmt.Fprintln(w, "# "+l)
					}
					fmt.Fprintf(w, "# Mirror sets for this release (apply them, or pass this output to hcpmirror with -f):\n")
				}
				_, err := w.Write(sets)
				return err
			}
			if err := atomicfile.WriteFile(out, sets, atomicfile.DefaultPerm); err != nil {
				return err
			}
			if quiet {
				return nil
			}
			for _, l := range summary {
				fmt.Fprintln(w, l)
			}
			var access string
			for _, c := range caFiles {
				access += " --ca-file " + c
			}
			if insecure {
				host, _, _ := strings.Cut(to, "/")
				access += " --insecure-registry " + host
			}
			if authFile != "" {
				access += " --authfile " + authFile
			}
			fmt.Fprintf(w, "mirror sets: %s (ImageDigestMirrorSet and ImageTagMirrorSet %q)\n", out, publishSetName)
			fmt.Fprintf(w, "next:\n  hcpmirror release info -f %s%s %s\n  hcpmirror verify -f %s%s --release %s\n",
				out, access, pub.ReleaseTag, out, access, pub.Release)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "registry to push to, HOST[:PORT] with an optional /PATH prefix, without a scheme (required)")
	cmd.Flags().StringVar(&version, "version", synthrelease.DefaultVersion, "release version")
	cmd.Flags().IntVar(&components, "components", synthrelease.DefaultComponentCount, "number of components, at least 1")
	cmd.Flags().Int64Var(&seed, "seed", 0, "content seed: the same seed gives the same digests")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "push over plain HTTP or without TLS verification to the --to host")
	cmd.Flags().StringVar(&authFile, "authfile", "",
		"credentials file (auth.json, docker config.json or a pull secret); default: $REGISTRY_AUTH_FILE, else ~/.docker/config.json if present")
	cmd.Flags().StringArrayVar(&caFiles, "ca-file", nil, "PEM file of CA certificates to trust, on top of the system roots; repeatable")
	cmd.Flags().StringVar(&out, "mirrorsets-out", "", "write the mirror sets to FILE instead of stdout")
	cmd.Flags().StringVar(&policy, "source-policy", string(configv1.NeverContactSource), "mirrorSourcePolicy of the entries: NeverContactSource or AllowContactingSource")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress and no summary: only the mirror sets, on stdout without --mirrorsets-out")
	return cmd
}

// isTerminal reports whether w is a terminal, the only place progress
// belongs: in a pipe or a log it is noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws "pushed 96/192 images" on one terminal line.
type progress struct {
	w     io.Writer
	drawn bool
}

func (p *progress) update(done, total int) {
	p.drawn = true
	fmt.Fprintf(p.w, "\rpushed %d/%d images", done, total)
}

// clear erases the line, so what follows starts on a clean one. A nil
// progress (not a terminal, or -q) has nothing to clear.
func (p *progress) clear() {
	if p != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
