package mirrorset

import (
	"fmt"
	"testing"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
)

// benchSets builds n sources spread over hosts and namespaces, with a wildcard
// and a blocked source among them, like a large management cluster's sets.
func benchSets(n int) []Set {
	s := Set{Kind: KindIDMS, Name: "bench"}
	for i := range n {
		src := fmt.Sprintf("registry-%d.example.com/ns-%d/repo-%d", i%97, i%13, i)
		e := Entry{Source: src, Mirrors: []string{fmt.Sprintf("mirror.example.com:5000/m-%d", i), "backup.example.com/all"}}
		if i%10 == 0 {
			e.Policy = NeverContactSource
		}
		s.Entries = append(s.Entries, e)
	}
	s.Entries = append(s.Entries,
		Entry{Source: "*.redhat.io", Mirrors: []string{"mirror.example.com:5000/redhat"}},
		Entry{Source: "quay.io/openshift-release-dev", Mirrors: []string{"mirror.example.com:5000/ocp"}})
	return []Set{s}
}

func benchRefs(n int) []string {
	return []string{
		fmt.Sprintf("registry-%d.example.com/ns-%d/repo-%d/img@%s", (n/2)%97, (n/2)%13, n/2, dg),
		fmt.Sprintf("registry-%d.example.com/ns-%d/repo-%d:v1", (n-1)%97, (n-1)%13, n-1),
		"quay.io/openshift-release-dev/ocp-v4.0-art-dev@" + dg,
		"registry.redhat.io/redhat/redhat-operator-index:v4.16",
		"docker.io/library/busybox:latest",
	}
}

// BenchmarkResolve compares Config.Resolve with containers/image's
// FindRegistry + PullSourcesFromReference on the same configuration and
// references, at 10, 1 000 and 10 000 sources.
func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		cfg, err := Compile(benchSets(n))
		if err != nil {
			b.Fatal(err)
		}
		refs := benchRefs(n)
		b.Run(fmt.Sprintf("sources=%d/impl=hcpmirror", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := cfg.Resolve(refs[i%len(refs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		sys := oracleFile(b, cfg.RegistriesConf())
		b.Run(fmt.Sprintf("sources=%d/impl=containers-image", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				named, err := reference.ParseNormalizedNamed(refs[i%len(refs)])
				if err != nil {
					b.Fatal(err)
				}
				reg, err := sysregistriesv2.FindRegistry(sys, named.Name())
				if err != nil {
					b.Fatal(err)
				}
				if reg != nil {
					if _, err := reg.PullSourcesFromReference(named); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
