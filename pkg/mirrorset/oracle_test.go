package mirrorset

import (
	_ "crypto/sha512" // as in every real runtime; see pkg/imageref tests
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/types"
)

// oracleResolution is what containers/image answers for ref under the given
// registries.conf, filtered as docs/semantics.md §3.3 says: pull sources whose
// physical reference falls under a blocked entry are dropped.
type oracleResolution struct {
	sources []string
	blocked bool
	err     error
}

// oracleFile writes conf to a fresh file: sysregistriesv2 caches by path.
func oracleFile(t testing.TB, conf []byte) *types.SystemContext {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "registries.conf")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	dropins := filepath.Join(dir, "registries.conf.d")
	if err := os.Mkdir(dropins, 0o700); err != nil {
		t.Fatal(err)
	}
	return &types.SystemContext{SystemRegistriesConfPath: path, SystemRegistriesConfDirPath: dropins}
}

func oracleResolve(sys *types.SystemContext, ref string) oracleResolution {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return oracleResolution{err: err}
	}
	reg, err := sysregistriesv2.FindRegistry(sys, named.Name())
	if err != nil {
		return oracleResolution{err: fmt.Errorf("oracle config: %w", err)}
	}
	if reg == nil {
		return oracleResolution{sources: []string{named.String()}}
	}
	pulls, err := reg.PullSourcesFromReference(named)
	if err != nil {
		return oracleResolution{err: err, blocked: reg.Blocked}
	}
	out := oracleResolution{sources: []string{}, blocked: reg.Blocked}
	for _, p := range pulls {
		r, err := sysregistriesv2.FindRegistry(sys, p.Reference.Name())
		if err != nil {
			return oracleResolution{err: err}
		}
		if r != nil && r.Blocked {
			continue
		}
		out.sources = append(out.sources, p.Reference.String())
	}
	return out
}
