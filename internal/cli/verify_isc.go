package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/cincinnati"
	"github.com/hcpmirror/hcpmirror/pkg/imageset"
	"github.com/hcpmirror/hcpmirror/pkg/manifest"
	"github.com/hcpmirror/hcpmirror/pkg/mirror"
	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
	"github.com/hcpmirror/hcpmirror/pkg/releaseinfo"
)

// catalogObjects collects the CatalogSources and ClusterCatalogs among the
// -f inputs, for verify -c to read catalogs as the cluster does.
type catalogObjects struct {
	objs []mirror.CatalogObject
}

// take is setFlags.take: it keeps the catalog objects and returns the rest.
func (c *catalogObjects) take(objs []manifest.Object) []manifest.Object {
	cats, rest := mirror.CatalogObjects(objs)
	c.objs = append(c.objs, cats...)
	return rest
}

// verifyImageSet is `verify -c ISC.yaml`: the releases, KubeVirt images,
// additional images and operator bundle and related images the
// configuration names, checked through the mirrors, the catalogs read
// through the given CatalogSources or mirror sets.
func verifyImageSet(ctx context.Context, p *releaseinfo.Provider, cfg *mirrorset.Config, catalogs []mirror.CatalogObject, inputs []string, path, graphURL string, reg registryFlags, opts releaseinfo.VerifyOptions) (*mirror.ImageSetReport, error) {
	isc, _, err := imageset.Load(path)
	if err != nil {
		return nil, err
	}
	// The -f directories' recorded graphs answer for an update service
	// that is out of reach, as it is inside the data centre.
	recorded, err := mirror.ReadRecordedGraphs(inputs)
	if err != nil {
		return nil, err
	}
	c, err := registry.New(reg.options()...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	graphs := &cincinnati.Client{HTTP: &http.Client{Transport: graphTransport{tls: c.HTTPTransport()}}}
	return mirror.VerifyImageSet(ctx, p, c, cfg, isc, mirror.VerifyImageSetOptions{Graphs: graphs, GraphURL: graphURL, Catalogs: catalogs, Recorded: recorded, VerifyOptions: opts})
}

// verifyCatalog is one operators entry's catalog in `verify -c -o json`:
// which copy was read (readFrom: catalogSource, clusterCatalog, mirror or
// source; empty when none could be), and every place tried before.
type verifyCatalog struct {
	Entry    int                  `json:"entry"`
	Catalog  string               `json:"catalog"`
	ReadFrom string               `json:"readFrom,omitempty"`
	Read     []verifyCatalogPlace `json:"read"`
	Failed   []verifyCatalogPlace `json:"failed,omitempty"`
	Filtered bool                 `json:"filtered"`
	Bundles  int                  `json:"bundles"`
	Notes    []string             `json:"notes,omitempty"`
}

type verifyCatalogPlace struct {
	Copy        string          `json:"copy"`
	Objects     []string        `json:"objects,omitempty"`
	Image       string          `json:"image"`
	PullSources []string        `json:"pullSources"`
	ServedBy    string          `json:"servedBy,omitempty"`
	Digest      string          `json:"digest,omitempty"`
	Error       string          `json:"error,omitempty"`
	Attempts    []verifyAttempt `json:"attempts,omitempty"`
}

func newVerifyCatalogs(reads []mirror.CatalogRead) []verifyCatalog {
	var out []verifyCatalog
	place := func(p mirror.CatalogPlace) verifyCatalogPlace {
		vp := verifyCatalogPlace{Copy: string(p.Copy), Objects: p.Objects, Image: p.Image, PullSources: nonNil(p.PullSources), ServedBy: p.ServedBy, Digest: p.Digest}
		if p.Err != nil {
			vp.Error = p.Err.Error()
		}
		var se *registry.SourcesError
		if errors.As(p.Err, &se) {
			for _, a := range se.Attempts {
				vp.Attempts = append(vp.Attempts, verifyAttempt{Reference: a.Reference, Registry: a.Registry, Kind: a.Kind.String(), Error: attemptDetail(a)})
			}
		}
		return vp
	}
	for _, r := range reads {
		vc := verifyCatalog{Entry: r.Entry, Catalog: r.Catalog, Read: []verifyCatalogPlace{}, Filtered: r.Filtered, Bundles: r.Bundles, Notes: r.Notes}
		for _, p := range r.Read {
			vc.Read = append(vc.Read, place(p))
		}
		if len(r.Read) > 0 {
			vc.ReadFrom = string(r.Read[0].Copy)
		}
		for _, p := range r.Failed {
			vc.Failed = append(vc.Failed, place(p))
		}
		out = append(out, vc)
	}
	return out
}

// copyNames say what each copy is, for the text report.
var copyNames = map[string]string{
	string(mirror.CopyCatalogSource):  "the CatalogSource's image",
	string(mirror.CopyClusterCatalog): "the ClusterCatalog's image",
	string(mirror.CopyMirror):         "its mirror",
	string(mirror.CopySource):         "its source",
}

// printCatalogs says, for each catalog, which copy was read and how its
// bundles were listed, or every place tried when none could be read.
func printCatalogs(w io.Writer, cats []verifyCatalog) {
	for _, c := range cats {
		fmt.Fprintf(w, "Catalog %s (mirror.operators[%d])\n", c.Catalog, c.Entry)
		for _, p := range c.Read {
			fmt.Fprintf(w, "  read from %s: %s\n", copyNames[p.Copy], p.ServedBy)
			for _, o := range p.Objects {
				fmt.Fprintf(w, "    named by %s\n", o)
			}
		}
		switch {
		case len(c.Read) == 0:
			fmt.Fprintln(w, "  not read: no copy could be read, so no bundle was checked (details below); tried:")
		case c.Filtered:
			fmt.Fprintf(w, "  %d bundles, as mirror.operators[%d].packages keeps them from the upstream catalog\n", c.Bundles, c.Entry)
		case c.Bundles == 1:
			fmt.Fprintln(w, "  1 bundle: the only one this copy offers to OLM")
		default:
			fmt.Fprintf(w, "  %d bundles: every one this copy offers to OLM\n", c.Bundles)
		}
		if len(c.Read) > 0 && len(c.Failed) > 0 {
			fmt.Fprintln(w, "  could not read first:")
		}
		for _, p := range c.Failed {
			what := copyNames[p.Copy]
			switch p.Copy {
			case string(mirror.CopyMirror):
				what = "the catalog through its mirror sets"
			case string(mirror.CopySource):
				what = "the catalog at its source (no mirror set covers it)"
			}
			if len(p.Objects) > 0 {
				what += " (" + strings.Join(p.Objects, ", ") + ")"
			}
			fmt.Fprintf(w, "    %s %s\n", what, p.Image)
			for _, a := range p.Attempts {
				fmt.Fprintf(w, "      %s: %s\n", a.Reference, a.Kind)
			}
			if len(p.Attempts) == 0 {
				fmt.Fprintf(w, "      %s\n", p.Error)
			}
		}
		for _, n := range c.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
}
