package cli

import (
	"io"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// logFlags are the log options of the long-running components (operator,
// control-plane-operator, ignition-server, catalog-server).
type logFlags struct {
	development bool
}

func (l *logFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&l.development, "development", false, "human-readable logs instead of JSON")
}

// logger writes structured logs to w. Stack traces only for panics: an
// error here is an operational event (a registry out of reach, a write
// conflict) whose message says what happened, and a stack trace after each
// one buries it.
func (l *logFlags) logger(w io.Writer) logr.Logger {
	return zap.New(zap.UseDevMode(l.development), zap.WriteTo(w), zap.StacktraceLevel(zapcore.DPanicLevel))
}
