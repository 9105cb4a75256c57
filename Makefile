# hcpmirror: two commands matter on a fresh machine, `make demo` and `make test`.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: all build demo test vet envtest bench fuzz generate

all: build

# Identify the build (hcpmirror version); outside a git checkout the values
# fall back to "unknown" and the build still succeeds.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := github.com/hcpmirror/hcpmirror/internal/version
LDFLAGS ?= -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).buildDate=$(BUILD_DATE)

# hcpmirror is the shipped binary; hcpmirror-lab holds the lab commands
# (registry serve, release publish, demo) and everything only they link.
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/hcpmirror ./cmd/hcpmirror
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/hcpmirror-lab ./cmd/hcpmirror-lab

# The main job on an embedded default (local registry + local API server):
# resolve the examples, mirror and verify a release, run the operator.
demo: build
	hack/demo.sh

# The whole suite: vet, then every test with the race detector against a real
# kube-apiserver and etcd (built once from the Go module proxy, then cached).
test: vet
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" $(GO) test -race -timeout 45m ./...

vet:
	$(GO) vet ./...

envtest:
	hack/envtest.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...

# Short fuzzing of every parser; new finds land in testdata/fuzz.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./pkg/imageref/
	$(GO) test -run '^$$' -fuzz FuzzResolve -fuzztime 60s ./pkg/mirrorset/
	$(GO) test -run '^$$' -fuzz FuzzParseRegistriesConf -fuzztime 60s ./pkg/mirrorset/
	$(GO) test -run '^$$' -fuzz FuzzDecodeRequest -fuzztime 60s ./internal/catalogserver/
	$(GO) test -run '^$$' -fuzz FuzzRead -fuzztime 60s ./pkg/manifest/
	$(GO) test -run '^$$' -fuzz FuzzDecodeFlag -fuzztime 60s ./pkg/overrides/
	$(GO) test -run '^$$' -fuzz FuzzDecodeEnv -fuzztime 60s ./pkg/overrides/
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 60s ./pkg/catalog/

include hack/generate.mk
