// Command hcpmirror makes hosted control planes work in disconnected
// environments: it explains, checks and propagates image mirror sets.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hcpmirror/hcpmirror/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
