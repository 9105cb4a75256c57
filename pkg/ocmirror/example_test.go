package ocmirror_test

import (
	"fmt"
	"log"

	"github.com/hcpmirror/hcpmirror/pkg/ocmirror"
)

// Merging two oc-mirror v1 runs: the second run's ICSPs reuse the first
// run's names but list only new images; the merge keeps both.
func ExampleMerge() {
	inputs, _, err := ocmirror.Read(nil, "testdata/two-v1-runs/in/oc-mirror-workspace")
	if err != nil {
		log.Fatal(err)
	}
	res, err := ocmirror.Merge(inputs)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range res.Objects {
		fmt.Printf("%s %s: %d sources\n", o.File, o.Name, o.Sources)
	}
	for _, f := range res.Files {
		fmt.Println(f.Name)
	}
	// Output:
	// idms-hcpmirror.yaml hcpmirror-release-0: 2 sources
	// idms-hcpmirror.yaml hcpmirror-operator-0: 4 sources
	// idms-hcpmirror.yaml hcpmirror-generic-0: 2 sources
	// catalogsource-redhat-operator-index.yaml
	// idms-hcpmirror.yaml
}
