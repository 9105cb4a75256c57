package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses, as kubectl, oc and skopeo use them: 1 when the command ran
// and found a problem (lint errors, drift, missing images, unreadable input),
// 2 when the command line itself is wrong and nothing was done.
const (
	exitProblem = 1
	exitUsage   = 2
)

// usageError is a command line the command cannot run with: an unknown flag
// or command, a wrong number of arguments, a missing or bad flag value.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf is a usageError for the checks commands make themselves (a flag
// value out of range, two flags that exclude each other).
func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// printUsageError says what is wrong with the command line, its usage line,
// and where to read more.
func printUsageError(w io.Writer, cmd *cobra.Command, err error) {
	fmt.Fprintf(w, "%s: %v\n", cmd.Root().Name(), err)
	line := cmd.UseLine()
	if cmd.HasAvailableSubCommands() {
		line = cmd.CommandPath() + " COMMAND"
	}
	fmt.Fprintf(w, "usage: %s\n", line)
	fmt.Fprintf(w, "see '%s --help'\n", cmd.CommandPath())
}

// prepareTree applies the conventions every command follows, after the tree
// (cobra's help and completion commands included) is complete: errors cobra
// finds before a command runs are usage errors; a command group given an
// unknown subcommand says so; boolean flags read -q, --quiet in help. started
// is set when a command's own code begins to run, which is how Execute tells
// cobra's flag and argument errors from the command's.
func prepareTree(root *cobra.Command, started *bool) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		// Every Use line already names the command's flags.
		c.DisableFlagsInUseLine = true
		if args := c.Args; args != nil && c.Flags().Lookup("filename") != nil {
			c.Args = func(c *cobra.Command, a []string) error {
				err := args(c, a)
				if err != nil && len(a) > 0 && isPath(a[0]) {
					return fmt.Errorf("%w (files and directories are given with -f)", err)
				}
				return err
			}
		}
		switch {
		case c.RunE != nil:
			run := c.RunE
			c.RunE = func(c *cobra.Command, args []string) error {
				*started = true
				return run(c, args)
			}
		case c.Run != nil:
			run := c.Run
			c.Run = func(c *cobra.Command, args []string) {
				*started = true
				run(c, args)
			}
		case c.HasSubCommands() && c.HasParent():
			// Cobra prints help and succeeds on "hcpmirror release bogus";
			// an unknown subcommand is a usage error like any other.
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usageErrorf("unknown command %q for %q", args[0], c.CommandPath())
				}
				return c.Help()
			}
		}
		c.Flags().VisitAll(plainBool)
		c.PersistentFlags().VisitAll(plainBool)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// isPath reports whether arg names an existing file or directory.
func isPath(arg string) bool {
	_, err := os.Stat(arg)
	return err == nil
}

// plainBool makes help print a boolean flag as "-q, --quiet", as kubectl
// does, where pflag would print "-q, --quiet[=true|false]": pflag adds that
// to every flag whose value reports IsBoolFlag, so the value is wrapped in
// one that does not, keeping the NoOptDefVal ("true") that lets the flag be
// given without a value.
func plainBool(f *pflag.Flag) {
	if f.Value.Type() != "bool" {
		return
	}
	if _, done := f.Value.(boolValue); done {
		return
	}
	f.Value = boolValue{f.Value}
	if f.NoOptDefVal == "" {
		f.NoOptDefVal = "true"
	}
}

// boolValue is a bool flag's value without its IsBoolFlag method; see
// plainBool.
type boolValue struct{ pflag.Value }

// classify turns the error of a run into what Execute reports: a usage error
// when cobra refused the command line before the command started.
func classify(err error, started bool) error {
	var u *usageError
	if errors.As(err, &u) || started {
		return err
	}
	return &usageError{err: err}
}
