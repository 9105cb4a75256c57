package synthrelease

import (
	"fmt"

	"github.com/hcpmirror/hcpmirror/pkg/ignition"
)

// mcoComponent is the component whose image carries node files.
const mcoComponent = "machine-config-operator"

// mcoFiles is what the synthetic machine-config-operator image holds under
// ignition.MCOFilesDir: a few node files, one of which names the version and
// architecture, so a test can tell which child of the manifest list served.
func mcoFiles(version, arch string) map[string][]byte {
	dir := ignition.MCOFilesDir
	return map[string][]byte{
		dir + "etc/hcpmirror/machine-config-operator": fmt.Appendf(nil, "version=%s\narch=%s\n", version, arch),
		dir + "etc/kubernetes/kubelet.conf": []byte(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
serializeImagePulls: false
`),
		dir + "etc/systemd/system/kubelet.service.d/20-hcpmirror.conf": []byte(`[Service]
Environment="KUBELET_NODE_IP=0.0.0.0"
`),
	}
}
