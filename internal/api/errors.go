package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/guard"
	"github.com/livenessd/livenessd/internal/session"
)

// Error kinds of the HTTP layer that the root package does not have. Each
// wraps the closest root kind so code outside the table still classifies it.
var (
	// ErrUnsupportedMediaType: the request's Content-Type is not accepted.
	ErrUnsupportedMediaType = fmt.Errorf("unsupported content type: %w", livenessd.ErrInvalidRequest)
	// ErrRouteNotFound: no endpoint at this path.
	ErrRouteNotFound = errors.New("no such endpoint")
	// ErrMethodNotAllowed: the path exists, the method does not.
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrHeaderTooLarge: the request line and headers are over the limit.
	ErrHeaderTooLarge = errors.New("request header fields too large")
)

// Error carries an explicit client message and details for one response.
// Handlers return it wrapped around a kind; the table still decides status
// and code from the kind.
type Error struct {
	Err     error
	Message string         // shown to the client instead of the kind's message
	Details map[string]any // merged into the body's details
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// errorKind is one row of the error table.
type errorKind struct {
	err     error
	status  int
	code    int
	message string
}

// Error codes. 1006-1011 and 5001 are the seed's; the rest are ours
// (docs/API.md lists them all).
const (
	CodeInvalidRequest     = 1001
	CodeUnsupportedMedia   = 1002
	CodeUnauthorized       = 1003
	CodeBodyTooLarge       = 1004
	CodeRateLimited        = 1005
	CodeCreateFailed       = 1006
	CodeSessionExpired     = 1007
	CodeSessionNotFound    = 1008
	CodeLowConfidence      = 1009
	CodeFaceMatchFailed    = 1010
	CodeLowSimilarity      = 1011
	CodeSessionUsed        = 1012
	CodeResultsNotReady    = 1013
	CodeNoSourceFace       = 1014
	CodeNoTargetFace       = 1015
	CodeInvalidImage       = 1016
	CodeUnsupportedImage   = 1017
	CodeImageTooSmall      = 1018
	CodeImageTooLarge      = 1019
	CodeTooManyPixels      = 1020
	CodeNoFace             = 1021
	CodeMultipleFaces      = 1022
	CodeRouteNotFound      = 1023
	CodeForbidden          = 1024
	CodeMethodNotAllowed   = 1025
	CodeHeaderTooLarge     = 1026
	CodeNoDocument         = 1027
	CodeUserLocked         = 1030
	CodeInternal           = 5000
	CodeServiceUnavailable = 5001
)

// errorTable maps error kinds to status, code and message: the one place
// where errors become HTTP. Order matters: more specific kinds first.
// Anything unmatched is a 500 with code 5000 and a generic message.
var errorTable = []errorKind{
	{ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Unsupported content type"},
	{ErrRouteNotFound, http.StatusNotFound, CodeRouteNotFound, "No such endpoint"},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Method not allowed"},
	{ErrHeaderTooLarge, http.StatusRequestHeaderFieldsTooLarge, CodeHeaderTooLarge, "Request header fields too large"},
	{livenessd.ErrNoSourceFace, http.StatusUnprocessableEntity, CodeNoSourceFace, "No face detected in the source image"},
	{livenessd.ErrNoTargetFace, http.StatusUnprocessableEntity, CodeNoTargetFace, "No face detected in the target image"},
	{livenessd.ErrNoFace, http.StatusUnprocessableEntity, CodeNoFace, "No face detected"},
	{livenessd.ErrMultipleFaces, http.StatusUnprocessableEntity, CodeMultipleFaces, "More than one face detected"},
	{livenessd.ErrNoDocument, http.StatusUnprocessableEntity, CodeNoDocument, "No identity document found"},
	{livenessd.ErrImageTooLarge, http.StatusRequestEntityTooLarge, CodeImageTooLarge, "Image too large"},
	{livenessd.ErrTooManyPixels, http.StatusRequestEntityTooLarge, CodeTooManyPixels, "Image has too many pixels"},
	{livenessd.ErrImageTooSmall, http.StatusBadRequest, CodeImageTooSmall, "Image too small"},
	{livenessd.ErrUnsupportedImage, http.StatusBadRequest, CodeUnsupportedImage, "Unsupported image format"},
	{livenessd.ErrInvalidImage, http.StatusBadRequest, CodeInvalidImage, "Image could not be decoded"},
	{livenessd.ErrInvalidRequest, http.StatusBadRequest, CodeInvalidRequest, "Invalid request"},
	{livenessd.ErrUnauthorized, http.StatusUnauthorized, CodeUnauthorized, "Missing or invalid API key"},
	{livenessd.ErrForbidden, http.StatusForbidden, CodeForbidden, "Forbidden"},
	{livenessd.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "Request body too large"},
	{livenessd.ErrUserLocked, http.StatusTooManyRequests, CodeUserLocked, "End user temporarily locked out after repeated failed checks"},
	{livenessd.ErrRateLimited, http.StatusTooManyRequests, CodeRateLimited, "Rate limit exceeded"},
	{livenessd.ErrStoreUnavailable, http.StatusServiceUnavailable, CodeServiceUnavailable, "Liveness service temporarily unavailable"},
	{livenessd.ErrSessionCreate, http.StatusInternalServerError, CodeCreateFailed, "Liveness session creation failed"},
	{livenessd.ErrSessionExpired, http.StatusBadRequest, CodeSessionExpired, "Liveness session expired"},
	{livenessd.ErrSessionNotFound, http.StatusNotFound, CodeSessionNotFound, "Liveness session not found"},
	{livenessd.ErrSessionUsed, http.StatusConflict, CodeSessionUsed, "Liveness session already used"},
	{livenessd.ErrSessionNotReady, http.StatusConflict, CodeResultsNotReady, "Liveness session has no result yet"},
	{livenessd.ErrLowConfidence, http.StatusUnprocessableEntity, CodeLowConfidence, "Liveness confidence too low"},
	{livenessd.ErrLowSimilarity, http.StatusUnprocessableEntity, CodeLowSimilarity, "Face similarity too low"},
	{livenessd.ErrFaceMatch, http.StatusInternalServerError, CodeFaceMatchFailed, "Face matching failed"},
	{livenessd.ErrOverloaded, http.StatusServiceUnavailable, CodeServiceUnavailable, "Liveness service temporarily unavailable"},
	{livenessd.ErrModels, http.StatusServiceUnavailable, CodeServiceUnavailable, "Liveness service temporarily unavailable"},
}

var internalKind = errorKind{nil, http.StatusInternalServerError, CodeInternal, "Internal server error"}

// classify returns the table row for err.
func classify(err error) errorKind {
	for _, k := range errorTable {
		if errors.Is(err, k.err) {
			return k
		}
	}
	return internalKind
}

// ErrorBody is the JSON body of every error response (the seed's shape).
type ErrorBody struct {
	ErrorCode int            `json:"errorCode"`
	Message   string         `json:"message"`
	Status    int            `json:"status"`
	Timestamp string         `json:"timestamp"`
	Details   map[string]any `json:"details"`
}

// WriteError answers with err in the seed's error body, classified by the
// error table, for handlers mounted with Handle (e.g. a capture endpoint
// refusing a request before a WebSocket upgrade).
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, err)
}

// writeError writes err as the seed's error body. Server errors are logged
// with the full chain and answered with the kind's generic message; client
// errors are logged at debug level and answered with their message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	k := kindOf(err)
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		if s.draining.Load() {
			// Cut short by the end of a graceful shutdown: retry elsewhere.
			k = errorKind{livenessd.ErrOverloaded, http.StatusServiceUnavailable, CodeServiceUnavailable, "Server shutting down; retry"}
		} else {
			// The client went away; nobody reads the answer.
			k = errorKind{nil, 499, CodeInternal, "Client closed request"}
		}
	}
	body := ErrorBody{
		ErrorCode: k.code,
		Message:   k.message,
		Status:    k.status,
		Timestamp: s.now().UTC().Format(time.RFC3339),
		Details:   map[string]any{},
	}
	var ae *Error
	if errors.As(err, &ae) {
		for key, v := range ae.Details {
			body.Details[key] = v
		}
		if ae.Message != "" && k.status < 500 {
			body.Message = ae.Message
		}
	}
	if k.status >= 500 {
		level := slog.LevelError
		switch {
		case r.URL.Path == "/readyz":
			level = slog.LevelDebug // probes of a draining or cut-off replica
		case k.status == http.StatusServiceUnavailable:
			level = slog.LevelWarn // load shed or store down: counted in the metrics
		}
		s.log.Log(r.Context(), level, "request failed", "method", r.Method, "path", r.URL.Path,
			"status", k.status, "code", k.code, "err", err)
	} else {
		if ae == nil || ae.Message == "" {
			// Client errors say what was wrong (the chain names the field
			// and the limit); server errors never leak internals.
			body.Message = clientMessage(k, err)
		}
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path,
			"status", k.status, "code", k.code, "err", err)
	}
	h := w.Header()
	switch k.status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="livenessd"`)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		after := s.retryAfterSeconds()
		var re *guard.RetryError
		if errors.As(err, &re) {
			after = max(1, int((re.After+time.Second-1)/time.Second))
		}
		h.Set("Retry-After", strconv.Itoa(after))
	}
	var locked *session.LockedError
	if errors.As(err, &locked) {
		// The lock, not the server's load, says when to come back.
		secs := max(1, int(locked.Until.Sub(s.now())/time.Second)+1)
		h.Set("Retry-After", strconv.Itoa(secs))
		body.Details["lockedUntil"] = locked.Until.UTC().Format(time.RFC3339)
	}
	status := k.status
	if status == 499 {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"errorCode":5000,"message":"Internal server error","status":500}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// clientMessage is the kind's message followed by what the error chain adds
// to it ("Invalid request: settings: field ... must be int"), without
// repeating the kind's own text at the end of the chain.
func clientMessage(k errorKind, err error) string {
	msg := err.Error()
	if k.err != nil {
		kind := k.err.Error()
		if msg == kind {
			return k.message
		}
		msg = strings.TrimSuffix(msg, ": "+kind)
	}
	return k.message + ": " + msg
}

// ErrorCodes returns every error code the server answers with and its
// status (for documentation checks).
func ErrorCodes() map[int]int {
	m := map[int]int{internalKind.code: internalKind.status}
	for _, k := range errorTable {
		m[k.code] = k.status
	}
	return m
}
