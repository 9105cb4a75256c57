# Code generation for the API types under api/. Included from the main
# Makefile; recipes run from the repository root.
#
#   make generate   rewrites api/**/zz_generated.deepcopy.go and config/crd/*.yaml
#
# controller-gen is a Go tool dependency (the tool directive in go.mod), so
# `go tool` builds the pinned version and nothing needs installing. The tests
# in config/crd regenerate into a scratch directory and fail when the
# checked-in output is stale.

# Including this file must not change the including Makefile's default goal.
hack_generate_mk_default_goal := $(.DEFAULT_GOAL)

CONTROLLER_GEN ?= go tool controller-gen

.PHONY: generate generate-deepcopy generate-crds

generate: generate-deepcopy generate-crds

generate-deepcopy:
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

# Old CRDs are removed first: controller-gen only writes files, so a renamed
# or deleted kind would otherwise leave its CRD behind.
generate-crds:
	rm -f config/crd/*.yaml
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd

.DEFAULT_GOAL := $(hack_generate_mk_default_goal)
