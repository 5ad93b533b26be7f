// Package capture serves the browser SDK's capture WebSocket
// (/v1/liveness/session/{id}/stream, docs/PROTOCOL.md): it authorises the
// clientToken, sends the session's challenge, analyses the JPEG frames as
// they arrive, streams guidance, and stores the verdict through
// session.Captures. Every resource a client can hold is bounded: frame size,
// frame count, duration, message rate and read deadlines.
package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// Subprotocol is the WebSocket subprotocol of protocol v1.
const Subprotocol = "livenessd.v1"

// Client message types.
const (
	MsgHello = "hello"
	MsgColor = "color"
	MsgEnd   = "end"
)

// maxTimestampMs bounds client timestamps (10 minutes, the session lifetime).
const maxTimestampMs = 600_000

// maxTextBytes bounds a text (JSON) message.
const maxTextBytes = 1024

// ErrBadMessage marks a message that breaks the protocol.
var ErrBadMessage = errors.New("capture: bad message")

// ClientMessage is a text message from the client.
type ClientMessage struct {
	Type      string  `json:"type"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	UserAgent string  `json:"userAgent,omitempty"`
	Index     int     `json:"index"`
	At        float64 `json:"at"`
}

// AtDuration is At (milliseconds) as a duration.
func (m ClientMessage) AtDuration() time.Duration { return msToDuration(m.At) }

func msToDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// ParseClientMessage decodes and validates a text message: a known type,
// timestamps finite and within 0-600000 ms, colour indices 0-63, a bounded
// size. Errors wrap ErrBadMessage.
func ParseClientMessage(b []byte) (ClientMessage, error) {
	var m ClientMessage
	if len(b) > maxTextBytes {
		return m, fmt.Errorf("%w: text message of %d bytes", ErrBadMessage, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return ClientMessage{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if dec.More() {
		return ClientMessage{}, fmt.Errorf("%w: trailing data", ErrBadMessage)
	}
	switch m.Type {
	case MsgHello:
		if m.Width < 0 || m.Height < 0 || m.Width > 4096 || m.Height > 4096 || len(m.UserAgent) > 512 {
			return ClientMessage{}, fmt.Errorf("%w: hello out of range", ErrBadMessage)
		}
	case MsgColor, MsgEnd:
		if math.IsNaN(m.At) || m.At < 0 || m.At > maxTimestampMs {
			return ClientMessage{}, fmt.Errorf("%w: %s at %v ms", ErrBadMessage, m.Type, m.At)
		}
		if m.Type == MsgColor && (m.Index < 0 || m.Index > 63) {
			return ClientMessage{}, fmt.Errorf("%w: colour index %d", ErrBadMessage, m.Index)
		}
	default:
		return ClientMessage{}, fmt.Errorf("%w: unknown type %q", ErrBadMessage, truncate(m.Type, 32))
	}
	return m, nil
}

// ParseFrame splits a binary message into its capture timestamp (8 bytes,
// little-endian float64 milliseconds) and JPEG bytes, checking the
// timestamp's range and the JPEG magic. The JPEG is not decoded here.
// Errors wrap ErrBadMessage.
func ParseFrame(b []byte) (time.Duration, []byte, error) {
	if len(b) < 8+3 {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes", ErrBadMessage, len(b))
	}
	ms := math.Float64frombits(binary.LittleEndian.Uint64(b[:8]))
	if math.IsNaN(ms) || ms < 0 || ms > maxTimestampMs {
		return 0, nil, fmt.Errorf("%w: frame timestamp %v ms", ErrBadMessage, ms)
	}
	jpg := b[8:]
	if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8, 0xFF}) {
		return 0, nil, fmt.Errorf("%w: frame is not a JPEG", ErrBadMessage)
	}
	return msToDuration(ms), jpg, nil
}

// EncodeFrame builds a binary frame message (for clients and tests).
func EncodeFrame(at time.Duration, jpg []byte) []byte {
	b := make([]byte, 8+len(jpg))
	binary.LittleEndian.PutUint64(b, math.Float64bits(float64(at)/float64(time.Millisecond)))
	copy(b[8:], jpg)
	return b
}

// Server messages.

// ChallengeMsg is the first server message.
type ChallengeMsg struct {
	Type        string         `json:"type"`
	ChallengeID string         `json:"challengeId"`
	Oval        livenessd.Oval `json:"oval"`
	Start       livenessd.Oval `json:"start"`
	Fit         FitMsg         `json:"fit"`
	Colors      []ColorMsg     `json:"colors"`
	Limits      LimitsMsg      `json:"limits"`
}

// FitMsg tells the client the oval-fit rule in fills (contour width over
// the oval's width, docs/PROTOCOL.md "In the oval"): the face fits the
// start oval up to Start (of the start oval's width), fills the target
// from Min to Max, and may be off-centre by MaxOffset of the oval's size.
type FitMsg struct {
	Start     float64 `json:"start"`
	Min       float64 `json:"min"`
	Max       float64 `json:"max"`
	MaxOffset float64 `json:"maxOffset"`
}

// ColorMsg is one colour of the challenge.
type ColorMsg struct {
	Color      livenessd.RGB `json:"color"`
	DurationMs int64         `json:"durationMs"`
}

// LimitsMsg tells the client the bounds it must respect.
type LimitsMsg struct {
	MaxFrameBytes int64 `json:"maxFrameBytes"`
	MaxFrames     int   `json:"maxFrames"`
	MaxDurationMs int64 `json:"maxDurationMs"`
	FPS           int   `json:"fps"`
}

// GuidanceMsg carries guidance computed from the frames: the instruction,
// whether the face is in the target oval, the stage of the approach
// ("start" until the face has fitted the start oval, then "target"), the
// face's fill of the target oval (0 without a face) and, in the target
// stage, the fill it must reach (fit.min, or more while the approach is
// too short for the 3-D check: docs/PROTOCOL.md "In the oval").
type GuidanceMsg struct {
	Type   string  `json:"type"`
	Code   string  `json:"code"`
	InOval bool    `json:"inOval"`
	Stage  string  `json:"stage"`
	Fill   float64 `json:"fill"`
	Need   float64 `json:"need,omitempty"`
}

// StatusMsg is the final result (status only) or a bare flash.
type StatusMsg struct {
	Type   string `json:"type"`
	Status string `json:"status,omitempty"`
}

// ErrorMsg precedes a close on any failure.
type ErrorMsg struct {
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// challengeMsg renders the challenge for the client: durations in ms,
// colours as [r,g,b] arrays (a byte array, unlike a slice, is no base64).
func challengeMsg(ch livenessd.Challenge, fit liveness.Fit, lim LimitsMsg) ChallengeMsg {
	m := ChallengeMsg{
		Type: "challenge", ChallengeID: ch.ID, Oval: ch.Oval, Start: liveness.StartOval(ch), Limits: lim, Colors: []ColorMsg{},
		Fit: FitMsg{Start: fit.Start, Min: fit.Min, Max: fit.Max, MaxOffset: fit.MaxOffset},
	}
	for _, c := range ch.Colors {
		m.Colors = append(m.Colors, ColorMsg{Color: c.Color, DurationMs: c.Duration.Milliseconds()})
	}
	return m
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
