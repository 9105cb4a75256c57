package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// EncodeYAML renders an API object as the YAML hcpmirror writes: keys
// sorted, two-space indentation, and none of the empty fields the Go types
// cannot omit ("status: {}", "creationTimestamp: null"), which only make
// diffs noisy.
func EncodeYAML(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return EncodeYAMLMap(m)
}

// EncodeYAMLMap is EncodeYAML for an object already in generic form.
func EncodeYAMLMap(m map[string]any) ([]byte, error) {
	if s, ok := m["status"].(map[string]any); ok && len(s) == 0 {
		delete(m, "status")
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		if ts, ok := md["creationTimestamp"]; ok && ts == nil {
			delete(md, "creationTimestamp")
		}
	}
	j, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("encoding YAML: %w", err)
	}
	return y, nil
}

// JoinDocuments makes one multi-document YAML stream.
func JoinDocuments(docs [][]byte) []byte {
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(d)
	}
	return b.Bytes()
}
