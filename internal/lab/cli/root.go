// Package cli is the hcpmirror-lab command tree: the commands that set up a
// lab rather than run in one (a throw-away registry, a synthetic release to
// mirror, the end-to-end demo). They live outside the shipped hcpmirror
// binary so that it links neither a registry server nor envtest. Flags in,
// one library call, output out.
package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/hcpmirror/hcpmirror/internal/cli"
)

// Execute runs the command line and returns the process exit status, with
// the shipped binary's conventions (cli.Run): 2 for usage errors, 130/143
// when interrupted.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cli.Run(ctx, NewRootCommand(), args, stdin, stdout, stderr)
}

// NewRootCommand builds the whole command tree.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hcpmirror-lab",
		Short: "A lab to try hcpmirror in: a local registry, a synthetic release, the demo",
		Long: `hcpmirror-lab sets up what a disconnected data centre already has, on one
machine: a private registry ("registry serve"), an OpenShift-like release
mirrored into it ("release publish"), and the whole job end to end with a
local API server ("demo"). Everything it starts listens on 127.0.0.1 unless
told otherwise. The hcpmirror binary then resolves, checks and verifies
against it as it would against a real mirror.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCommand(), newRegistryCommand(), newReleaseCommand())
	return root
}
