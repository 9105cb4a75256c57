// Command hcpmirror-lab sets up a lab to try hcpmirror in: a local OCI
// registry, a synthetic OpenShift release mirrored into it, and the
// end-to-end demo. It is kept apart from hcpmirror, the binary shipped to
// management clusters, so that one links no registry server and no test
// harness.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hcpmirror/hcpmirror/internal/lab/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
