package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/release"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

func newReleaseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Inspect OpenShift release payloads",
	}
	cmd.AddCommand(newReleaseInfoCommand())
	return cmd
}

// compileOptional compiles the -f sets, or returns nil (no mirror sets:
// every image is pulled from where it names) when none were given.
func (f *setFlags) compileOptional(stderr io.Writer) (*mirrorset.Config, error) {
	if len(f.paths) == 0 {
		f.noteNone(stderr)
		return nil, nil
	}
	cfg, _, err := f.compile(stderr)
	return cfg, err
}

// resolver returns cfg, or the empty configuration for nil, so pull sources
// can be computed either way.
func resolver(cfg *mirrorset.Config) (*mirrorset.Config, error) {
	if cfg != nil {
		return cfg, nil
	}
	return mirrorset.Compile(nil)
}

// releaseInfo is `release info -o json`; its field names are a stable
// interface for scripts. Pull sources and commits are always included.
type releaseInfo struct {
	Reference                    string            `json:"reference"`
	Image                        string            `json:"image"`
	Digest                       string            `json:"digest"`
	PlatformDigest               string            `json:"platformDigest"`
	Version                      string            `json:"version"`
	Created                      time.Time         `json:"created"`
	Platform                     string            `json:"platform"`
	Architectures                []string          `json:"architectures"`
	PullFrom                     string            `json:"pullFrom"`
	Metadata                     *releaseMetadata  `json:"metadata,omitempty"`
	ComponentVersions            map[string]string `json:"componentVersions,omitempty"`
	ComponentVersionDisplayNames map[string]string `json:"componentVersionDisplayNames,omitempty"`
	BootImages                   *bootImages       `json:"bootImages,omitempty"`
	KubeVirt                     string            `json:"kubeVirt,omitempty"`
	Components                   []componentInfo   `json:"components"`
	Unpinned                     []string          `json:"unpinned,omitempty"`
	Warnings                     []string          `json:"warnings,omitempty"`
}

type releaseMetadata struct {
	Version  string            `json:"version"`
	Channels []string          `json:"channels,omitempty"`
	Previous []string          `json:"previous,omitempty"`
	Next     []string          `json:"next,omitempty"`
	Values   map[string]string `json:"values,omitempty"`
}

type bootImages struct {
	Stream         string          `json:"stream"`
	ReleaseVersion string          `json:"releaseVersion,omitempty"`
	LastModified   string          `json:"lastModified,omitempty"`
	Architectures  []bootImageArch `json:"architectures"`
}

type bootImageArch struct {
	Name      string   `json:"name"`
	Artifacts []string `json:"artifacts,omitempty"`
	KubeVirt  string   `json:"kubeVirt,omitempty"`
}

type componentInfo struct {
	Name             string         `json:"name"`
	Image            string         `json:"image"`
	PullSources      []string       `json:"pullSources"`
	PullSourcesError string         `json:"pullSourcesError,omitempty"`
	Commit           *componentRepo `json:"commit,omitempty"`

	firstIsSource bool
}

type componentRepo struct {
	ID             string `json:"id,omitempty"`
	Ref            string `json:"ref,omitempty"`
	SourceLocation string `json:"sourceLocation,omitempty"`
}

func newReleaseInfoCommand() *cobra.Command {
	var (
		sets      setFlags
		reg       registryFlags
		pullspecs bool
		platform  string
		commits   bool
	)
	out := newOutputFlags(formatText, formatJSON, formatYAML)
	cmd := &cobra.Command{
		Use:   "info IMAGE [-f MIRRORSETS]... [--pullspecs] [--commits] [-o text|json|yaml]",
		Short: "Show what a release payload contains, read through the mirrors",
		Long: `Info reads a release image the way a disconnected cluster would: IMAGE is
resolved through the mirror sets given with -f (mirrors first; a
NeverContactSource source is never contacted; tag references use tag mirrors
only), and the first pull source that serves it is read.

It prints what "oc adm release info" prints — version, digest, creation time,
OS/architecture, metadata, component versions and the component images — plus
the CoreOS boot image stream (with the KubeVirt boot image, which the
component list does not include) and "Pull From", the physical reference that
actually served the release. Component references are the payload's own,
canonical names; --pullspecs adds where a node would pull each one from under
the mirror sets, --commits the source repository and commit.

Warnings (no boot images, no metadata, components referenced by tag) go to
stderr. Exit status 1 if the release cannot be read.`,
		Example: `  hcpmirror release info -f mirrorsets.yaml quay.io/openshift-release-dev/ocp-release:4.16.3-x86_64
  hcpmirror release info -f idms.yaml --ca-file mirror-ca.pem --pullspecs quay.io/openshift-release-dev/ocp-release@sha256:...
  hcpmirror release info -f idms.yaml -o json quay.io/openshift-release-dev/ocp-release@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := sets.compileOptional(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			popts := []releaseinfo.Option{releaseinfo.WithRegistryOptions(reg.options()...)}
			if platform != "" {
				pl, err := v1.ParsePlatform(platform)
				if err != nil {
					return &usageError{err: fmt.Errorf("--platform %q: %w", platform, err)}
				}
				popts = append(popts, releaseinfo.WithPlatform(*pl))
			}
			p, err := releaseinfo.New(popts...)
			if err != nil {
				return fmt.Errorf("--platform: %w", err)
			}
			defer p.Close()
			bar := terminalBar(cmd.ErrOrStderr())
			bar.reading(cfg, args[0])
			rel, err := p.Lookup(cmd.Context(), cfg, args[0], nil)
			bar.clear()
			if err != nil {
				return err
			}
			info, err := newReleaseInfo(rel, cfg)
			if err != nil {
				return err
			}
			if platform != "" && rel.Digest == rel.PlatformDigest && platform != rel.Platform {
				info.Warnings = append(info.Warnings, fmt.Sprintf("--platform %s ignored: %s is a single-architecture release (%s), read as it is, as oc does", platform, args[0], rel.Platform))
			}
			for _, w := range info.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			return out.print(cmd.OutOrStdout(), info, func(w io.Writer) error {
				printReleaseInfo(w, info, pullspecs, commits)
				return nil
			})
		},
	}
	sets.register(cmd)
	reg.register(cmd)
	out.register(cmd)
	cmd.Flags().BoolVar(&pullspecs, "pullspecs", false, "also show where each component would be pulled from under the mirror sets")
	cmd.Flags().BoolVar(&commits, "commits", false, "also show each component's source repository and commit")
	cmd.Flags().StringVar(&platform, "platform", "", "os/arch[/variant] to read from a multi-architecture release (default linux/amd64)")
	return cmd
}

// newReleaseInfo flattens a Release for printing, resolving each component
// through the mirror sets.
func newReleaseInfo(rel *releaseinfo.Release, cfg *mirrorset.Config) (*releaseInfo, error) {
	res, err := resolver(cfg)
	if err != nil {
		return nil, err
	}
	info := &releaseInfo{
		Reference:                    rel.Reference,
		Image:                        rel.Image,
		Digest:                       rel.Digest,
		PlatformDigest:               rel.PlatformDigest,
		Version:                      rel.Version,
		Created:                      rel.Created.UTC(),
		Platform:                     rel.Platform,
		Architectures:                rel.Architectures,
		PullFrom:                     rel.ServedBy,
		ComponentVersions:            rel.ComponentVersions,
		ComponentVersionDisplayNames: rel.ComponentVersionNames,
		KubeVirt:                     rel.KubeVirt,
		Unpinned:                     rel.Unpinned,
		Warnings:                     append([]string(nil), rel.Warnings...),
		Components:                   []componentInfo{},
	}
	for _, n := range rel.Unpinned {
		info.Warnings = append(info.Warnings, fmt.Sprintf("component %s is referenced by tag (%s), not by digest: oc refuses such payloads, and digest mirrors never serve it", n, rel.Components[n]))
	}
	if m := rel.Metadata; m != nil {
		info.Metadata = &releaseMetadata{Version: m.Version, Channels: m.Channels, Previous: m.Previous, Next: m.Next, Values: m.Values}
	}
	if s := rel.Stream; s != nil {
		b := &bootImages{Stream: s.Stream, LastModified: s.Metadata.LastModified}
		if rel.BootImages != nil {
			b.ReleaseVersion = rel.BootImages.Data.ReleaseVersion
		}
		for _, arch := range slices.Sorted(maps.Keys(s.Architectures)) {
			a := s.Architectures[arch]
			ba := bootImageArch{Name: arch, Artifacts: slices.Sorted(maps.Keys(a.Artifacts))}
			if a.Images.KubeVirt != nil {
				ba.KubeVirt = a.Images.KubeVirt.DigestRef
			}
			b.Architectures = append(b.Architectures, ba)
		}
		info.BootImages = b
	}
	for _, n := range rel.ComponentNames() {
		c := componentInfo{Name: n, Image: rel.Components[n], PullSources: []string{}}
		if r, err := res.Resolve(c.Image); err != nil {
			c.PullSourcesError = err.Error()
		} else {
			c.PullSources = nonNil(r.References())
			c.firstIsSource = len(r.PullSources) > 0 && r.PullSources[0].IsSource
		}
		if cm, ok := rel.Commits[n]; ok {
			c.Commit = &componentRepo{ID: cm.ID, Ref: cm.Ref, SourceLocation: cm.SourceLocation}
		}
		info.Components = append(info.Components, c)
	}
	return info, nil
}

func printReleaseInfo(w io.Writer, info *releaseInfo, pullspecs, commits bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", info.Version)
	fmt.Fprintf(tw, "Digest:\t%s\n", info.Digest)
	fmt.Fprintf(tw, "Created:\t%s\n", info.Created.Format(time.RFC3339))
	fmt.Fprintf(tw, "OS/Arch:\t%s\n", info.Platform)
	if len(info.Architectures) > 1 {
		fmt.Fprintf(tw, "Manifests:\t%s\n", strings.Join(info.Architectures, ", "))
	}
	fmt.Fprintf(tw, "Image:\t%s\n", info.Image)
	fmt.Fprintf(tw, "Pull From:\t%s\n", info.PullFrom)
	tw.Flush()

	if m := info.Metadata; m != nil {
		fmt.Fprintln(w, "\nRelease Metadata:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  Version:\t%s\n", m.Version)
		fmt.Fprintf(tw, "  Channels:\t%s\n", orNone(strings.Join(m.Channels, ", ")))
		fmt.Fprintf(tw, "  Upgrades:\t%s\n", orNone(strings.Join(m.Previous, ", ")))
		if len(m.Next) > 0 {
			fmt.Fprintf(tw, "  Next:\t%s\n", strings.Join(m.Next, ", "))
		}
		if url := m.Values[release.MetadataURLKey]; url != "" {
			fmt.Fprintf(tw, "  URL:\t%s\n", url)
		}
		tw.Flush()
	}

	if len(info.ComponentVersions) > 0 {
		fmt.Fprintln(w, "\nComponent Versions:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, k := range slices.Sorted(maps.Keys(info.ComponentVersions)) {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", k, info.ComponentVersions[k], info.ComponentVersionDisplayNames[k])
		}
		tw.Flush()
	}

	if b := info.BootImages; b != nil {
		fmt.Fprintln(w, "\nBoot Images:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  Stream:\t%s\n", b.Stream)
		if b.ReleaseVersion != "" {
			fmt.Fprintf(tw, "  Release Version:\t%s\n", b.ReleaseVersion)
		}
		if b.LastModified != "" {
			fmt.Fprintf(tw, "  Last Modified:\t%s\n", b.LastModified)
		}
		for _, a := range b.Architectures {
			fmt.Fprintf(tw, "  %s:\t%s\n", a.Name, orNone(strings.Join(a.Artifacts, ", ")))
		}
		fmt.Fprintf(tw, "  KubeVirt:\t%s\n", orNone(info.KubeVirt))
		tw.Flush()
	}

	fmt.Fprintf(w, "\nImages (%d):\n", len(info.Components))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "  NAME\tIMAGE"
	if pullspecs {
		header += "\tPULL FROM"
	}
	if commits {
		header += "\tREPO\tCOMMIT"
	}
	fmt.Fprintln(tw, header)
	for _, c := range info.Components {
		line := "  " + c.Name + "\t" + c.Image
		if pullspecs {
			line += "\t" + pullFrom(c)
		}
		if commits {
			repo, commit := "", ""
			if c.Commit != nil {
				repo, commit = c.Commit.SourceLocation, c.Commit.ID
			}
			line += "\t" + orNone(repo) + "\t" + orNone(commit)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

// pullFrom summarises a component's pull sources in one table cell.
func pullFrom(c componentInfo) string {
	switch {
	case c.PullSourcesError != "":
		return "error: " + c.PullSourcesError
	case len(c.PullSources) == 0:
		return "(none: source blocked, no mirror serves this pull)"
	}
	s := strings.Join(c.PullSources, ", ")
	if c.firstIsSource {
		s += " (source: not mirrored)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
