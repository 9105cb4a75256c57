package manifest_test

import (
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/manifest"
)

func ExampleRead() {
	data := []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
---
apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
metadata:
  name: ocp
spec:
  imageDigestMirrors:
  - source: quay.io/openshift-release-dev/ocp-release
    mirorrs: [mirror.example.com/ocp/release]
`)
	objs, err := manifest.Read("sets/idms.yaml", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range objs {
		fmt.Println(o.Describe())
	}

	var idms struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			ImageDigestMirrors []struct {
				Source  string   `json:"source"`
				Mirrors []string `json:"mirrors"`
			} `json:"imageDigestMirrors"`
		} `json:"spec"`
	}
	// Only the fields the target declares may appear, so a typo is an error
	// instead of a silently ignored field.
	fmt.Println(objs[1].DecodeStrict(&idms))
	// Output:
	// sets/idms.yaml: document 1: ConfigMap "settings"
	// sets/idms.yaml: document 2: ImageDigestMirrorSet "ocp"
	// sets/idms.yaml: document 2: ImageDigestMirrorSet "ocp": unknown field "spec.imageDigestMirrors[0].mirorrs"
}
