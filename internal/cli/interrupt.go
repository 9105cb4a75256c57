package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Interrupt is the cause of a context cancelled by SignalContext.
type Interrupt struct{ Signal os.Signal }

func (i Interrupt) Error() string { return "interrupted by " + signalName(i.Signal) }

// ExitCode is the status shells expect of a process a signal ended: 128 plus
// the signal's number (130 for SIGINT, 143 for SIGTERM).
func (i Interrupt) ExitCode() int {
	if s, ok := i.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// SignalContext returns a context that the first SIGINT or SIGTERM cancels,
// with an Interrupt as its cause, so that a command can stop cleanly (no
// half-written file, a partial report); a second signal ends the process at
// once, for a command that does not stop soon enough. stop releases the
// signals.
func SignalContext(stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-sigs:
		case <-done:
			return
		}
		cancel(Interrupt{Signal: first})
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "hcpmirror: interrupted again by %s: exiting at once\n", signalName(s))
			os.Exit(Interrupt{Signal: s}.ExitCode())
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interrupted reports whether ctx was cancelled, so the run it carried is an
// interrupted one whatever the command returned, and with which exit status.
func interrupted(ctx context.Context) (Interrupt, bool) {
	if ctx.Err() == nil {
		return Interrupt{}, false
	}
	var i Interrupt
	if errors.As(context.Cause(ctx), &i) {
		return i, true
	}
	return Interrupt{Signal: os.Interrupt}, true
}
