// Package wsutil holds what the two WebSocket transports (the SDK capture
// stream and the Amplify endpoint) need around github.com/coder/websocket:
// an upgrade that keeps the hijacked connection and holds back the
// library's plain-text refusals, a close whose handshake is bounded, and
// the graceful shutdown of a handler's streams.
package wsutil

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
)

// Conn is an upgraded connection and the network connection under it.
type Conn struct {
	*websocket.Conn
	raw net.Conn
}

// Accept upgrades like websocket.Accept. When the library refuses the
// handshake, nothing is written: the returned error wraps
// livenessd.ErrForbidden (origin not allowed) or ErrInvalidRequest (not a
// valid WebSocket handshake) with the library's reason, for the caller to
// answer in its own error format.
func Accept(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions) (*Conn, error) {
	hw := &hijackWriter{ResponseWriter: w}
	conn, err := websocket.Accept(hw, r, opts)
	if err != nil {
		kind := livenessd.ErrInvalidRequest
		if hw.status == http.StatusForbidden {
			kind = livenessd.ErrForbidden
		}
		reason := strings.TrimSpace(hw.body.String())
		if reason == "" {
			reason = err.Error()
		}
		return nil, fmt.Errorf("WebSocket handshake: %s: %w", reason, kind)
	}
	return &Conn{Conn: conn, raw: hw.conn}, nil
}

// CloseWithin closes with code and reason; the whole close handshake,
// writing the close frame included, ends within d: a peer that never
// answers the close frame is cut off then instead of after the library's
// 5 s (plus 5 s to write).
func (c *Conn) CloseWithin(d time.Duration, code websocket.StatusCode, reason string) error {
	if c.raw != nil {
		c.raw.SetDeadline(time.Now().Add(d))
	}
	return c.Close(code, reason)
}

// SetDeadline sets the deadline of the network connection (both
// directions): every pending and later read or write fails after t.
func (c *Conn) SetDeadline(t time.Time) {
	if c.raw != nil {
		c.raw.SetDeadline(t)
	}
}

// hijackWriter remembers the hijacked connection and holds back an error
// response written by websocket.Accept.
type hijackWriter struct {
	http.ResponseWriter
	conn   net.Conn
	status int
	body   strings.Builder
}

func (w *hijackWriter) WriteHeader(code int) {
	if code >= 400 {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *hijackWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		if w.body.Len() < 256 {
			w.body.Write(b[:min(len(b), 256)])
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	w.conn = c
	return c, rw, err
}

func (w *hijackWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
