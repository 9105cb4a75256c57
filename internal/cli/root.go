// Package cli is the hcpmirror command tree: flags in, one library call,
// output out. Domain logic lives under pkg/; nothing here decides semantics.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// ExitError ends the command with a status code without printing anything more:
// the command already said what was wrong (lint findings, drift, missing images).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Execute runs the command line and returns the process exit status.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	fmt.Fprintf(stderr, "hcpmirror: %v\n", err)
	return 1
}

// NewRootCommand builds the whole command tree.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hcpmirror",
		Short: "Mirror sets for disconnected hosted control planes",
		Long: `hcpmirror makes hosted control planes work where every image must come from a
private mirror registry. It resolves images through ImageContentSourcePolicy,
ImageDigestMirrorSet and ImageTagMirrorSet objects exactly as a node's container
runtime would, renders the override strings HyperShift components read, merges
oc-mirror results, and checks mirror sets for the mistakes that break
disconnected clusters.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands lists every subcommand constructor; each lives in its own file.
var subcommands = []func() *cobra.Command{
	newDemoCommand,
	newResolveCommand,
	newOverridesCommand,
	newSyncICSCommand,
	newLintCommand,
	newOperatorCommand,
	newRenderCommand,
	newStatusCommand,
	newMergeCommand,
	newConvertCommand,
	newRegistriesConfCommand,
	newReleaseCommand,
	newVerifyCommand,
	newRegistryCommand,
	newMirrorCommand,
}
