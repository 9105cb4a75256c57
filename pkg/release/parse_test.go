package release

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestParseFileErrors(t *testing.T) {
	goodRefs := `{"kind":"ImageStream","apiVersion":"image.openshift.io/v1","metadata":{"name":"4.16.3"},"spec":{"tags":[{"name":"etcd","from":{"kind":"DockerImage","name":"q.io/a@sha256:` + strings.Repeat("a", 64) + `"}}]}}`
	goodStream := `{"stream":"rhcos-4.16","metadata":{"last-modified":"x"},"architectures":{}}`
	bootimages := func(name, stream string) string {
		b, _ := yaml.Marshal(BootImages{APIVersion: "v1", Kind: "ConfigMap", Metadata: ObjectMeta{Name: name}, Data: BootImagesData{Stream: stream}})
		return string(b)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error; none means success
	}{
		{"valid", map[string]string{ImageReferencesFile: goodRefs, BootImagesFile: bootimages(BootImagesName, goodStream)}, nil},
		{"not json", map[string]string{ImageReferencesFile: "{"}, []string{ImageReferencesFile, "decoding JSON"}},
		{"wrong kind", map[string]string{ImageReferencesFile: `{"kind":"ImageStreamTag","metadata":{"name":"4.16.3"}}`}, []string{ImageReferencesFile, `kind: "ImageStreamTag"`}},
		{"no version", map[string]string{ImageReferencesFile: `{"kind":"ImageStream","metadata":{}}`}, []string{ImageReferencesFile, "metadata.name: empty"}},
		{"component problems", map[string]string{ImageReferencesFile: `{"kind":"ImageStream","metadata":{"name":"4.16.3"},"spec":{"tags":[
			{"name":""},
			{"name":"a"},
			{"name":"b","from":{"kind":"ImageStreamTag","name":"x:y"}},
			{"name":"c","from":{"kind":"DockerImage"}},
			{"name":"c","from":{"kind":"DockerImage","name":"q.io/c:latest"}}]}}`},
			[]string{ImageReferencesFile, "spec.tags[0].name: empty", `spec.tags[1] "a": from: missing`,
				`spec.tags[2] "b": from.kind: "ImageStreamTag"`, `spec.tags[3] "c": from.name: empty`,
				`spec.tags[4] "c": duplicates spec.tags[3]`}},
		{"metadata kind", map[string]string{ImageReferencesFile: goodRefs, MetadataFile: `{"kind":"v1","version":"4.16.3"}`}, []string{MetadataFile, `kind: "v1"`}},
		{"metadata version", map[string]string{ImageReferencesFile: goodRefs, MetadataFile: `{"kind":"cincinnati-metadata-v0"}`}, []string{MetadataFile, "version: empty"}},
		{"metadata non-string value", map[string]string{ImageReferencesFile: goodRefs, MetadataFile: `{"kind":"cincinnati-metadata-v0","version":"4.16.3","metadata":{"url":1}}`}, []string{MetadataFile, "decoding JSON"}},
		{"bootimages name", map[string]string{ImageReferencesFile: goodRefs, BootImagesFile: bootimages("other", goodStream)}, []string{BootImagesFile, `metadata.name: "other"`}},
		{"bootimages no stream", map[string]string{ImageReferencesFile: goodRefs, BootImagesFile: bootimages(BootImagesName, "")}, []string{BootImagesFile, "data.stream: empty"}},
		{"bootimages bad stream", map[string]string{ImageReferencesFile: goodRefs, BootImagesFile: bootimages(BootImagesName, "[")}, []string{BootImagesFile, "data.stream: decoding JSON"}},
		{"bootimages not yaml", map[string]string{ImageReferencesFile: goodRefs, BootImagesFile: "a: [b"}, []string{BootImagesFile, "decoding YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range tt.files {
				files[k] = []byte(v)
			}
			_, err := parseFiles(files)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("parseFiles = %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseFiles succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseFiles error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSplitDigest(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		in           string
		repo, digest string
		ok           bool
	}{
		{"quay.io/a/b@sha256:" + hex64, "quay.io/a/b", "sha256:" + hex64, true},
		{"quay.io/a/b:tag@sha256:" + hex64, "quay.io/a/b:tag", "sha256:" + hex64, true},
		{"q.io/a@sha512:" + hex64 + hex64, "q.io/a", "sha512:" + hex64 + hex64, true},
		{"quay.io/a/b:tag", "", "", false},
		{"quay.io/a/b", "", "", false},
		{"quay.io/a/b@sha256:1234", "", "", false},
		{"quay.io/a/b@sha256:" + strings.ToUpper(hex64), "", "", false},
		{"quay.io/a/b@md5:" + hex64, "", "", false},
		{"@sha256:" + hex64, "", "", false},
	}
	for _, tt := range tests {
		repo, digest, ok := splitDigest(tt.in)
		if repo != tt.repo || digest != tt.digest || ok != tt.ok {
			t.Errorf("splitDigest(%q) = %q, %q, %v, want %q, %q, %v", tt.in, repo, digest, ok, tt.repo, tt.digest, tt.ok)
		}
	}
}
