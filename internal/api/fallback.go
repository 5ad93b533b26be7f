package api

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/livenessd/livenessd"
)

// ServeHTTP implements http.Handler. Every answer carries the seed's error
// body, also those the router gives itself: a path that is not canonical
// ("..", ".", "//") is refused with 400 before any handler or credential
// is looked at (the router would redirect it), an unknown path is 404 1023
// and a known path with another method 405 1025 with Allow.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		if p := r.URL.EscapedPath(); cleanPath(p) != p {
			s.wrap(s.handler(func(http.ResponseWriter, *http.Request) error {
				return &Error{Err: fmt.Errorf("path %q: %w", truncate(p, 100), livenessd.ErrInvalidRequest),
					Message: "Invalid request: the path is not canonical (no '.', '..' or empty segments)"}
			})).ServeHTTP(w, r)
			return
		}
	}
	if h, pattern := s.mux.Handler(r); pattern == "" {
		// The router's own 404 or 405 (plain text), rewritten by wrap.
		s.wrap(h).ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath is the router's canonical form of p (net/http's cleanPath):
// rooted, no "." or ".." elements, no empty elements, a trailing slash
// kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// statusError is an error response a handler wrote as plain text, kept
// with its status; kindForStatus gives the table row.
type statusError struct {
	status int
	text   string
}

func (e *statusError) Error() string {
	if e.text == "" {
		return http.StatusText(e.status)
	}
	return e.text
}

func (e *statusError) Unwrap() error { return kindForStatus[e.status] }

// kindForStatus maps the statuses handlers and the router write as plain
// text to error kinds; others keep their status with code 1001 (4xx) or
// 5000 (5xx).
var kindForStatus = map[int]error{
	http.StatusBadRequest:                  livenessd.ErrInvalidRequest,
	http.StatusForbidden:                   livenessd.ErrForbidden,
	http.StatusNotFound:                    ErrRouteNotFound,
	http.StatusMethodNotAllowed:            ErrMethodNotAllowed,
	http.StatusRequestEntityTooLarge:       livenessd.ErrBodyTooLarge,
	http.StatusTooManyRequests:             livenessd.ErrRateLimited,
	http.StatusRequestHeaderFieldsTooLarge: ErrHeaderTooLarge,
	http.StatusServiceUnavailable:          livenessd.ErrOverloaded,
}

// statusKind is the table row for a plain-text error of an unmapped
// status.
func statusKind(err error) (errorKind, bool) {
	var se *statusError
	if !errors.As(err, &se) || kindForStatus[se.status] != nil {
		return errorKind{}, false
	}
	if se.status >= 500 {
		return errorKind{nil, se.status, CodeInternal, http.StatusText(se.status)}, true
	}
	return errorKind{nil, se.status, CodeInvalidRequest, http.StatusText(se.status)}, true
}

// errorRewriter holds back an error response written as anything but JSON
// (http.Error, http.NotFound, the router's 404/405) and writes it again
// with the seed's error body; everything else passes through.
type errorRewriter struct {
	http.ResponseWriter
	s         *Server
	r         *http.Request
	status    int // held-back error status
	text      strings.Builder
	committed bool
}

func isJSON(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == "application/json" || strings.HasSuffix(ct, "+json") || strings.HasPrefix(ct, "application/x-amz-json")
}

func (w *errorRewriter) WriteHeader(code int) {
	if !w.committed && w.status == 0 && code >= 400 && !isJSON(w.Header().Get("Content-Type")) {
		w.status = code
		return
	}
	w.committed = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorRewriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		if w.text.Len() < 200 {
			w.text.Write(b[:min(len(b), 200)])
		}
		return len(b), nil
	}
	w.committed = true
	return w.ResponseWriter.Write(b)
}

// finish writes the held-back error, if any.
func (w *errorRewriter) finish() {
	if w.status == 0 {
		return
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Type")
	text := strings.TrimSpace(w.text.String())
	if text == http.StatusText(w.status) || strings.HasPrefix(text, strconv.Itoa(w.status)+" ") || strings.HasPrefix(text, "<") {
		text = "" // says nothing the status does not ("404 page not found"), or is markup
	}
	var err error = &statusError{status: w.status, text: text}
	if text == "" {
		err = &Error{Err: err, Message: kindOf(err).message}
	}
	w.s.writeError(w.ResponseWriter, w.r, err)
}

// kindOf is the table row writeError uses for err.
func kindOf(err error) errorKind {
	if k, ok := statusKind(err); ok {
		return k
	}
	return classify(err)
}

func (w *errorRewriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.status == 0 {
		w.committed = true
		f.Flush()
	}
}

func (w *errorRewriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.committed = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *errorRewriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
