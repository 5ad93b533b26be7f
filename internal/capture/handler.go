package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/guard"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/wsutil"
)

// Defaults of Config.
const (
	DefaultMaxFrameBytes = 400_000
	// DefaultMaxFrames is DefaultMaxDuration at DefaultFPS: the duration
	// binds, not the count (someone who starts close moves back, then
	// closer, before the colours).
	DefaultMaxFrames      = 450
	DefaultMaxDuration    = 30 * time.Second
	DefaultMessageRate    = 40 // messages per second, sustained
	DefaultReadTimeout    = 5 * time.Second
	DefaultWriteTimeout   = 5 * time.Second
	DefaultMaxCaptures    = 8
	DefaultFPS            = 15
	DefaultMaxFramePixels = 1280 * 720
	DefaultCloseTimeout   = time.Second
	// DefaultMaxFrameLag bounds how far frames and colour events may fall
	// behind the server's clock, or run ahead of it (a slow uplink queues
	// at most about 1 s of frames in the SDK, 512 KB).
	DefaultMaxFrameLag = 3 * time.Second
	// DefaultFirstColorWithin bounds the time from the server's flash to
	// the arrival of the first colour (the SDK starts at the next screen
	// refresh).
	DefaultFirstColorWithin = 3 * time.Second
)

// Close codes of protocol v1 (docs/PROTOCOL.md).
const (
	CodeBadMessage = 4400
	CodeNotFound   = 4404
	CodeTimeout    = 4408
	CodeUsed       = 4409
	CodeExpired    = 4410
	CodeTooLarge   = 4413
	CodeRate       = 4429
	CodeLate       = 4425 // the stream fell behind the server's clock
	CodeServer     = 1011
	CodeGoingAway  = 1001
	// CodeClientFitTimeout is the client's close code when it gives up
	// because the face never filled the oval (the SDK's countdown).
	CodeClientFitTimeout = 4001
)

// Limiter bounds concurrent work. *semaphore.Weighted from
// golang.org/x/sync implements it.
type Limiter interface {
	Acquire(ctx context.Context, n int64) error
	TryAcquire(n int64) bool
	Release(n int64)
}

// Config wires the handler. Captures, Observer and WriteError are required.
type Config struct {
	Captures session.Captures
	Observer liveness.Observer
	Analysis liveness.Config
	// WriteError answers a request refused before the upgrade with the
	// seed's error body (api.Server.WriteError).
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// CaptureSlots bounds concurrent captures (DefaultMaxCaptures). A slot
	// is taken only after the session and its token were checked; past
	// the bound the upgrade is refused with 503, code 5001 and Retry-After.
	CaptureSlots Limiter
	// Work bounds concurrent frame analyses across the server; shared with
	// the other inference users. Nil means no bound beyond CaptureSlots.
	Work Limiter
	// Outcomes, when set, is told how each begun capture ended (log line,
	// metrics); Frames how long each frame's analysis took and how far
	// behind the stream it ran (admission control). See observe.go.
	Outcomes OutcomeObserver
	Frames   FrameObserver
	// Addresses finds the client address the limits below are kept by.
	Addresses guard.Addresses
	// StreamsPerAddress bounds the streams one client address holds at
	// once, refused ones included (guard.DefaultStreamsPerAddress;
	// negative: no limit).
	StreamsPerAddress int
	// AuthFailures refuses addresses that failed authentication too often
	// (429 and Retry-After before any lookup); share it with the API so
	// both count together. Nil: a limiter of the handler's own.
	AuthFailures guard.FailureLimiter
	// OriginPatterns are the allowed browser origins (path.Match patterns
	// of host[:port]); empty allows only the request's own host.
	OriginPatterns []string
	MaxFrameBytes  int64
	MaxFrames      int
	MaxDuration    time.Duration
	MessageRate    float64
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	// CloseTimeout bounds the close handshake: a client that never answers
	// the close frame is cut off after it (DefaultCloseTimeout).
	CloseTimeout time.Duration
	// MaxFrameLag (DefaultMaxFrameLag) and FirstColorWithin
	// (DefaultFirstColorWithin) hold the capture to the server's clock
	// (timing.go); a negative value turns the check off.
	MaxFrameLag      time.Duration
	FirstColorWithin time.Duration
	Logger           *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if c.MaxFrames <= 0 {
		c.MaxFrames = DefaultMaxFrames
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = DefaultMaxDuration
	}
	if c.MessageRate <= 0 {
		c.MessageRate = DefaultMessageRate
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.MaxFrameLag == 0 {
		c.MaxFrameLag = DefaultMaxFrameLag
	}
	if c.FirstColorWithin == 0 {
		c.FirstColorWithin = DefaultFirstColorWithin
	}
	if c.CaptureSlots == nil {
		c.CaptureSlots = NewLimiter(DefaultMaxCaptures)
	}
	if c.StreamsPerAddress == 0 {
		c.StreamsPerAddress = guard.DefaultStreamsPerAddress
	}
	if c.AuthFailures == nil {
		c.AuthFailures = guard.NewFailureLimit(0, 0, nil)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.WriteError == nil {
		log := c.Logger
		c.WriteError = func(w http.ResponseWriter, r *http.Request, err error) {
			log.Error("capture: Config.WriteError not set", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
		}
	}
	c.Analysis.MaxFrames = c.MaxFrames
	c.Analysis = c.Analysis.WithDefaults()
	return c
}

// Handler serves the capture WebSocket.
type Handler struct {
	cfg       Config
	streams   *guard.ConnLimit
	running   wsutil.Streams // Shutdown refuses new captures
	abort     chan struct{}  // closed: captures still running end with 1001
	abortOnce sync.Once
}

// NewHandler returns the capture WebSocket handler. Mount it on
// "GET /v1/liveness/session/{sessionId}/stream" (or {id}); without a path
// pattern the id is the path element before "/stream".
func NewHandler(cfg Config) *Handler {
	cfg = cfg.withDefaults()
	return &Handler{cfg: cfg, streams: guard.NewConnLimit(cfg.StreamsPerAddress), abort: make(chan struct{})}
}

// Shutdown refuses new captures (503, 5001) and lets the running ones
// finish until ctx ends; those still running then end with 1001 (their
// sessions aborted) and Shutdown waits for them to close.
func (h *Handler) Shutdown(ctx context.Context) error {
	if err := h.running.Drain(ctx, func() { h.abortOnce.Do(func() { close(h.abort) }) }, h.cfg.WriteTimeout); err != nil {
		return fmt.Errorf("capture: shutdown: %w", err)
	}
	return nil
}

func sessionID(r *http.Request) string {
	for _, name := range []string{"sessionId", "id"} {
		if id := r.PathValue(name); id != "" {
			return id
		}
	}
	p := strings.TrimSuffix(r.URL.Path, "/stream")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// ServeHTTP checks, in this order and before any capture resource is
// taken: the client address's open streams and failed authentications,
// then the session and its token. A refused session or token is told
// over the upgraded socket (the browser cannot read an HTTP status) and
// the socket is closed at once, the close handshake bounded by
// CloseTimeout. Only then is a capture slot taken.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := h.cfg
	if !h.running.Enter() {
		cfg.WriteError(w, r, fmt.Errorf("capture: server shutting down: %w", livenessd.ErrOverloaded))
		return
	}
	defer h.running.Leave()

	addr := cfg.Addresses.Of(r)
	release, ok := h.streams.Acquire(addr)
	if !ok {
		cfg.WriteError(w, r, fmt.Errorf("capture: more than %d streams from one address: %w", cfg.StreamsPerAddress, livenessd.ErrRateLimited))
		return
	}
	defer release()
	if wait, ok := cfg.AuthFailures.Allow(r.Context(), addr); !ok {
		cfg.WriteError(w, r, &guard.RetryError{After: wait, Err: fmt.Errorf("capture: too many failed authentications from this address: %w", livenessd.ErrRateLimited)})
		return
	}
	id, token := sessionID(r), r.URL.Query().Get("token")
	authorize := func(s *livenessd.Session) error { return cfg.Captures.CheckClientToken(s, token) }
	if _, err := cfg.Captures.CheckCapture(r.Context(), id, authorize); err != nil {
		if errors.Is(err, livenessd.ErrSessionNotFound) || errors.Is(err, livenessd.ErrUnauthorized) {
			cfg.AuthFailures.Failed(r.Context(), addr)
		}
		h.refuse(w, r, beginError(err))
		return
	}

	if !cfg.CaptureSlots.TryAcquire(1) {
		cfg.WriteError(w, r, fmt.Errorf("capture: too many captures in progress: %w", livenessd.ErrOverloaded))
		return
	}
	defer cfg.CaptureSlots.Release(1)
	conn, err := h.accept(w, r)
	if err != nil {
		return // accept answered
	}
	defer conn.CloseNow()
	// The reader applies the size limit itself, so an oversized frame gets
	// the protocol's 4413 rather than the library's bare 1009.
	conn.SetReadLimit(-1)
	ctx, cancel := context.WithTimeout(r.Context(), cfg.MaxDuration)
	defer cancel()
	c := &captureConn{h: h, conn: conn, id: id, out: make(chan any, 16), log: cfg.Logger}
	c.serve(ctx, r.Context(), authorize)
}

// refuse upgrades, sends the error and closes at once: the write and the
// close handshake each end within CloseTimeout.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, e *protoError) {
	conn, err := h.accept(w, r)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.CloseTimeout)
	defer cancel()
	if b, err := json.Marshal(ErrorMsg{Type: "error", Code: e.code, Message: e.msg}); err == nil {
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			return
		}
	}
	conn.CloseWithin(h.cfg.CloseTimeout, websocket.StatusCode(e.code), truncate(e.msg, 100))
}

// accept upgrades; a refused handshake is answered with WriteError.
func (h *Handler) accept(w http.ResponseWriter, r *http.Request) (*wsutil.Conn, error) {
	conn, err := wsutil.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{Subprotocol},
		OriginPatterns: h.cfg.OriginPatterns,
	})
	if err != nil {
		h.cfg.Logger.Debug("capture: upgrade refused", "err", err)
		h.cfg.WriteError(w, r, fmt.Errorf("capture: %w", err))
		return nil, err
	}
	return conn, nil
}

// captureConn is one capture: a reader goroutine, a writer goroutine, and
// the analysis on the serving goroutine.
type captureConn struct {
	h    *Handler
	conn *wsutil.Conn
	id   string
	// start is when the challenge was sent: the origin of arrival times.
	start time.Time
	out   chan any
	log   *slog.Logger

	begun     bool
	closeOnce sync.Once
	timing    frameTiming // observe.go
}

// event is what the reader hands to the analysis, in arrival order.
type event struct {
	frame []byte
	at    time.Duration
	msg   *ClientMessage
	err   *protoError
	// arrival is when the reader had the message, since the challenge was
	// sent; held is how long the reader had been blocked by then, waiting
	// for the analysis to take its events (the server's own delay).
	arrival, held time.Duration
}

type protoError struct {
	code int
	msg  string
}

func (e *protoError) Error() string { return e.msg }

// serve runs the capture under ctx (bounded by MaxDuration); the reader
// runs under base (the request's context) so that when ctx runs out the
// error can still be sent before the connection closes: cancelling a Read
// closes the connection at once.
func (c *captureConn) serve(ctx, base context.Context, authorize func(*livenessd.Session) error) {
	cfg := c.h.cfg
	writerDone := make(chan struct{})
	go c.writer(ctx, writerDone)
	rctx, rcancel := context.WithCancel(base)
	// Order matters: the writer drains (result, close frame) before the
	// reader's context goes, since cancelling a Read closes the connection.
	defer func() {
		close(c.out)
		<-writerDone
		rcancel()
	}()

	sess, err := cfg.Captures.BeginCapture(ctx, c.id, authorize)
	if err != nil {
		c.fail(ctx, beginError(err))
		return
	}
	c.begun = true
	c.start = time.Now()
	c.send(challengeMsg(sess.Challenge, *cfg.Analysis.Fit, LimitsMsg{
		MaxFrameBytes: cfg.MaxFrameBytes, MaxFrames: cfg.MaxFrames,
		MaxDurationMs: cfg.MaxDuration.Milliseconds(), FPS: DefaultFPS,
	}))
	run := liveness.NewRun(cfg.Observer, sess.Challenge, sess.Settings, cfg.Analysis)
	events := make(chan event, 8)
	go c.reader(rctx, events)
	idle := time.NewTimer(cfg.ReadTimeout)
	defer idle.Stop()

	var last GuidanceMsg
	var lastSent time.Time
	nframes := 0
	var lastAt time.Duration = -1
	clock := newClockCheck(cfg)
	limits := imageio.Limits{MaxBytes: cfg.MaxFrameBytes, MaxPixels: DefaultMaxFramePixels, MinSide: 64}
	for {
		var ev event
		select {
		case ev = <-events:
		default:
			select {
			case <-ctx.Done():
				c.fail(ctx, &protoError{CodeTimeout, "capture took too long"})
				return
			case <-idle.C:
				c.fail(ctx, &protoError{CodeTimeout, "no message within the read timeout"})
				return
			case <-c.h.abort:
				c.fail(ctx, &protoError{CodeGoingAway, "server shutting down"})
				return
			case ev = <-events:
			}
		}
		idle.Reset(cfg.ReadTimeout)
		switch {
		case ev.err != nil:
			c.fail(ctx, ev.err)
			return
		case ev.frame != nil:
			nframes++
			if nframes > cfg.MaxFrames {
				c.fail(ctx, &protoError{CodeTooLarge, fmt.Sprintf("more than %d frames", cfg.MaxFrames)})
				return
			}
			if ev.at <= lastAt {
				c.fail(ctx, &protoError{CodeBadMessage, "frame timestamps must increase"})
				return
			}
			if pe := clock.event(ev, ev.at); pe != nil {
				c.fail(ctx, pe)
				return
			}
			lastAt = ev.at
			// libjpeg-turbo at full size: a third of image/jpeg's CPU per
			// frame; the evaluation decodes its frames the same way.
			img, err := imageio.DecodeReduced(ev.frame, limits, 0)
			if err != nil {
				code := CodeBadMessage
				if errors.Is(err, livenessd.ErrImageTooLarge) || errors.Is(err, livenessd.ErrTooManyPixels) {
					code = CodeTooLarge
				}
				c.fail(ctx, &protoError{code, "frame: " + err.Error()})
				return
			}
			if cfg.Work != nil {
				if err := cfg.Work.Acquire(ctx, 1); err != nil {
					c.fail(ctx, &protoError{CodeTimeout, "server busy"})
					return
				}
			}
			analysing := time.Now()
			g, inOval, flash, err := run.AddFrame(ctx, liveness.Frame{Index: nframes - 1, At: ev.at, Image: img})
			if cfg.Work != nil {
				cfg.Work.Release(1)
			}
			c.frameAnalysed(analysing, c.start.Add(ev.arrival))
			if err != nil {
				if ctx.Err() != nil {
					c.fail(ctx, &protoError{CodeTimeout, "capture took too long"})
					return
				}
				c.log.Error("capture: analysis", "session", c.id, "err", err)
				c.fail(ctx, &protoError{CodeServer, "analysis failed"})
				return
			}
			pos := run.Position()
			m := GuidanceMsg{Type: "guidance", Code: string(g), InOval: inOval, Stage: string(pos.Stage),
				Fill: math.Round(pos.Fill*100) / 100, Need: math.Round(pos.Need*100) / 100}
			if changed(last, m) && (time.Since(lastSent) >= 200*time.Millisecond || flash) {
				c.send(m)
				last, lastSent = m, time.Now()
			}
			if flash {
				clock.flash(time.Since(c.start), ev.held)
				c.send(StatusMsg{Type: "flash"})
			}
		case ev.msg != nil:
			if pe := clock.event(ev, ev.msg.AtDuration()); pe != nil {
				c.fail(ctx, pe)
				return
			}
			switch ev.msg.Type {
			case MsgColor:
				if !run.Flashed() {
					c.fail(ctx, &protoError{CodeBadMessage, "colour before flash"})
					return
				}
				if pe := clock.color(ev); pe != nil {
					c.fail(ctx, pe)
					return
				}
				run.ColorShown(liveness.ColorShown{Index: ev.msg.Index, At: ev.msg.AtDuration()})
			case MsgEnd:
				if !run.Flashed() {
					c.fail(ctx, &protoError{CodeBadMessage, "end before flash"})
					return
				}
				run.End(ev.msg.AtDuration())
				c.finish(ctx, run)
				return
			}
		}
	}
}

// changed reports whether guidance m is worth sending after prev: another
// instruction, stage or oval state, or a fill that moved by 0.03 or more
// (the client's progress display).
func changed(prev, m GuidanceMsg) bool {
	return m.Code != prev.Code || m.InOval != prev.InOval || m.Stage != prev.Stage ||
		math.Abs(m.Fill-prev.Fill) >= 0.03 || math.Abs(m.Need-prev.Need) >= 0.03
}

// finish runs the fusion, stores the verdict and tells the client the
// status only.
func (c *captureConn) finish(ctx context.Context, run *liveness.Run) {
	res, err := run.Finish(ctx)
	if err != nil {
		c.fail(ctx, &protoError{CodeServer, "analysis failed"})
		return
	}
	if err := c.h.cfg.Captures.Complete(context.WithoutCancel(ctx), c.id, res); err != nil {
		c.log.Error("capture: store result", "session", c.id, "err", err)
		c.fail(ctx, &protoError{CodeServer, "could not store the result"})
		return
	}
	c.begun = false // completed: nothing to abort
	c.reportOutcome(ctx, &res, "")
	c.send(StatusMsg{Type: "result", Status: string(res.Status)})
	c.send(closeMsg{code: websocket.StatusNormalClosure, reason: "done"})
}

// beginError maps BeginCapture's errors to protocol errors.
func beginError(err error) *protoError {
	switch {
	case errors.Is(err, livenessd.ErrSessionNotFound), errors.Is(err, livenessd.ErrUnauthorized):
		return &protoError{CodeNotFound, "session not found"}
	case errors.Is(err, livenessd.ErrSessionExpired):
		return &protoError{CodeExpired, "session expired"}
	case errors.Is(err, livenessd.ErrSessionUsed):
		return &protoError{CodeUsed, "session already used"}
	}
	return &protoError{CodeServer, "server error"}
}

// fail aborts the session (when the capture had begun), sends the error
// and closes.
func (c *captureConn) fail(ctx context.Context, e *protoError) {
	if c.begun {
		if err := c.h.cfg.Captures.Abort(context.WithoutCancel(ctx), c.id, e.msg); err != nil {
			c.log.Error("capture: abort", "session", c.id, "err", err)
		}
		c.begun = false
		c.reportOutcome(ctx, nil, e.msg)
	}
	c.send(ErrorMsg{Type: "error", Code: e.code, Message: e.msg})
	c.send(closeMsg{code: websocket.StatusCode(e.code), reason: truncate(e.msg, 100)})
}

type closeMsg struct {
	code   websocket.StatusCode
	reason string
}

// send queues a message for the writer; it never blocks the analysis for
// long: a client that does not read is cut off by the write timeout.
func (c *captureConn) send(m any) {
	select {
	case c.out <- m:
	case <-time.After(c.h.cfg.WriteTimeout):
		c.conn.CloseNow()
	}
}

// writer is the only goroutine writing to the connection.
func (c *captureConn) writer(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	closed := false
	for m := range c.out {
		if closed {
			continue
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.h.cfg.WriteTimeout)
		var err error
		switch m := m.(type) {
		case closeMsg:
			err = c.conn.CloseWithin(c.h.cfg.CloseTimeout, m.code, m.reason)
			closed = true
		default:
			var b []byte
			if b, err = json.Marshal(m); err == nil {
				err = c.conn.Write(wctx, websocket.MessageText, b)
			}
		}
		cancel()
		if err != nil && !closed {
			c.conn.CloseNow()
			closed = true
		}
	}
}

// reader is the only goroutine reading: it enforces the message rate
// (the serving loop enforces the idle deadline), parses, and hands events over in order.
func (c *captureConn) reader(ctx context.Context, events chan<- event) {
	cfg := c.h.cfg
	var held time.Duration // blocked behind the analysis, in total
	emit := func(ev event) bool {
		select {
		case events <- ev:
			return true
		default:
		}
		blocked := time.Now()
		defer func() { held += time.Since(blocked) }()
		select {
		case events <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	bucket := cfg.MessageRate * 2
	last := time.Now()
	for {
		typ, b, err := c.readMessage(ctx)
		arrival := time.Since(c.start)
		var tooLarge *tooLargeError
		if errors.As(err, &tooLarge) {
			emit(event{err: &protoError{CodeTooLarge, tooLarge.Error()}})
			return
		}
		if err != nil {
			var pe *protoError
			switch {
			case websocket.CloseStatus(err) == CodeClientFitTimeout:
				pe = &protoError{CodeBadMessage, "the face did not fill the oval in time (the client gave up)"}
			case websocket.CloseStatus(err) != -1:
				pe = &protoError{CodeBadMessage, "client closed the connection"}
			default:
				pe = &protoError{CodeBadMessage, "connection lost"}
			}
			emit(event{err: pe})
			return
		}
		now := time.Now()
		bucket = min(cfg.MessageRate*2, bucket+now.Sub(last).Seconds()*cfg.MessageRate)
		last = now
		if bucket < 1 {
			emit(event{err: &protoError{CodeRate, "too many messages"}})
			return
		}
		bucket--
		ev := event{arrival: arrival, held: held}
		switch typ {
		case websocket.MessageBinary:
			at, jpg, err := ParseFrame(b)
			if err != nil {
				ev.err = &protoError{CodeBadMessage, err.Error()}
			} else {
				ev.frame, ev.at = jpg, at
			}
		default:
			m, err := ParseClientMessage(b)
			if err != nil {
				ev.err = &protoError{CodeBadMessage, err.Error()}
			} else if m.Type == MsgHello {
				continue
			} else {
				ev.msg = &m
			}
		}
		if !emit(ev) || ev.err != nil {
			return
		}
	}
}

// tooLargeError names the limit of the message type that was exceeded.
type tooLargeError struct {
	kind  string
	limit int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s message larger than %d bytes", e.kind, e.limit)
}

// readMessage reads one message of at most MaxFrameBytes+8 bytes (text
// messages: maxTextBytes) without buffering more than that.
func (c *captureConn) readMessage(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, r, err := c.conn.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	limit, kind := c.h.cfg.MaxFrameBytes+8, "binary"
	if typ == websocket.MessageText {
		limit, kind = maxTextBytes, "text"
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return 0, nil, err
	}
	if int64(len(b)) > limit {
		return 0, nil, &tooLargeError{kind, limit}
	}
	return typ, b, nil
}

// NewLimiter returns a counting semaphore of n slots.
func NewLimiter(n int) Limiter { return &chanLimiter{ch: make(chan struct{}, n)} }

type chanLimiter struct{ ch chan struct{} }

func (l *chanLimiter) Acquire(ctx context.Context, n int64) error {
	for range n {
		select {
		case l.ch <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (l *chanLimiter) TryAcquire(n int64) bool {
	for i := range n {
		select {
		case l.ch <- struct{}{}:
		default:
			l.Release(i)
			return false
		}
	}
	return true
}

func (l *chanLimiter) Release(n int64) {
	for range n {
		<-l.ch
	}
}
