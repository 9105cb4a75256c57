// Package ignition holds the Ignition v3 configuration a node boots with,
// as hcpmirror's ignition server builds it, and how it is assembled.
//
// Ignition is the first-boot provisioner of CoreOS: a node fetches one JSON
// document (ignition.version 3.x) and writes what it says before anything
// else runs. HyperShift's ignition server answers a NodePool's nodes with
// such a document; hcpmirror builds it from parts that must all agree with
// the disconnected mirrors:
//
//   - the files the release's machine-config-operator image carries under
//     MCOFilesDir (read through the mirrors, the right architecture);
//   - /etc/containers/registries.conf, rendered from the hosted control
//     plane's imageContentSources (so the node pulls from the mirrors);
//   - /var/lib/kubelet/config.json, the pull secret;
//   - the additional trust bundle, as a CA anchor;
//   - the files and users of the NodePool's MachineConfigs.
//
// Only the part of the specification these need is modelled: files with
// data: URL contents, and users with SSH keys. [Build] is pure: it reads no
// registry and no cluster, so what a node gets is a function of its inputs.
package ignition
