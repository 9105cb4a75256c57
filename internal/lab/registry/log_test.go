package registry

import (
	"bytes"
	"io"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestLogRouterFallback(t *testing.T) {
	t.Parallel()
	// Entries that no registry wrote keep going where they went before,
	// so other logrus users in the binary are unaffected.
	var fallback, sink bytes.Buffer
	lr := &logRouter{sinks: map[string]io.Writer{}, formatter: plainFormatter{}, fallback: &fallback, fallbackFormatter: plainFormatter{}}
	id := lr.register(&sink)
	logger := newTestLogger(lr)
	logger.WithField(instanceKey, id).Info("from registry")
	logger.Info("from elsewhere")
	lr.unregister(id)
	logger.WithField(instanceKey, id).Info("after close")
	if got, want := sink.String(), "from registry\n"; got != want {
		t.Errorf("registry sink = %q, want %q", got, want)
	}
	if got, want := fallback.String(), "from elsewhere\n"; got != want {
		t.Errorf("fallback = %q, want %q", got, want)
	}
}

type plainFormatter struct{}

func (plainFormatter) Format(e *logrus.Entry) ([]byte, error) { return []byte(e.Message + "\n"), nil }

func newTestLogger(h logrus.Hook) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.AddHook(h)
	return l
}
