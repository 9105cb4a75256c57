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

// Execute runs the command line and returns the process exit status: 0, 1
// when the command found a problem, 2 for a usage error, 128+N when signal N
// (SIGINT, SIGTERM) cancelled ctx, whatever the command returned then.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(ctx, NewRootCommand(), args, stdin, stdout, stderr)
}

// Run is Execute for any command tree built on this package's conventions
// (the lab binary's too): the same exit statuses, usage errors and
// interrupt handling, with messages prefixed by the root command's name.
func Run(ctx context.Context, root *cobra.Command, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := root.Name()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	var started bool
	prepareTree(root, &started)
	cmd, err := root.ExecuteContextC(ctx)
	if sig, ok := interrupted(ctx); ok && !(err == nil && cmd.Annotations[AnnotationStopsOnSignal] == "true") {
		// An interrupted run is not a success, and its error is only
		// the consequence ("context canceled").
		fmt.Fprintf(stderr, "%s: interrupted\n", name)
		return sig.ExitCode()
	}
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	if err = classify(err, started); errors.As(err, new(*usageError)) {
		printUsageError(stderr, cmd, err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return exitProblem
}

// AnnotationStopsOnSignal marks a command that runs until it is stopped (the
// operator, a lab registry): a signal is its normal end, not an interruption.
const AnnotationStopsOnSignal = "hcpmirror.io/stops-on-signal"

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
	registerVersionFlag(root)
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands lists every subcommand constructor; each lives in its own file.
var subcommands = []func() *cobra.Command{
	newResolveCommand,
	newOverridesCommand,
	newSyncICSCommand,
	newLintCommand,
	newOperatorCommand,
	newControlPlaneOperatorCommand,
	newRenderCommand,
	newStatusCommand,
	newMergeCommand,
	newConvertCommand,
	newRegistriesConfCommand,
	newReleaseCommand,
	newVerifyCommand,
	newVersionCommand,
	newMirrorCommand,
	newCatalogsCommand,
	newIgnitionServerCommand,
	newCatalogServerCommand,
}
