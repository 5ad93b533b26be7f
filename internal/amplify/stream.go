package amplify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/amplify/eventstream"
	"github.com/livenessd/livenessd/internal/amplify/sigv4"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/timing"
)

// stream is one connection's capture.
type stream struct {
	h      *Handler
	conn   *websocket.Conn
	log    *slog.Logger
	params params
	signed *sigv4.Stream
	sess   *livenessd.Session
	// finished is set once the verdict is stored; no abort after that.
	finished bool
	// began is when the capture was admitted; streamEnd when the client's
	// end of video arrived (observe.go).
	began, streamEnd time.Time

	video       bytes.Buffer // the chunks, when not decoded as they arrive
	videoBytes  int
	decoding    *streamDecode // streaming.go: the decode running as chunks arrive
	chunks      int
	challengeID string
	start       *int64 // client VideoStartTimestamp, epoch ms
	end         *int64 // client VideoEndTimestamp
	colors      []colorEvent

	// opened and lag hold the colour events to the server's clock.
	opened time.Time
	lag    timing.Lag
}

type colorEvent struct {
	seq      int
	current  [3]int
	previous [3]int
	at       int64 // client epoch ms
}

// errEndOfVideo stops the read loop at the client's end-of-video marker.
var errEndOfVideo = errors.New("end of video")

func (c *stream) run(ctx context.Context, r *http.Request) error {
	defer c.stopDecode() // streaming.go
	var err error
	if c.params, err = parseParams(r.URL); err != nil {
		return validation("invalid request: "+err.Error(), err)
	}
	if c.h.verifier != nil {
		c.signed, err = c.h.verifier.VerifyPresigned(http.MethodGet, r.Host, r.URL)
		if err != nil {
			return &streamError{authFailure: true, exception: excAccessDenied, message: "The request signature is invalid or expired", close: websocket.StatusPolicyViolation, err: err}
		}
	}
	release, err := c.admit()
	if err != nil {
		return err
	}
	defer release()
	var info []byte
	sess, err := c.h.cfg.Captures.BeginCapture(ctx, c.params.sessionID, c.h.authorize(c.params, c.signed, &info))
	if err != nil {
		return sessionError(err)
	}
	c.sess = sess
	msg, err := eventstream.Encode(eventstream.Event(eventServerSession, info))
	if err != nil {
		return sessionError(err)
	}
	if err := c.write(ctx, msg); err != nil {
		return &streamError{reason: "connection lost before the challenge was sent", err: err}
	}
	c.log.Info("amplify: challenge sent", "session", sess.ID, "type", sess.Challenge.Type, "width", c.params.width, "height", c.params.height)

	for {
		err := c.readOne(ctx)
		if errors.Is(err, errEndOfVideo) {
			c.streamEnd = time.Now()
			break
		}
		if err != nil {
			return err
		}
	}
	return c.finish(ctx)
}

func (c *stream) limits() eventstream.Limits {
	return eventstream.Limits{MaxMessageLen: c.h.cfg.MaxFrameBytes}
}

// readOne reads and handles one client message.
func (c *stream) readOne(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, c.h.cfg.IdleTimeout)
	typ, b, err := c.conn.Read(rctx)
	cancel()
	if err != nil {
		if code := websocket.CloseStatus(err); code != -1 {
			return &streamError{reason: clientCloseReason(code), err: err}
		}
		if ctx.Err() == nil && rctx.Err() != nil {
			return &streamError{exception: excValidation, message: "stream idle timeout", close: websocket.StatusPolicyViolation, reason: "stream idle timeout", err: err}
		}
		return &streamError{reason: "connection lost", err: err}
	}
	if typ != websocket.MessageBinary {
		return validation("text frames are not part of the protocol", nil)
	}
	env, err := eventstream.DecodeEnvelope(b, c.limits())
	if err != nil {
		return validation("request couldn't be parsed", err)
	}
	if c.signed != nil {
		if err := c.signed.VerifyChunk(env); err != nil {
			return &streamError{exception: excAccessDenied, message: "Event signature does not match", close: websocket.StatusPolicyViolation, reason: "invalid event signature", err: err}
		}
	}
	if len(env.Inner) == 0 { // the SDK's end-of-stream frame
		return errEndOfVideo
	}
	m, err := eventstream.Decode(env.Inner, c.limits())
	if err != nil {
		return validation("request couldn't be parsed", err)
	}
	if mt := m.Headers.GetString(eventstream.HeaderMessageType); mt != eventstream.MessageTypeEvent {
		return validation(fmt.Sprintf("unexpected message type %q", truncate(mt, 32)), nil)
	}
	switch m.Headers.GetString(eventstream.HeaderEventType) {
	case eventVideo:
		return c.onVideo(ctx, m.Payload)
	case eventClientSession:
		return c.onClientSession(m.Payload)
	}
	return nil // unknown events are skipped, as the SDK does
}

func (c *stream) onVideo(ctx context.Context, payload []byte) error {
	var ev videoEventJSON
	if err := json.Unmarshal(payload, &ev); err != nil {
		return validation("VideoEvent couldn't be parsed", err)
	}
	if len(ev.VideoChunk) == 0 {
		return errEndOfVideo
	}
	if c.videoBytes+len(ev.VideoChunk) > c.h.cfg.MaxVideoBytes {
		return validation(fmt.Sprintf("video exceeds %d bytes", c.h.cfg.MaxVideoBytes), nil)
	}
	if c.chunks == 0 {
		if _, err := containerFormat(ev.VideoChunk); err != nil {
			return validation("video container format not supported", err)
		}
	}
	if err := c.feed(ctx, ev.VideoChunk); err != nil { // streaming.go
		return err
	}
	c.chunks++
	return nil
}

func (c *stream) onClientSession(payload []byte) error {
	ch, err := parseClientChallenge(payload)
	if err != nil {
		return validation("ClientSessionInformationEvent couldn't be parsed", err)
	}
	if ch.ChallengeID != "" {
		if c.challengeID == "" {
			c.challengeID = ch.ChallengeID
		} else if ch.ChallengeID != c.challengeID {
			return validation("ChallengeId changed during the session", nil)
		}
	}
	switch {
	case ch.ColorDisplayed != nil:
		cd := ch.ColorDisplayed
		if cd.SequenceNumber == nil || cd.CurrentColorStartTimestamp == nil || cd.CurrentColor == nil {
			return validation("ColorDisplayed is incomplete", nil)
		}
		if len(c.colors) >= 4*liveness.MaxColors+8 {
			return validation("too many ColorDisplayed events", nil)
		}
		if err := c.checkLag(*cd.CurrentColorStartTimestamp); err != nil {
			return err
		}
		ev := colorEvent{seq: *cd.SequenceNumber, current: cd.CurrentColor.RGB, at: *cd.CurrentColorStartTimestamp}
		if cd.PreviousColor != nil {
			ev.previous = cd.PreviousColor.RGB
		}
		c.colors = append(c.colors, ev)
	case ch.VideoEndTimestamp != nil:
		c.end = ch.VideoEndTimestamp
	case ch.VideoStartTimestamp != nil:
		if c.start != nil {
			return validation("session start sent twice", nil)
		}
		if err := c.checkLag(*ch.VideoStartTimestamp); err != nil {
			return err
		}
		c.start = ch.VideoStartTimestamp
	}
	return nil
}

// checkLag holds an event stamped at (client epoch ms) to the server's
// clock: the component sends the start and each colour as it happens, so
// events that fall more than MaxEventLag behind the server's clock came
// from a stream produced slower than real time, and events whose stamps
// ran ahead of it were produced before they were streamed (replayed after
// the fact).
func (c *stream) checkLag(at int64) error {
	if c.opened.IsZero() {
		c.opened = c.h.cfg.Now()
		lag := max(c.h.cfg.MaxEventLag, 0)
		c.lag = timing.Lag{Max: lag, MaxLead: lag}
	}
	if err := c.lag.Observe(c.h.cfg.Now().Sub(c.opened), time.Duration(at)*time.Millisecond, 0); err != nil {
		return validation("the events do not keep pace with the server's clock", err)
	}
	return nil
}

// colorOnsets maps the client's colour events onto the session's colours:
// ColorSequences entry k (k >= 1) is Challenge.Colors[k-1]; its first event
// marks the start of its wipe, and the colour counts as shown from the
// middle of the wipe. Events that report another colour than the one
// issued are dropped, so the analysis sees the colour as never shown.
func colorOnsets(ch livenessd.Challenge, events []colorEvent, start int64) []liveness.ColorShown {
	seen := map[int]bool{}
	var out []liveness.ColorShown
	for _, e := range events {
		i := e.seq - 1
		if i < 0 || i >= len(ch.Colors) || seen[e.seq] {
			continue
		}
		seen[e.seq] = true
		want := ch.Colors[i].Color
		if e.current != [3]int{int(want[0]), int(want[1]), int(want[2])} {
			continue
		}
		wipe := min(wipeDuration, ch.Colors[i].Duration/2)
		out = append(out, liveness.ColorShown{Index: i, At: time.Duration(e.at-start)*time.Millisecond + wipe/2})
	}
	return out
}

// finish decodes and analyses the video, stores the verdict and tells the
// client the stream is done.
func (c *stream) finish(ctx context.Context) error {
	if c.start == nil {
		return validation("video ended without the session start event", nil)
	}
	if c.chunks == 0 {
		return validation("video does not have enough information", nil)
	}
	began := time.Now()
	ch := c.sess.Challenge
	a, err := c.decodeAll(ctx) // streaming.go: the stream's decode, or the whole video now
	if err != nil {
		return err
	}
	run, n, frameW, frameH := a.run, a.frames, a.width, a.height
	decoded := time.Since(began)
	for _, cs := range colorOnsets(ch, c.colors, *c.start) {
		run.ColorShown(cs)
	}
	if c.end != nil {
		run.End(time.Duration(*c.end-*c.start) * time.Millisecond)
	}
	res, err := run.Finish(ctx)
	if err != nil {
		return &streamError{exception: excInternal, message: "Internal server error", close: websocket.StatusInternalError, reason: "analysis failed", err: err}
	}
	if err := c.h.cfg.Captures.Complete(ctx, c.sess.ID, res); err != nil {
		return sessionError(err)
	}
	c.finished = true
	c.reportOutcome(ctx, &res, "", n)
	c.log.Info("amplify: capture analysed", "session", c.sess.ID, "status", res.Status, "confidence", res.Confidence, "reason", res.Reason,
		"frames", n, "size", fmt.Sprintf("%dx%d", frameW, frameH), "video_bytes", c.videoBytes, "chunks", c.chunks, "streamed", c.decoding != nil,
		"colour_events", len(c.colors), "decode_and_measure", decoded.Round(time.Millisecond), "total", time.Since(began).Round(time.Millisecond))
	msg, err := eventstream.Encode(eventstream.Event(eventDisconnection, timeMillis(c.h.cfg.Now())))
	if err != nil {
		return err
	}
	if err := c.write(ctx, msg); err != nil {
		// The verdict is stored; the client just missed the last event.
		c.log.Info("amplify: DisconnectionEvent not delivered", "session", c.sess.ID, "err", err)
	}
	return nil
}

// acquireRetry waits for a shared slot, retrying while the pool reports
// itself overloaded, until ctx ends.
func acquireRetry(ctx context.Context, acq func(context.Context) (func(), error)) (func(), error) {
	for {
		release, err := acq(ctx)
		if err == nil {
			return release, nil
		}
		if !errors.Is(err, livenessd.ErrOverloaded) || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
