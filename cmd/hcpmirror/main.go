// Command hcpmirror makes hosted control planes work in disconnected
// environments: it explains, checks and propagates image mirror sets.
package main

import (
	"os"

	"github.com/hcpmirror/hcpmirror/internal/cli"
)

func main() {
	// The first Ctrl-C or SIGTERM cancels the run (exit 130 or 143, never
	// 0); a second one ends the process at once.
	ctx, stop := cli.SignalContext(os.Stderr)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
