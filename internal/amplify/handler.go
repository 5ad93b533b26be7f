package amplify

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/amplify/eventstream"
	"github.com/livenessd/livenessd/internal/amplify/sigv4"
	"github.com/livenessd/livenessd/internal/guard"
	"github.com/livenessd/livenessd/internal/wsutil"
)

// Handler serves Path. It is safe for concurrent use.
type Handler struct {
	cfg      Config
	verifier *sigv4.Verifier
	slots    chan struct{}
	streams  *guard.ConnLimit

	// running counts the streams; Shutdown refuses new ones.
	running wsutil.Streams
	// aborting is cancelled when Shutdown's context ends: the streams
	// still running end with ServiceUnavailableException.
	aborting context.Context
	abort    context.CancelFunc
}

// New validates cfg and returns the endpoint's handler.
func New(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent), streams: guard.NewConnLimit(cfg.StreamsPerAddress)}
	h.aborting, h.abort = context.WithCancel(context.Background())
	if cfg.Keys != nil {
		h.verifier = &sigv4.Verifier{Keys: cfg.Keys, Skew: cfg.Skew, Now: cfg.Now}
	}
	return h, nil
}

// NewHandler returns the endpoint's handler; with an invalid cfg it
// answers every request 503 and logs why (New reports the error instead).
func NewHandler(cfg Config) http.Handler {
	h, err := New(cfg)
	if err != nil {
		log := cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Error("amplify endpoint disabled", "err", err)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cfg.WriteError == nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			cfg.WriteError(w, r, fmt.Errorf("amplify endpoint not configured: %w", livenessd.ErrOverloaded))
		})
	}
	return h
}

// streamError is a failure the client is told about as an event-stream
// exception before the socket closes.
type streamError struct {
	// authFailure marks a refused credential or an unknown session: it
	// counts against the client address's failed authentications.
	authFailure bool
	exception   string // :exception-type
	message     string // body Message, shown to no end user but logged by apps
	close       websocket.StatusCode
	reason      string // recorded on the session when it aborts
	err         error  // cause, for the log
}

func (e *streamError) Error() string {
	if e.err != nil {
		return e.exception + ": " + e.message + ": " + e.err.Error()
	}
	return e.exception + ": " + e.message
}

func (e *streamError) Unwrap() error { return e.err }

func validation(msg string, err error) *streamError {
	return &streamError{exception: excValidation, message: msg, close: websocket.StatusPolicyViolation, reason: msg, err: err}
}

// sessionError maps the session service's errors: unknown, expired, used
// and foreign sessions, and a missing or wrong capture token, all read as
// not found, so the answer never tells whether a session id exists.
func sessionError(err error) *streamError {
	var se *streamError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, livenessd.ErrSessionNotFound), errors.Is(err, livenessd.ErrUnauthorized):
		return &streamError{authFailure: true, exception: excSessionNotFound, message: "Occurs when the given sessionId is not found", close: websocket.StatusPolicyViolation, err: err}
	case errors.Is(err, livenessd.ErrSessionExpired), errors.Is(err, livenessd.ErrSessionUsed):
		return &streamError{exception: excSessionNotFound, message: "Occurs when the given sessionId is not found", close: websocket.StatusPolicyViolation, err: err}
	case errors.Is(err, livenessd.ErrOverloaded), errors.Is(err, livenessd.ErrRateLimited):
		return &streamError{exception: excThrottling, message: "Too many requests", close: websocket.StatusTryAgainLater, err: err}
	}
	return &streamError{exception: excInternal, message: "Internal server error", close: websocket.StatusInternalError, reason: "internal error", err: err}
}

// params are the query parameters the endpoint reads.
type params struct {
	sessionID  string
	challenges map[string][]string
	width      int
	height     int
	token      string
}

func parseParams(u *url.URL) (params, error) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return params{}, fmt.Errorf("query: %w", err)
	}
	var p params
	p.sessionID = q.Get("session-id")
	if p.sessionID == "" {
		return p, errors.New("session-id missing")
	}
	if p.challenges, err = challengeVersions(q.Get("challenge-versions")); err != nil {
		return p, err
	}
	dim := func(name string) (int, error) {
		s := q.Get(name)
		v, err := strconv.Atoi(s)
		if err != nil || len(s) < 3 || len(s) > 4 || v < 100 {
			return 0, fmt.Errorf("%s %q must be 3-4 digits, at least 100", name, truncate(s, 16))
		}
		return v, nil
	}
	if p.width, err = dim("video-width"); err != nil {
		return p, err
	}
	if p.height, err = dim("video-height"); err != nil {
		return p, err
	}
	p.token = q.Get("X-Amz-Security-Token")
	return p, nil
}

// ServeHTTP upgrades to a WebSocket and runs one capture. Every refusal
// after the upgrade is an exception event: a refused upgrade would leave
// the user waiting 10 s for a generic connection timeout. Before the
// upgrade only the client address's limits are checked (open streams,
// failed authentications), and answered with WriteError.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		h.cfg.WriteError(w, r, fmt.Errorf("amplify: WebSocket upgrade required: %w", livenessd.ErrInvalidRequest))
		return
	}
	if !h.running.Enter() {
		h.cfg.WriteError(w, r, fmt.Errorf("amplify: server shutting down: %w", livenessd.ErrOverloaded))
		return
	}
	defer h.running.Leave()
	addr := h.cfg.Addresses.Of(r)
	release, ok := h.streams.Acquire(addr)
	if !ok {
		h.cfg.WriteError(w, r, fmt.Errorf("amplify: more than %d streams from one address: %w", h.cfg.StreamsPerAddress, livenessd.ErrRateLimited))
		return
	}
	defer release()
	if wait, ok := h.cfg.AuthFailures.Allow(r.Context(), addr); !ok {
		h.cfg.WriteError(w, r, &guard.RetryError{After: wait, Err: fmt.Errorf("amplify: too many failed authentications from this address: %w", livenessd.ErrRateLimited)})
		return
	}
	conn, err := wsutil.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: len(h.cfg.OriginPatterns) == 0,
		OriginPatterns:     h.cfg.OriginPatterns,
	})
	if err != nil {
		h.cfg.Logger.Info("amplify: upgrade refused", "err", err)
		h.cfg.WriteError(w, r, fmt.Errorf("amplify: %w", err))
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(int64(h.cfg.MaxFrameBytes))
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.MaxStreamDuration)
	defer cancel()
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	c := &stream{h: h, conn: conn.Conn, log: h.cfg.Logger}
	// At shutdown's deadline the client is told and the socket closed
	// from here: cancelling a read closes the socket at once, with no
	// room left to tell the client why.
	var shutting atomic.Bool
	told := make(chan struct{})
	stopTelling := context.AfterFunc(h.aborting, func() {
		defer close(told)
		shutting.Store(true)
		c.tell(context.Background(), excServiceUnavailable, "Service is shutting down, try again")
		conn.CloseWithin(h.cfg.CloseTimeout, websocket.StatusGoingAway, "server shutting down")
		stop()
	})
	defer func() {
		if !stopTelling() {
			<-told
		}
	}()

	err = c.run(ctx, r)
	if err == nil {
		conn.CloseWithin(h.cfg.CloseTimeout, websocket.StatusNormalClosure, "")
		return
	}
	var se *streamError
	switch {
	case shutting.Load():
		se = &streamError{reason: "server shutting down", err: err} // told already
	case !errors.As(err, &se):
		se = sessionError(err)
	}
	if se.authFailure {
		h.cfg.AuthFailures.Failed(r.Context(), addr)
	}
	if c.sess != nil && !c.finished {
		reason := se.reason
		if reason == "" {
			reason = se.message
		}
		if aerr := h.cfg.Captures.Abort(context.WithoutCancel(ctx), c.sess.ID, reason); aerr != nil {
			c.log.Error("amplify: abort session", "session", c.sess.ID, "err", aerr)
		}
		c.reportOutcome(ctx, nil, reason, 0)
	}
	if se.exception == "" { // the client went away: nothing to tell it
		c.log.Info("amplify: stream ended", "session", c.sessionID(), "reason", se.reason, "err", se.err)
		return
	}
	level := slog.LevelInfo
	if se.exception == excInternal {
		level = slog.LevelError
	}
	c.log.Log(ctx, level, "amplify: stream failed", "session", c.sessionID(), "exception", se.exception, "err", se)
	if c.sess == nil {
		// Refused before a capture began: tell and hang up at once.
		conn.SetDeadline(time.Now().Add(h.cfg.CloseTimeout))
	}
	c.tell(context.WithoutCancel(ctx), se.exception, se.message)
	conn.CloseWithin(h.cfg.CloseTimeout, se.close, truncate(se.exception, 100))
}

// Shutdown refuses new streams (503) and lets the running ones finish
// until ctx ends; those still running then end with
// ServiceUnavailableException and close 1001 (their sessions aborted), and
// Shutdown waits for them to close, at most the close timeout more.
func (h *Handler) Shutdown(ctx context.Context) error {
	if err := h.running.Drain(ctx, h.abort, 2*h.cfg.CloseTimeout); err != nil {
		return fmt.Errorf("amplify: shutdown: %w", err)
	}
	return nil
}

// authorize returns the check BeginCapture runs on the stored session,
// before it is marked IN_PROGRESS: the caller's credential, and that the
// client can run the session's challenge.
func (h *Handler) authorize(p params, signed *sigv4.Stream, info *[]byte) func(*livenessd.Session) error {
	return func(sess *livenessd.Session) error {
		if signed != nil {
			if subtle.ConstantTimeCompare([]byte(signed.Credential.Tenant), []byte(sess.Tenant)) != 1 {
				return fmt.Errorf("session %s: access key of another tenant: %w", sess.ID, livenessd.ErrSessionNotFound)
			}
		} else {
			switch {
			case p.token != "":
				if h.cfg.Tokens == nil {
					return fmt.Errorf("session %s: no token checker: %w", sess.ID, livenessd.ErrUnauthorized)
				}
				if err := h.cfg.Tokens.CheckClientToken(sess, p.token); err != nil {
					return err
				}
			case !h.cfg.AllowNoToken:
				return fmt.Errorf("session %s: X-Amz-Security-Token missing: %w", sess.ID, livenessd.ErrUnauthorized)
			}
		}
		if _, ok := p.challenges[sess.Challenge.Type]; !ok {
			return validation(fmt.Sprintf("the session requires %s, which the client does not offer", sess.Challenge.Type), nil)
		}
		b, err := serverSessionInformation(sess.Challenge, *h.cfg.Liveness.Fit, p.width, p.height, *h.cfg.ChallengeConfig)
		if err != nil {
			return err
		}
		*info = b
		return nil
	}
}

// clientCloseReason names the 4xxx codes the component closes with.
func clientCloseReason(code websocket.StatusCode) string {
	switch code {
	case 4001:
		return "face did not fit the oval in time"
	case 4003:
		return "user cancelled"
	case 4005:
		return "client runtime error"
	case 4007:
		return "face too close or several faces before the check"
	}
	if code >= 4000 {
		return fmt.Sprintf("client error (close code %d)", int(code))
	}
	return "connection closed before the end of the video"
}

// tell sends the client an exception event of type exception.
func (c *stream) tell(ctx context.Context, exception, message string) {
	body, _ := json.Marshal(map[string]string{"Message": message, "Code": exception})
	if msg, err := eventstream.Encode(eventstream.Exception(exception, body)); err == nil {
		c.write(ctx, msg)
	}
}

func (c *stream) write(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.h.cfg.WriteTimeout)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageBinary, msg)
}

func (c *stream) sessionID() string {
	if c.sess != nil {
		return c.sess.ID
	}
	return truncate(c.params.sessionID, 64)
}

func timeMillis(t time.Time) []byte {
	b, _ := json.Marshal(map[string]int64{"TimestampMillis": t.UnixMilli()})
	return b
}
