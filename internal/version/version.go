// Package version identifies a build of hcpmirror: a binary copied into a
// disconnected data centre must still say which source it was built from.
//
// The values are set at link time, as `make build` does:
//
//	go build -ldflags "-X github.com/hcpmirror/hcpmirror/internal/version.version=v0.2.0 \
//	  -X github.com/hcpmirror/hcpmirror/internal/version.commit=$(git rev-parse HEAD) \
//	  -X github.com/hcpmirror/hcpmirror/internal/version.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// A plain `go build` or `go install` leaves them empty; Get then falls back to
// what the Go toolchain recorded in the binary (module version, VCS revision
// and time when built with -buildvcs), and "unknown" for the rest.
package version

import (
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; see the package doc.
var (
	version   string
	commit    string
	buildDate string
)

// Unknown stands for a value neither the linker nor the toolchain recorded.
const Unknown = "unknown"

// Info is what `hcpmirror version` prints; the JSON field names are a stable
// interface for scripts.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build's identification.
func Get() Info {
	info := Info{
		Version:   version,
		Commit:    commit,
		BuildDate: buildDate,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version // go install module@version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Commit == "":
				info.Commit = s.Value
			case s.Key == "vcs.time" && info.BuildDate == "":
				// The commit's time, not the build's: still what tells
				// two builds of unknown origin apart.
				info.BuildDate = s.Value
			}
		}
	}
	for _, v := range []*string{&info.Version, &info.Commit, &info.BuildDate} {
		if *v == "" {
			*v = Unknown
		}
	}
	return info
}
