package ignition

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// Where the parts of a payload go on the node.
const (
	// MCOFilesDir is the directory of the machine-config-operator image whose
	// regular files are node files: MCOFilesDir+"etc/x" is written to /etc/x.
	// It is a path inside the image, without the leading slash, as image
	// layers spell it.
	MCOFilesDir = "etc/mcs/bootstrap/files/"
	// RegistriesConfPath is the container runtime's mirror configuration.
	RegistriesConfPath = "/etc/containers/registries.conf"
	// PullSecretPath is where the kubelet and CRI-O read pull credentials.
	PullSecretPath = "/var/lib/kubelet/config.json"
	// TrustBundlePath is the CA anchor OpenShift writes the additional
	// trust bundle to (update-ca-trust picks it up).
	TrustBundlePath = "/etc/pki/ca-trust/source/anchors/openshift-config-user-ca-bundle.crt"
)

// Modes of the files Build writes.
const (
	modeFile   = 0o644
	modeSecret = 0o600
)

// Inputs are the parts of one node payload, as read from the release, the
// hosted control plane and the NodePool's token Secret.
type Inputs struct {
	// MCOFiles are the regular files under MCOFilesDir in the release's
	// machine-config-operator image, keyed by their path below it.
	MCOFiles map[string][]byte
	// RegistriesConf is the node registries.conf; empty writes none.
	RegistriesConf []byte
	// PullSecret is the .dockerconfigjson the node pulls with; empty writes
	// none.
	PullSecret []byte
	// TrustBundle is the additional CA bundle (PEM); empty writes none.
	TrustBundle []byte
	// MachineConfigs is the token Secret's config: a YAML stream of the
	// NodePool's MachineConfigs, whose spec.config files and users are
	// merged in last, so a NodePool can override anything above. Documents
	// of other kinds are skipped and reported by Build.
	MachineConfigs []byte
}

// Build assembles the payload: MCO files first, then registries.conf, the
// pull secret and the trust bundle, then the MachineConfigs in stream order
// (a later file at the same path replaces an earlier one). Files are listed
// in that order, MCO files sorted by path, so equal inputs give equal bytes.
// skipped names the documents of MachineConfigs that were not
// MachineConfigs.
func Build(in Inputs) (cfg *Config, skipped []string, err error) {
	cfg = &Config{Ignition: Ignition{Version: Version}}
	for _, p := range slices.Sorted(maps.Keys(in.MCOFiles)) {
		cfg.SetFile("/"+p, modeFile, in.MCOFiles[p])
	}
	if len(in.RegistriesConf) > 0 {
		cfg.SetFile(RegistriesConfPath, modeFile, in.RegistriesConf)
	}
	if len(in.PullSecret) > 0 {
		cfg.SetFile(PullSecretPath, modeSecret, in.PullSecret)
	}
	if len(in.TrustBundle) > 0 {
		cfg.SetFile(TrustBundlePath, modeFile, in.TrustBundle)
	}
	skipped, err = mergeMachineConfigs(cfg, in.MachineConfigs)
	if err != nil {
		return nil, nil, err
	}
	return cfg, skipped, nil
}

// machineConfig is the part of a machineconfiguration.openshift.io/v1
// MachineConfig read here.
type machineConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Config *Config `json:"config"`
	} `json:"spec"`
}

// mergeMachineConfigs merges the files and users of each MachineConfig of a
// YAML stream into cfg. Errors name the document and the MachineConfig.
func mergeMachineConfigs(cfg *Config, stream []byte) ([]string, error) {
	var skipped []string
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	for doc := 1; ; doc++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return skipped, nil
		}
		if err != nil {
			return nil, fmt.Errorf("config: document %d: %w", doc, err)
		}
		raw, err := yaml.Marshal(&node)
		if err != nil {
			return nil, fmt.Errorf("config: document %d: %w", doc, err)
		}
		js, err := sigsyaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("config: document %d: %w", doc, err)
		}
		if string(bytes.TrimSpace(js)) == "null" {
			continue
		}
		var mc machineConfig
		if err := json.Unmarshal(js, &mc); err != nil {
			return nil, fmt.Errorf("config: document %d: %w", doc, err)
		}
		if mc.Kind != "MachineConfig" {
			skipped = append(skipped, fmt.Sprintf("document %d: %s %q is not a MachineConfig", doc, mc.Kind, mc.Metadata.Name))
			continue
		}
		where := fmt.Sprintf("config: document %d: MachineConfig %q", doc, mc.Metadata.Name)
		c := mc.Spec.Config
		if c == nil {
			continue
		}
		if v := c.Ignition.Version; v != "" && !strings.HasPrefix(v, "3.") {
			return nil, fmt.Errorf("%s: spec.config.ignition.version %q: want 3.x", where, v)
		}
		if c.Storage != nil {
			for i, f := range c.Storage.Files {
				if !path.IsAbs(f.Path) {
					return nil, fmt.Errorf("%s: spec.config.storage.files[%d].path %q: want an absolute path", where, i, f.Path)
				}
				if f.Contents.Source != "" {
					if _, err := DecodeDataURL(f.Contents.Source); err != nil {
						return nil, fmt.Errorf("%s: spec.config.storage.files[%d].contents.source: %w", where, i, err)
					}
				}
				cfg.setFile(f)
			}
		}
		if c.Passwd != nil {
			for _, u := range c.Passwd.Users {
				cfg.addUser(u)
			}
		}
	}
}
