// Package amplify is a Rekognition-streaming-compatible capture endpoint:
// the unmodified AWS Amplify FaceLivenessDetectorCore (React,
// @aws-amplify/ui-react-liveness 3.6.8) runs a liveness check of a
// livenessd session against it. The wire protocol is documented in
// amplify-protocol.md; the event-stream codec and SigV4 live in the
// eventstream and sigv4 subpackages.
//
// One WebSocket connection is one capture: the session's own challenge is
// sent as ServerSessionInformationEvent, the MediaRecorder video and the
// client's colour and face events are collected, the video is decoded with
// ffmpeg, the frames go through the same analysis as the SDK path
// (liveness.Run), and the verdict is stored with session.Captures before
// DisconnectionEvent.
package amplify

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/amplify/sigv4"
	"github.com/livenessd/livenessd/internal/guard"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/session"
)

// Path is where the client connects (its endpointOverride plus this).
const Path = "/start-face-liveness-session-websocket"

// Defaults of Config.
const (
	// DefaultMaxVideoBytes is AWS's limit on the video of one session.
	DefaultMaxVideoBytes = 10 << 20
	// DefaultMaxFrameBytes bounds one WebSocket message: one signed event
	// holding one base64 video chunk (about 170 KB a second at the
	// client's 1 Mbit/s; the bitrate is only a hint).
	DefaultMaxFrameBytes = 6 << 20
	// DefaultIdleTimeout bounds the wait for the next client message; the
	// start screen can hold the socket idle for a while.
	DefaultIdleTimeout = 3 * time.Minute
	// DefaultMaxStreamDuration bounds one connection.
	DefaultMaxStreamDuration = 10 * time.Minute
	// DefaultMaxConcurrent is how many captures are decoded and analysed
	// at once; the others wait (the client shows "Verifying...").
	DefaultMaxConcurrent = 2
	// DefaultWriteTimeout bounds one write to the client.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultCloseTimeout bounds the close handshake.
	DefaultCloseTimeout = 2 * time.Second
	// DefaultMaxEventLag bounds the lag of the colour events (the
	// component sends them with the video chunks, about every second).
	DefaultMaxEventLag = 3 * time.Second
)

// TokenChecker checks the capture token given to the browser when the
// session was created (session.Service implements it).
type TokenChecker interface {
	CheckClientToken(sess *livenessd.Session, token string) error
}

// Config configures the endpoint. Captures and Observer are required.
type Config struct {
	Captures session.Captures
	// Observer measures faces in the decoded frames (face.Pipeline).
	Observer liveness.Observer
	// Liveness configures the analysis, as for the SDK path.
	Liveness liveness.Config

	// Keys turns on SigV4 verification of the presigned URL and of every
	// event's :chunk-signature. The access key's tenant must own the
	// session. Without Keys, the session id and the capture token in
	// X-Amz-Security-Token authorise the stream.
	Keys sigv4.Keys
	// Skew is the clock difference tolerated in signatures (default 5 min).
	Skew time.Duration
	// Tokens checks X-Amz-Security-Token when Keys is nil; default:
	// Captures, when it implements TokenChecker.
	Tokens TokenChecker
	// AllowNoToken accepts, when Keys is nil, a stream whose URL carries no
	// X-Amz-Security-Token: the session id alone authorises it. A token
	// that is present is always checked.
	AllowNoToken bool

	// ChallengeConfig are the client-side thresholds sent with each
	// challenge; nil means DefaultChallengeConfig.
	ChallengeConfig *ChallengeConfig
	Video           VideoDecoder

	MaxVideoBytes     int
	MaxFrameBytes     int
	IdleTimeout       time.Duration
	MaxStreamDuration time.Duration
	MaxConcurrent     int
	// Acquire, when set, takes a slot of a pool shared with the other
	// analyses (workpool.Pool.Acquire) for the decode and analysis, after
	// the endpoint's own MaxConcurrent slot. A livenessd.ErrOverloaded is
	// retried: the client waits for the verdict without a timeout.
	Acquire func(ctx context.Context) (release func(), err error)
	// Admission, when set, admits a capture before its challenge
	// (admission.Controller); a refusal is answered with the
	// ThrottlingException, never a video error, and uses up nothing.
	Admission Admission
	// Outcomes, when set, is told how each begun capture ended.
	Outcomes OutcomeObserver
	// Frames, when set, is told each streamed frame's analysis time and
	// lag behind the stream (admission control).
	Frames FrameObserver
	// DecodeAfterStream turns off decoding while the video arrives: the
	// whole video is decoded after its end (MP4 always is).
	DecodeAfterStream bool
	WriteTimeout      time.Duration
	// OriginPatterns restricts the page origins allowed to connect
	// (coder/websocket patterns). Empty allows every origin: the stream is
	// authorised by its URL, never by cookies, so a foreign page gains
	// nothing it does not already hold.
	OriginPatterns []string
	// WriteError answers a request refused before the upgrade with the
	// seed's error body (api.Server.WriteError). Required.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// Addresses finds the client address the limits below are kept by.
	Addresses guard.Addresses
	// StreamsPerAddress bounds the streams one client address holds at
	// once (guard.DefaultStreamsPerAddress; negative: no limit).
	StreamsPerAddress int
	// AuthFailures refuses addresses that failed authentication too often
	// (429 with Retry-After before the upgrade); share it with the API.
	// Nil: a limiter of the endpoint's own.
	AuthFailures guard.FailureLimiter
	// CloseTimeout bounds the close handshake (DefaultCloseTimeout), and
	// the whole answer to a stream refused before its capture began.
	CloseTimeout time.Duration
	// MaxEventLag bounds how far the colour events may fall behind the
	// server's clock (DefaultMaxEventLag; negative: no check).
	MaxEventLag time.Duration

	Logger *slog.Logger
	Now    func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.Captures == nil {
		return c, errors.New("amplify: Captures required")
	}
	if c.Observer == nil {
		return c, errors.New("amplify: Observer required")
	}
	if c.WriteError == nil {
		return c, errors.New("amplify: WriteError required")
	}
	if c.Tokens == nil {
		if tc, ok := c.Captures.(TokenChecker); ok {
			c.Tokens = tc
		}
	}
	if c.Keys == nil && c.Tokens == nil && !c.AllowNoToken {
		return c, errors.New("amplify: no way to authorise streams: set Keys, Tokens or AllowNoToken")
	}
	if c.ChallengeConfig == nil {
		cc := DefaultChallengeConfig()
		c.ChallengeConfig = &cc
	}
	if c.Liveness.Fit == nil {
		f := AnalysisFit()
		c.Liveness.Fit = &f
	}
	if err := c.ChallengeConfig.valid(); err != nil {
		return c, err
	}
	if c.MaxVideoBytes <= 0 {
		c.MaxVideoBytes = DefaultMaxVideoBytes
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxStreamDuration <= 0 {
		c.MaxStreamDuration = DefaultMaxStreamDuration
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.MaxEventLag == 0 {
		c.MaxEventLag = DefaultMaxEventLag
	}
	if c.StreamsPerAddress == 0 {
		c.StreamsPerAddress = guard.DefaultStreamsPerAddress
	}
	if c.AuthFailures == nil {
		c.AuthFailures = guard.NewFailureLimit(0, 0, c.Now)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Video = c.Video.withDefaults()
	return c, nil
}

// Admission admits captures at the door (admission.Controller).
type Admission interface {
	TryAcquire(n int64) bool
	Release(n int64)
}

// OutcomeObserver is told how each capture that got its challenge ended
// (log line, metrics).
type OutcomeObserver interface {
	CaptureOutcome(ctx context.Context, o livenessd.CaptureOutcome)
}

// FrameObserver is told how long each frame's analysis took and how far
// behind the stream it ran (admission.Controller).
type FrameObserver interface {
	FrameAnalysed(cost, lag time.Duration)
}
