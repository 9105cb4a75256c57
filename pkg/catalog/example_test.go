package catalog_test

import (
	"context"
	"fmt"
	"log"

	"github.com/hcpmirror/hcpmirror/internal/testing/catalogtest"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// Read a catalog image, keep what an ImageSetConfiguration asks for, list
// the images to mirror, and rebuild the catalog with only that content.
func Example() {
	c, err := catalogtest.Build("registry.example.com") // stands for remote.Image(ref)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	cfg, err := catalog.Load(ctx, c.Image)
	if err != nil {
		log.Fatal(err)
	}
	// mirror.operators[0].packages: [{name: alpha-operator, channels: [{name: stable, minVersion: 1.1.0}]}]
	kept, err := catalog.Filter(cfg, false, []catalog.PackageFilter{{
		Name:     "alpha-operator",
		Channels: []catalog.ChannelFilter{{Name: "stable", MinVersion: "1.1.0"}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range kept.Bundles {
		fmt.Println("bundle", b.Name, b.Version())
	}
	images := catalog.RelatedImages(kept)
	fmt.Println(len(images), "images to copy")

	rebuilt, err := catalog.Rebuild(c.Image, kept) // push this as the mirrored catalog
	if err != nil {
		log.Fatal(err)
	}
	served, err := catalog.Load(ctx, rebuilt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rebuilt catalog serves", len(served.Bundles), "bundles")
	// Output:
	// bundle alpha-operator.v1.1.0 1.1.0
	// bundle alpha-operator.v1.2.0 1.2.0
	// 5 images to copy
	// rebuilt catalog serves 2 bundles
}

// A catalog directory on disk, or one written by Write, reads with LoadFS.
func ExampleWrite() {
	cfg := &catalog.Config{
		Packages: []catalog.Package{{Name: "p", DefaultChannel: "stable"}},
		Channels: []catalog.Channel{{Package: "p", Name: "stable", Entries: []catalog.ChannelEntry{{Name: "p.v1.0.0"}}}},
		Bundles:  []catalog.Bundle{{Package: "p", Name: "p.v1.0.0", Image: "registry.example.com/p/bundle@sha256:0123"}},
	}
	files, err := catalog.Write(cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Printf("%s\n%s", f.Path, f.Data)
	}
	// Output:
	// p/catalog.json
	// {
	//     "schema": "olm.package",
	//     "name": "p",
	//     "defaultChannel": "stable"
	// }
	// {
	//     "schema": "olm.channel",
	//     "name": "stable",
	//     "package": "p",
	//     "entries": [
	//         {
	//             "name": "p.v1.0.0"
	//         }
	//     ]
	// }
	// {
	//     "schema": "olm.bundle",
	//     "name": "p.v1.0.0",
	//     "package": "p",
	//     "image": "registry.example.com/p/bundle@sha256:0123"
	// }
}
