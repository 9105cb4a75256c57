package catalogserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// gRPC status codes this server answers with (google.golang.org/grpc/codes).
const (
	codeOK               = 0
	codeCanceled         = 1
	codeUnknown          = 2
	codeDeadlineExceeded = 4
	codeResourceExhaust  = 8
	codeUnimplemented    = 12
	codeInternal         = 13
	codeUnavailable      = 14
)

// maxRequest bounds a request message. Every request of this API is a few
// names, so the bound is far below grpc-go's default receive limit (4 MiB):
// a length prefix is a claim, and the message buffer grows only with the
// bytes that arrive.
const maxRequest = 64 << 10

// status is a gRPC status: a code and a message for grpc-message.
type status struct {
	code int
	msg  string
}

func (s *status) Error() string { return fmt.Sprintf("rpc error: code = %d desc = %s", s.code, s.msg) }

func statusf(code int, format string, args ...any) *status {
	return &status{code: code, msg: fmt.Sprintf(format, args...)}
}

// stream writes the messages of one response.
type stream struct {
	w       http.ResponseWriter
	started bool
}

// send writes one length-prefixed, uncompressed message.
func (s *stream) send(msg []byte) error {
	s.start()
	var prefix [5]byte
	binary.BigEndian.PutUint32(prefix[1:], uint32(len(msg)))
	if _, err := s.w.Write(prefix[:]); err != nil {
		return err
	}
	_, err := s.w.Write(msg)
	return err
}

func (s *stream) start() {
	if s.started {
		return
	}
	s.started = true
	s.w.WriteHeader(http.StatusOK)
}

// finish ends the response with the status in its trailers.
func (s *stream) finish(st *status) {
	if st == nil {
		st = &status{code: codeOK}
	}
	s.start()
	h := s.w.Header()
	h.Set(http.TrailerPrefix+"Grpc-Status", strconv.Itoa(st.code))
	if st.msg != "" {
		h.Set(http.TrailerPrefix+"Grpc-Message", encodeGRPCMessage(st.msg))
	}
}

// method is one RPC: it reads its request message and answers on the
// stream (one message for a unary RPC).
type method func(ctx context.Context, req []byte, send func([]byte) error) *status

// serveGRPC handles one gRPC call over HTTP/2: the request's single
// message is read, handed to the method found for the path, and the
// answer and its status written.
func serveGRPC(w http.ResponseWriter, r *http.Request, lookup func(path string) (method, *status)) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "gRPC requests are POST", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/grpc" && !strings.HasPrefix(ct, "application/grpc+") && !strings.HasPrefix(ct, "application/grpc;") {
		http.Error(w, "content-type: want application/grpc", http.StatusUnsupportedMediaType)
		return
	}
	w.Header().Set("Content-Type", "application/grpc")
	s := &stream{w: w}
	ctx := r.Context()
	if t := r.Header.Get("Grpc-Timeout"); t != "" {
		d, err := decodeTimeout(t)
		if err != nil {
			s.finish(statusf(codeInternal, "malformed grpc-timeout: %v", err))
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	m, st := lookup(r.URL.Path)
	if st != nil {
		s.finish(st)
		return
	}
	req, st := readRequest(r)
	if st != nil {
		s.finish(st)
		return
	}
	st = m(ctx, req, s.send)
	if st == nil && ctx.Err() != nil {
		st = contextStatus(ctx)
	}
	s.finish(st)
}

// readRequest reads the one message of a unary or server-streaming call.
func readRequest(r *http.Request) ([]byte, *status) {
	var prefix [5]byte
	if _, err := io.ReadFull(r.Body, prefix[:]); err != nil {
		if ctxErr := r.Context().Err(); ctxErr != nil {
			return nil, contextStatus(r.Context())
		}
		return nil, statusf(codeInternal, "grpc: reading the request: %v", err)
	}
	if prefix[0] != 0 {
		enc := r.Header.Get("Grpc-Encoding")
		return nil, statusf(codeUnimplemented, "grpc: compressed request (grpc-encoding %q) is not supported", enc)
	}
	n := binary.BigEndian.Uint32(prefix[1:])
	if n > maxRequest {
		return nil, statusf(codeResourceExhaust, "grpc: received message larger than max (%d vs. %d)", n, maxRequest)
	}
	msg, err := io.ReadAll(io.LimitReader(r.Body, int64(n)))
	if err != nil {
		return nil, statusf(codeInternal, "grpc: reading the request: %v", err)
	}
	if len(msg) < int(n) {
		return nil, statusf(codeInternal, "grpc: reading the request: %d of the %d bytes of the message: %v", len(msg), n, io.ErrUnexpectedEOF)
	}
	return msg, nil
}

func contextStatus(ctx context.Context) *status {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return statusf(codeDeadlineExceeded, "context deadline exceeded")
	}
	return statusf(codeCanceled, "context canceled")
}

// decodeTimeout reads a grpc-timeout value: at most 8 digits and a unit.
func decodeTimeout(s string) (time.Duration, error) {
	if len(s) < 2 || len(s) > 9 {
		return 0, fmt.Errorf("%q: want 1 to 8 digits and a unit", s)
	}
	units := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second, 'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}
	unit, ok := units[s[len(s)-1]]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit", s)
	}
	v, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q: not a number", s)
	}
	if unit >= time.Second && v > int64(time.Duration(1<<63-1)/unit) {
		return time.Duration(1<<63 - 1), nil
	}
	return time.Duration(v) * unit, nil
}

// encodeGRPCMessage percent-encodes a status message as gRPC's HTTP/2
// mapping asks: printable ASCII except '%' as is, every other byte %XX.
func encodeGRPCMessage(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c >= ' ' && c <= '~' && c != '%' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
