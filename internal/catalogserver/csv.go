package catalogserver

import (
	"encoding/json"

	"github.com/blang/semver/v4"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// The types below are the JSON shapes of an olm.csv.metadata property and
// of the ClusterServiceVersion operator-registry builds from it (its
// operators/v1alpha1 types): the same members in the same order, with the
// same omitempty, so that the CSV a catalog without bundle manifests
// serves is byte for byte the one `opm serve` serves. Members of the
// property these types do not have are dropped, as opm drops them.

type csvMetadata struct {
	Annotations               map[string]string         `json:"annotations,omitempty"`
	APIServiceDefinitions     apiServiceDefinitions     `json:"apiServiceDefinitions,omitempty"`
	CustomResourceDefinitions customResourceDefinitions `json:"crdDescriptions,omitempty"`
	Description               string                    `json:"description,omitempty"`
	DisplayName               string                    `json:"displayName,omitempty"`
	InstallModes              []installMode             `json:"installModes,omitempty"`
	Keywords                  []string                  `json:"keywords,omitempty"`
	Labels                    map[string]string         `json:"labels,omitempty"`
	Links                     []appLink                 `json:"links,omitempty"`
	Maintainers               []maintainer              `json:"maintainers,omitempty"`
	Maturity                  string                    `json:"maturity,omitempty"`
	MinKubeVersion            string                    `json:"minKubeVersion,omitempty"`
	NativeAPIs                []metav1.GroupVersionKind `json:"nativeAPIs,omitempty"`
	Provider                  appLink                   `json:"provider,omitempty"`
}

type installMode struct {
	Type      string `json:"type"`
	Supported bool   `json:"supported"`
}

type appLink struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

type maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type descriptor struct {
	Path         string          `json:"path"`
	DisplayName  string          `json:"displayName,omitempty"`
	Description  string          `json:"description,omitempty"`
	XDescriptors []string        `json:"x-descriptors,omitempty"`
	Value        json.RawMessage `json:"value,omitempty"`
}

type apiResourceReference struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

type crdDescription struct {
	Name              string                 `json:"name"`
	Version           string                 `json:"version"`
	Kind              string                 `json:"kind"`
	DisplayName       string                 `json:"displayName,omitempty"`
	Description       string                 `json:"description,omitempty"`
	Resources         []apiResourceReference `json:"resources,omitempty"`
	StatusDescriptors []descriptor           `json:"statusDescriptors,omitempty"`
	SpecDescriptors   []descriptor           `json:"specDescriptors,omitempty"`
	ActionDescriptor  []descriptor           `json:"actionDescriptors,omitempty"`
}

type apiServiceDescription struct {
	Name              string                 `json:"name"`
	Group             string                 `json:"group"`
	Version           string                 `json:"version"`
	Kind              string                 `json:"kind"`
	DeploymentName    string                 `json:"deploymentName,omitempty"`
	ContainerPort     int32                  `json:"containerPort,omitempty"`
	DisplayName       string                 `json:"displayName,omitempty"`
	Description       string                 `json:"description,omitempty"`
	Resources         []apiResourceReference `json:"resources,omitempty"`
	StatusDescriptors []descriptor           `json:"statusDescriptors,omitempty"`
	SpecDescriptors   []descriptor           `json:"specDescriptors,omitempty"`
	ActionDescriptor  []descriptor           `json:"actionDescriptors,omitempty"`
}

type customResourceDefinitions struct {
	Owned    []crdDescription `json:"owned,omitempty"`
	Required []crdDescription `json:"required,omitempty"`
}

type apiServiceDefinitions struct {
	Owned    []apiServiceDescription `json:"owned,omitempty"`
	Required []apiServiceDescription `json:"required,omitempty"`
}

type csvIcon struct {
	Data      string `json:"base64data"`
	MediaType string `json:"mediatype"`
}

type relatedImage struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

// csvVersion is a semver version encoded as its string.
type csvVersion struct{ semver.Version }

func (v csvVersion) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

type installStrategy struct {
	StrategyName string `json:"strategy"`
	StrategySpec struct {
		DeploymentSpecs []struct{} `json:"deployments"`
	} `json:"spec,omitempty"`
}

type csvSpec struct {
	InstallStrategy           installStrategy           `json:"install"`
	Version                   csvVersion                `json:"version,omitempty"`
	Maturity                  string                    `json:"maturity,omitempty"`
	CustomResourceDefinitions customResourceDefinitions `json:"customresourcedefinitions,omitempty"`
	APIServiceDefinitions     apiServiceDefinitions     `json:"apiservicedefinitions,omitempty"`
	NativeAPIs                []metav1.GroupVersionKind `json:"nativeAPIs,omitempty"`
	MinKubeVersion            string                    `json:"minKubeVersion,omitempty"`
	DisplayName               string                    `json:"displayName"`
	Description               string                    `json:"description,omitempty"`
	Keywords                  []string                  `json:"keywords,omitempty"`
	Maintainers               []maintainer              `json:"maintainers,omitempty"`
	Provider                  appLink                   `json:"provider,omitempty"`
	Links                     []appLink                 `json:"links,omitempty"`
	Icon                      []csvIcon                 `json:"icon,omitempty"`
	InstallModes              []installMode             `json:"installModes,omitempty"`
	Cleanup                   struct {
		Enabled bool `json:"enabled"`
	} `json:"cleanup,omitempty"`
	RelatedImages []relatedImage `json:"relatedImages,omitempty"`
}

type csvStatus struct {
	Cleanup struct{} `json:"cleanup,omitempty"`
}

type clusterServiceVersion struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              csvSpec   `json:"spec"`
	Status            csvStatus `json:"status"`
}

// csvFromMetadata builds the CSV of a bundle that carries only
// olm.csv.metadata: its metadata, the bundle's name, version and related
// images, the package's icon (and description when the metadata has
// none), and a stub "deployment" install strategy (OLM's package server
// needs one).
func csvFromMetadata(raw json.RawMessage, b *catalog.Bundle, ver semver.Version, meta packageMeta) (string, error) {
	var m csvMetadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	csv := clusterServiceVersion{
		TypeMeta:   metav1.TypeMeta{Kind: "ClusterServiceVersion", APIVersion: "operators.coreos.com/v1alpha1"},
		ObjectMeta: metav1.ObjectMeta{Name: b.Name, Annotations: m.Annotations, Labels: m.Labels},
	}
	s := &csv.Spec
	s.InstallStrategy.StrategyName = "deployment"
	s.Version = csvVersion{ver}
	s.Maturity = m.Maturity
	s.CustomResourceDefinitions = m.CustomResourceDefinitions
	s.APIServiceDefinitions = m.APIServiceDefinitions
	s.NativeAPIs = m.NativeAPIs
	s.MinKubeVersion = m.MinKubeVersion
	s.DisplayName = m.DisplayName
	s.Description = m.Description
	if s.Description == "" {
		s.Description = meta.description
	}
	s.Keywords = m.Keywords
	s.Maintainers = m.Maintainers
	s.Provider = m.Provider
	s.Links = m.Links
	if meta.icon != nil {
		s.Icon = []csvIcon{{Data: meta.icon.base64(), MediaType: meta.icon.MediaType}}
	}
	s.InstallModes = m.InstallModes
	for _, ri := range b.RelatedImages {
		s.RelatedImages = append(s.RelatedImages, relatedImage{Name: ri.Name, Image: ri.Image})
	}
	out, err := json.Marshal(csv)
	if err != nil {
		return "", err
	}
	return string(out), nil
}
