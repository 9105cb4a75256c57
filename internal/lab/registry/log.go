package registry

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
)

// instanceKey is the context key distribution reads to tag every log entry
// with the instance that wrote it (see its internal dcontext package). It
// has to be this plain string: distribution compares keys with ==, so a
// private key type would never match. We set it per registry so entries can
// be routed back to the registry that produced them.
const instanceKey = "instance.id"

// logRouter receives every entry of logrus' standard logger. Distribution
// only logs there and offers no per-instance logger, so routing on the
// instance tag is the one way to give each in-process registry its own
// output, and to keep registries silent without silencing anybody else who
// uses logrus in the same binary.
type logRouter struct {
	mu        sync.Mutex
	sinks     map[string]io.Writer // instance id -> writer; nil writer = discard
	formatter logrus.Formatter

	// Entries that no registry wrote go where logrus would have sent
	// them before the router was installed.
	fallback          io.Writer
	fallbackFormatter logrus.Formatter
}

var (
	routerOnce   sync.Once
	router       *logRouter
	nextInstance atomic.Int64
)

// installRouter takes over logrus' standard logger once per process.
func installRouter() *logRouter {
	routerOnce.Do(func() {
		std := logrus.StandardLogger()
		router = &logRouter{
			sinks:             map[string]io.Writer{},
			formatter:         &logrus.TextFormatter{DisableColors: true, FullTimestamp: true},
			fallback:          std.Out,
			fallbackFormatter: std.Formatter,
		}
		std.AddHook(router)
		std.SetOutput(io.Discard)
	})
	return router
}

// register reserves an instance id whose entries go to w (nil: discarded).
func (lr *logRouter) register(w io.Writer) string {
	id := fmt.Sprintf("hcpmirror-test-registry-%d", nextInstance.Add(1))
	lr.mu.Lock()
	lr.sinks[id] = w
	lr.mu.Unlock()
	return id
}

// unregister forgets id; late entries from it are dropped, not leaked.
func (lr *logRouter) unregister(id string) {
	lr.mu.Lock()
	lr.sinks[id] = nil
	lr.mu.Unlock()
}

// Levels implements logrus.Hook.
func (lr *logRouter) Levels() []logrus.Level { return logrus.AllLevels }

// Fire implements logrus.Hook.
func (lr *logRouter) Fire(e *logrus.Entry) error {
	id, _ := e.Data[instanceKey].(string)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	w, ours := lr.sinks[id]
	f := lr.formatter
	if !ours {
		w, f = lr.fallback, lr.fallbackFormatter
	}
	if w == nil || f == nil {
		return nil
	}
	b, err := f.Format(e)
	if err != nil {
		return nil
	}
	_, _ = w.Write(b)
	return nil
}
