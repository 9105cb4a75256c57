package catalogserver_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The oracle catalog: several packages and channels, a bundle in two
// channels with different edges, replaces, skips (in and out of the
// channel) and skipRange, GVK provides and requires (one GVK provided by
// two packages), package requirements with characters JSON escapes for
// HTML, deprecations of a package, a channel and a bundle, manifests as
// JSON and as YAML, a bundle without image, a bundle with only
// olm.csv.metadata, and an object of another schema.

type obj = map[string]any

func prop(typ string, value any) obj { return obj{"type": typ, "value": value} }

func pkgProp(name, version string) obj {
	return prop("olm.package", obj{"packageName": name, "version": version})
}

func gvkProp(typ, group, version, kind string) obj {
	return prop(typ, obj{"group": group, "version": version, "kind": kind})
}

func manifest(data string) obj {
	return prop("olm.bundle.object", obj{"data": base64.StdEncoding.EncodeToString([]byte(data))})
}

func csvJSON(name, version string) string {
	return fmt.Sprintf(`{"apiVersion":"operators.coreos.com/v1alpha1","kind":"ClusterServiceVersion","metadata":{"name":%q,"annotations":{"alm-examples":"[{\"a\": \"<b>&c\"}]"}},"spec":{"version":%q,"displayName":"Etcd","install":{"strategy":"deployment"},"customresourcedefinitions":{"owned":[{"name":"etcdclusters.etcd.database.coreos.com","version":"v1beta2","kind":"EtcdCluster"}]}}}`, name, version)
}

const csvYAML = `apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata:
  name: etcd.v0.9.2
  annotations:
    description: "uses <html> & ampersands"
spec:
  version: 0.9.2
  replicas: 3
  ratio: 1.50
  enabled: true
  displayName: Etcd
`

const crdYAML = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: etcdclusters.etcd.database.coreos.com
spec:
  group: etcd.database.coreos.com
`

func oracleCatalog() map[string][]obj {
	icon := obj{"base64data": base64.StdEncoding.EncodeToString([]byte("<svg/>")), "mediatype": "image/svg+xml"}
	return map[string][]obj{
		"etcd/catalog.json": {
			{"schema": "olm.package", "name": "etcd", "defaultChannel": "stable", "description": "A key-value store", "icon": icon},
			{"schema": "olm.channel", "package": "etcd", "name": "alpha", "entries": []obj{
				{"name": "etcd.v0.9.0"},
				{"name": "etcd.v0.9.2", "replaces": "etcd.v0.9.0", "skips": []string{"etcd.v0.9.1"}},
			}},
			{"schema": "olm.channel", "package": "etcd", "name": "stable", "entries": []obj{
				{"name": "etcd.v0.9.2", "replaces": "etcd.v0.9.0", "skipRange": ">=0.9.0 <0.9.2"},
				{"name": "etcd.v0.9.0"},
				{"name": "etcd.v1.0.0", "replaces": "etcd.v0.9.2", "skips": []string{"etcd.v0.9.0", "etcd.v0.9.1"}},
			}},
			{"schema": "olm.bundle", "package": "etcd", "name": "etcd.v0.9.0", "image": "quay.io/etcd/bundle:v0.9.0",
				"properties":    []obj{pkgProp("etcd", "0.9.0"), gvkProp("olm.gvk", "etcd.database.coreos.com", "v1beta2", "EtcdCluster"), manifest(csvJSON("etcd.v0.9.0", "0.9.0"))},
				"relatedImages": []obj{{"name": "operator", "image": "quay.io/etcd/operator:v0.9.0"}}},
			{"schema": "olm.bundle", "package": "etcd", "name": "etcd.v0.9.2", "image": "quay.io/etcd/bundle:v0.9.2",
				"properties": []obj{
					pkgProp("etcd", "0.9.2"),
					gvkProp("olm.gvk", "etcd.database.coreos.com", "v1beta2", "EtcdCluster"),
					manifest(crdYAML), manifest(csvYAML),
					prop("vendor.example/annotation", obj{"text": "a <b> & c", "n": 1.50}),
				}},
			{"schema": "olm.bundle", "package": "etcd", "name": "etcd.v1.0.0", "image": "quay.io/etcd/bundle:v1.0.0",
				"properties": []obj{
					pkgProp("etcd", "1.0.0"),
					gvkProp("olm.gvk", "etcd.database.coreos.com", "v1beta2", "EtcdCluster"),
					gvkProp("olm.gvk", "etcd.database.coreos.com", "v1", "EtcdBackup"),
					gvkProp("olm.gvk.required", "monitoring.coreos.com", "v1", "ServiceMonitor"),
					prop("olm.package.required", obj{"packageName": "prometheus", "versionRange": ">=0.1.0 <1.0.0"}),
					manifest(csvJSON("etcd.v1.0.0", "1.0.0")),
				}},
		},
		"prometheus/catalog.yaml": {
			{"schema": "olm.package", "name": "prometheus", "defaultChannel": "beta", "description": "Monitoring from the package"},
			{"schema": "olm.channel", "package": "prometheus", "name": "beta", "entries": []obj{
				{"name": "prometheus.v0.1.0"},
				{"name": "prometheus.v0.2.0", "replaces": "prometheus.v0.1.0"},
			}},
			{"schema": "olm.channel", "package": "prometheus", "name": "alpha", "entries": []obj{
				{"name": "prometheus.v0.2.0", "skips": []string{"prometheus.v0.0.9"}},
			}},
			{"schema": "olm.bundle", "package": "prometheus", "name": "prometheus.v0.1.0", "image": "quay.io/prom/bundle:v0.1.0",
				"properties": []obj{
					pkgProp("prometheus", "0.1.0"),
					gvkProp("olm.gvk", "monitoring.coreos.com", "v1", "ServiceMonitor"),
					prop("olm.csv.metadata", obj{"displayName": "Prometheus", "keywords": []string{"metrics"}}),
				}},
			{"schema": "olm.bundle", "package": "prometheus", "name": "prometheus.v0.2.0", "image": "quay.io/prom/bundle:v0.2.0-build.1",
				"properties": []obj{
					pkgProp("prometheus", "0.2.0+build.1"),
					gvkProp("olm.gvk", "monitoring.coreos.com", "v1", "ServiceMonitor"),
					gvkProp("olm.gvk", "example.com", "v1", "Widget"),
					prop("olm.csv.metadata", obj{
						"annotations":    obj{"capabilities": "Full Lifecycle", "containerImage": "quay.io/prom/operator:v0.2.0"},
						"labels":         obj{"operatorframework.io/arch.amd64": "supported"},
						"description":    "Prometheus <operator> & friends",
						"displayName":    "Prometheus",
						"installModes":   []obj{{"type": "OwnNamespace", "supported": true}, {"type": "AllNamespaces", "supported": false}},
						"keywords":       []string{"metrics", "alerts"},
						"links":          []obj{{"name": "Docs", "url": "https://example.com/docs"}},
						"maintainers":    []obj{{"name": "Prom", "email": "prom@example.com"}},
						"maturity":       "beta",
						"minKubeVersion": "1.25.0",
						"nativeAPIs":     []obj{{"group": "", "version": "v1", "kind": "Pod"}},
						"provider":       obj{"name": "Example"},
						"unknownField":   "dropped",
						"crdDescriptions": obj{"owned": []obj{{
							"name": "servicemonitors.monitoring.coreos.com", "version": "v1", "kind": "ServiceMonitor",
							"displayName": "Service Monitor", "resources": []obj{{"name": "", "kind": "Service", "version": "v1"}},
							"specDescriptors": []obj{{"path": "endpoints", "x-descriptors": []string{"urn:alm:descriptor:text"}, "value": obj{"z": 1, "a": "<"}}},
						}}},
						"apiServiceDefinitions": obj{"required": []obj{{"name": "v1.metrics.k8s.io", "group": "metrics.k8s.io", "version": "v1", "kind": "NodeMetrics", "containerPort": 443}}},
					}),
				},
				"relatedImages": []obj{{"name": "operator", "image": "quay.io/prom/operator:v0.2.0"}, {"name": "", "image": "quay.io/prom/prometheus:v2"}}},
			{"schema": "olm.template.example", "package": "prometheus", "name": "ignored", "anything": []int{1, 2}},
		},
		"legacy-op/catalog.json": {
			{"schema": "olm.package", "name": "legacy-op", "defaultChannel": "stable"},
			{"schema": "olm.channel", "package": "legacy-op", "name": "stable", "entries": []obj{
				{"name": "legacy-op.v1.0.0"},
				{"name": "legacy-op.v1.1.0", "replaces": "legacy-op.v1.0.0"},
			}},
			{"schema": "olm.channel", "package": "legacy-op", "name": "old", "entries": []obj{{"name": "legacy-op.v1.0.0"}}},
			{"schema": "olm.bundle", "package": "legacy-op", "name": "legacy-op.v1.0.0", "image": "quay.io/legacy/bundle:v1.0.0",
				"properties": []obj{pkgProp("legacy-op", "1.0.0"), gvkProp("olm.gvk", "example.com", "v1", "Widget")}},
			// No image: the manifests are the bundle, and ListBundles sends them.
			{"schema": "olm.bundle", "package": "legacy-op", "name": "legacy-op.v1.1.0",
				"properties": []obj{pkgProp("legacy-op", "1.1.0"), gvkProp("olm.gvk", "example.com", "v1", "Widget"), manifest(csvJSON("legacy-op.v1.1.0", "1.1.0"))}},
			{"schema": "olm.deprecations", "package": "legacy-op", "entries": []obj{
				{"reference": obj{"schema": "olm.package"}, "message": "legacy-op is deprecated; use etcd"},
				{"reference": obj{"schema": "olm.channel", "name": "old"}, "message": "channel old is no longer updated"},
				{"reference": obj{"schema": "olm.bundle", "name": "legacy-op.v1.0.0"}, "message": "1.0.0 has a known bug"},
			}},
		},
	}
}

// writeCatalog writes files (path → objects) under dir, JSON files as a
// stream of objects and YAML files as documents (JSON is YAML).
func writeCatalog(t testing.TB, dir string, files map[string][]obj) {
	t.Helper()
	for name, objs := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var out []byte
		for i, o := range objs {
			b, err := json.MarshalIndent(o, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Ext(name) == ".yaml" && i > 0 {
				out = append(out, "---\n"...)
			}
			out = append(out, b...)
			out = append(out, '\n')
		}
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// syntheticCatalog is a catalog of pkgs packages with perPkg bundles each,
// in one channel with replaces and skips, CSVs of realistic size
// (about 8 KiB each) as manifests: the size benchmark's.
func syntheticCatalog(pkgs, perPkg int) map[string][]obj {
	files := map[string][]obj{}
	desc := make([]byte, 6<<10)
	for i := range desc {
		desc[i] = 'a' + byte(i%26)
	}
	for p := 0; p < pkgs; p++ {
		name := fmt.Sprintf("operator-%03d", p)
		objs := []obj{{"schema": "olm.package", "name": name, "defaultChannel": "stable", "description": "synthetic"}}
		var entries []obj
		for b := 0; b < perPkg; b++ {
			e := obj{"name": fmt.Sprintf("%s.v1.%d.0", name, b)}
			if b > 0 {
				e["replaces"] = fmt.Sprintf("%s.v1.%d.0", name, b-1)
			}
			if b > 1 {
				e["skips"] = []string{fmt.Sprintf("%s.v1.%d.0", name, b-2)}
			}
			entries = append(entries, e)
		}
		objs = append(objs, obj{"schema": "olm.channel", "package": name, "name": "stable", "entries": entries})
		for b := 0; b < perPkg; b++ {
			bn := fmt.Sprintf("%s.v1.%d.0", name, b)
			csv := fmt.Sprintf(`{"apiVersion":"operators.coreos.com/v1alpha1","kind":"ClusterServiceVersion","metadata":{"name":%q},"spec":{"version":"1.%d.0","description":%q}}`, bn, b, desc)
			objs = append(objs, obj{"schema": "olm.bundle", "package": name, "name": bn,
				"image":         fmt.Sprintf("quay.io/synthetic/%s-bundle:v1.%d.0", name, b),
				"properties":    []obj{pkgProp(name, fmt.Sprintf("1.%d.0", b)), gvkProp("olm.gvk", name+".example.com", "v1", "Thing"), manifest(csv)},
				"relatedImages": []obj{{"name": "operator", "image": fmt.Sprintf("quay.io/synthetic/%s:v1.%d.0", name, b)}}})
		}
		files[name+"/catalog.json"] = objs
	}
	return files
}
