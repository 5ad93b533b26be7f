package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Listener wraps ln so that the answers net/http writes by itself, before
// any handler runs, carry the seed's error body instead of plain text: 431
// for a request line and headers over http.Server.MaxHeaderBytes, 400 for
// a request it cannot parse, 501 and 505.
func (s *Server) Listener(ln net.Listener) net.Listener { return &cannedListener{Listener: ln, s: s} }

// TLSListener is tls.NewListener(ln, cfg) with Listener's rewriting. The
// connections it returns are not *tls.Conn, so net/http does not offer
// HTTP/2 on them (livenessd does not: its WebSockets need HTTP/1.1) and
// learns the TLS state through ConnectionState, which completes the
// handshake within handshakeTimeout.
func (s *Server) TLSListener(ln net.Listener, cfg *tls.Config) net.Listener {
	return &cannedListener{Listener: tls.NewListener(ln, cfg), s: s}
}

const handshakeTimeout = 10 * time.Second

type cannedListener struct {
	net.Listener
	s *Server
}

func (l *cannedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*tls.Conn); ok {
		return &cannedTLSConn{Conn: tc, s: l.s}, nil
	}
	return &cannedConn{Conn: c, s: l.s}, nil
}

// cannedHeaders is what net/http writes after the status line of its own
// error answers (net/http server.go, conn.serve: errorHeaders). A handler's
// answer never has this exact shape: net/http adds a Date header to those.
const cannedHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

type cannedConn struct {
	net.Conn
	s *Server
}

func (c *cannedConn) Write(b []byte) (int, error) { return writeCanned(c.Conn, c.s, b) }

// CloseWrite keeps net/http's half-close before it hangs up on a 431.
func (c *cannedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

type cannedTLSConn struct {
	*tls.Conn
	s    *Server
	once sync.Once
}

func (c *cannedTLSConn) Write(b []byte) (int, error) { return writeCanned(c.Conn, c.s, b) }

// ConnectionState completes the handshake first (net/http asks before it
// reads the request), bounded by handshakeTimeout.
func (c *cannedTLSConn) ConnectionState() tls.ConnectionState {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
		defer cancel()
		c.Conn.SetDeadline(time.Now().Add(handshakeTimeout))
		if err := c.Conn.HandshakeContext(ctx); err != nil {
			c.s.log.Debug("tls handshake", "remote", c.RemoteAddr().String(), "err", err)
		}
		c.Conn.SetDeadline(time.Time{})
	})
	return c.Conn.ConnectionState()
}

// writeCanned writes b to w, or, when b is one of net/http's own error
// answers, the same status with the seed's error body.
func writeCanned(w net.Conn, s *Server, b []byte) (int, error) {
	out, ok := s.rewriteCanned(b)
	if !ok {
		return w.Write(b)
	}
	if _, err := w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// rewriteCanned turns "HTTP/1.1 <code> <text>" + cannedHeaders + <text>
// into the same status with the seed's error body.
func (s *Server) rewriteCanned(b []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if !bytes.HasPrefix(b, []byte(proto)) {
		return nil, false
	}
	i := bytes.Index(b, []byte(cannedHeaders))
	if i < len(proto)+3 {
		return nil, false
	}
	code, err := strconv.Atoi(string(b[len(proto) : len(proto)+3]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	text := string(b[i+len(cannedHeaders):])
	if t, ok := bytes.CutPrefix([]byte(text), b[len(proto):len(proto)+3]); ok {
		text = string(bytes.TrimSpace(t))
	}
	if text == http.StatusText(code) {
		text = ""
	}
	var e error = &statusError{status: code, text: text}
	if text == "" {
		e = &Error{Err: e, Message: kindOf(e).message}
	}
	r := (&http.Request{Method: "-", URL: &url.URL{Path: "-"}}).WithContext(context.Background())
	w := &bufferWriter{header: http.Header{}}
	s.writeError(w, r, e)
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	w.header.Set("Connection", "close")
	w.header.Write(&out)
	out.WriteString("\r\n")
	out.Write(w.body.Bytes())
	return out.Bytes(), true
}

// bufferWriter is an http.ResponseWriter into memory.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.header }

func (w *bufferWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
