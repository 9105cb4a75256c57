// Command hcpmirror-lab sets up a lab to try hcpmirror in: a local OCI
// registry, a synthetic OpenShift release mirrored into it, and the
// end-to-end demo. It is kept apart from hcpmirror, the binary shipped to
// management clusters, so that one links no registry server and no test
// harness.
package main

import (
	"os"

	"github.com/hcpmirror/hcpmirror/internal/cli"
	labcli "github.com/hcpmirror/hcpmirror/internal/lab/cli"
)

func main() {
	// The shipped binary's signal handling: a second Ctrl-C ends at once,
	// an interrupted run exits 130 (143 for SIGTERM).
	ctx, stop := cli.SignalContext(os.Stderr)
	code := labcli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
