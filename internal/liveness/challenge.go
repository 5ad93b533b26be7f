package liveness

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/livenessd/livenessd"
)

// Challenge geometry and timing. Oval sizes are ratios of a 4:3 frame
// (livenessd.Oval.Pixels; 640x480 is what the SDK asks for): the width a
// ratio of its width, the height of its height, chosen so the ellipse is
// OvalAspect times as tall as wide in pixels. At 0.40-0.50 of the frame
// width the face of a person holding a laptop or phone camera at 25-35 cm
// fills the oval, so reaching it takes a movement towards the camera from
// the usual 40-60 cm. The start oval has the same centre and StartScale
// times the size: a face that fits inside it is at least 1.4 times further
// from the camera than one that fills the target.
const (
	OvalMinWidth   = 0.40
	OvalMaxWidth   = 0.50
	OvalAspect     = 1.3 // height/width in pixels
	OvalJitter     = 0.04
	frameAspect    = 4.0 / 3.0
	MinColors      = 8
	MaxColors      = 10
	MinColorTime   = 250 * time.Millisecond
	MaxColorTime   = 600 * time.Millisecond
	ChallengeV1    = "1"
	challengeIDLen = 16
)

// Palette is the set of screen colours a light challenge draws from:
// saturated primaries and secondaries, white and black, so consecutive
// colours differ strongly in every channel they use.
var Palette = [...]livenessd.RGB{
	{255, 0, 0}, {0, 255, 0}, {0, 0, 255},
	{255, 255, 0}, {0, 255, 255}, {255, 0, 255},
	{255, 255, 255}, {0, 0, 0},
}

// NewChallenge draws a fresh challenge of type typ
// (livenessd.ChallengeMovementAndLight or ChallengeMovement) from
// crypto/rand: a random id, the target oval and its start oval and, for
// the light challenge, 8-10 colours of 250-600 ms each, consecutive colours
// different, at least two chromatic hues, and every channel varying over
// the sequence. It returns an error wrapping livenessd.ErrInvalidRequest
// for an unknown type, or the error of the random source.
func NewChallenge(typ string) (livenessd.Challenge, error) {
	return newChallenge(rand.Reader, typ)
}

// NewChallengeFrom is NewChallenge drawing from r: for simulations that
// must play the same capture again from a seed. A server's challenges come
// from NewChallenge, so that nobody can predict them.
func NewChallengeFrom(r io.Reader, typ string) (livenessd.Challenge, error) {
	return newChallenge(r, typ)
}

type randSource interface{ Read([]byte) (int, error) }

func newChallenge(r randSource, typ string) (livenessd.Challenge, error) {
	if typ == "" {
		typ = livenessd.ChallengeMovementAndLight
	}
	if typ != livenessd.ChallengeMovementAndLight && typ != livenessd.ChallengeMovement {
		return livenessd.Challenge{}, fmt.Errorf("liveness: challenge type %q: %w", typ, livenessd.ErrInvalidRequest)
	}
	rr := &rng{r: r}
	id := make([]byte, challengeIDLen)
	if _, err := r.Read(id); err != nil {
		return livenessd.Challenge{}, fmt.Errorf("liveness: challenge id: %w", err)
	}
	ch := livenessd.Challenge{ID: hex.EncodeToString(id), Type: typ, Version: ChallengeV1}
	w := OvalMinWidth + rr.float()*(OvalMaxWidth-OvalMinWidth)
	h := w * OvalAspect * frameAspect
	cx := 0.5 + (2*rr.float()-1)*OvalJitter
	cy := 0.5 + (2*rr.float()-1)*OvalJitter
	// Keep the whole oval at least 2% inside the frame.
	cx = clamp(cx, w/2+0.02, 1-w/2-0.02)
	cy = clamp(cy, h/2+0.02, 1-h/2-0.02)
	ch.Oval = livenessd.Oval{CenterX: cx, CenterY: cy, Width: w, Height: h}
	ch.Start = ch.Oval.Scale(StartScale)
	if typ == livenessd.ChallengeMovementAndLight {
		ch.Colors = drawColors(rr)
	}
	if rr.err != nil {
		return livenessd.Challenge{}, fmt.Errorf("liveness: challenge: %w", rr.err)
	}
	return ch, nil
}

// drawColors draws a colour sequence until one meets the rules; with this
// palette nearly every draw does.
func drawColors(rr *rng) []livenessd.ColorStep {
	for {
		n := MinColors + rr.intn(MaxColors-MinColors+1)
		steps := make([]livenessd.ColorStep, n)
		prev := -1
		for i := range steps {
			var k int
			if prev < 0 {
				k = rr.intn(len(Palette))
			} else if k = rr.intn(len(Palette) - 1); k >= prev {
				k++ // never repeat the previous colour
			}
			prev = k
			ms := int(MinColorTime/time.Millisecond) + rr.intn(int((MaxColorTime-MinColorTime)/time.Millisecond)+1)
			steps[i] = livenessd.ColorStep{Color: Palette[k], Duration: time.Duration(ms) * time.Millisecond}
		}
		if rr.err != nil || ValidColors(steps) {
			return steps
		}
	}
}

// ValidColors reports whether a colour sequence follows the challenge rules:
// 8-10 steps of 250-600 ms, consecutive colours different, at least two
// chromatic hues, and each of R, G, B taking both low and high values.
func ValidColors(steps []livenessd.ColorStep) bool {
	if len(steps) < MinColors || len(steps) > MaxColors {
		return false
	}
	hues := map[livenessd.RGB]bool{}
	var lo, hi [3]bool
	for i, s := range steps {
		if s.Duration < MinColorTime || s.Duration > MaxColorTime {
			return false
		}
		if i > 0 && steps[i-1].Color == s.Color {
			return false
		}
		c := s.Color
		if !(c[0] == c[1] && c[1] == c[2]) {
			hues[c] = true
		}
		for k := range 3 {
			if c[k] < 128 {
				lo[k] = true
			} else {
				hi[k] = true
			}
		}
	}
	return len(hues) >= 2 && lo == [3]bool{true, true, true} && hi == [3]bool{true, true, true}
}

// rng reads uniform numbers from a byte source, keeping the first error.
type rng struct {
	r   randSource
	err error
	buf [8]byte
}

func (g *rng) uint64() uint64 {
	if g.err != nil {
		return 0
	}
	if _, err := g.r.Read(g.buf[:]); err != nil {
		g.err = err
		return 0
	}
	return binary.LittleEndian.Uint64(g.buf[:])
}

// float returns a uniform number in [0, 1).
func (g *rng) float() float64 { return float64(g.uint64()>>11) / (1 << 53) }

// intn returns a uniform integer in [0, n) without modulo bias.
func (g *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	limit := ^uint64(0) - ^uint64(0)%uint64(n)
	for {
		v := g.uint64()
		if g.err != nil {
			return 0
		}
		if v < limit {
			return int(v % uint64(n))
		}
	}
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
