package operator

import "github.com/hcpmirror/hcpmirror/internal/testing/envtest"

// SharedEnv gives the external test package (CLI end-to-end tests) the
// package's API server.
func SharedEnv() *envtest.Environment { return env }
