package capture

import (
	"time"

	"github.com/livenessd/livenessd/internal/timing"
)

// clockCheck holds one capture to the server's clock (docs/PROTOCOL.md,
// "Timing"): frames and colour events may neither fall behind the server's
// clock nor run ahead of it by more than MaxFrameLag, and the first colour
// must arrive within FirstColorWithin of the server's flash. Time the reader spent blocked
// behind the server's own analysis is the server's delay, not the
// client's, and is forgiven.
type clockCheck struct {
	lag              timing.Lag
	firstColorWithin time.Duration
	maxCredit        time.Duration

	flashed, colored     bool
	flashAt, heldAtFlash time.Duration
}

func newClockCheck(cfg Config) *clockCheck {
	k := &clockCheck{firstColorWithin: max(cfg.FirstColorWithin, 0), maxCredit: cfg.MaxDuration}
	lag := max(cfg.MaxFrameLag, 0)
	k.lag = timing.Lag{Max: lag, MaxLead: lag, MaxCredit: cfg.MaxDuration}
	return k
}

// event checks a frame's, a colour's or the end's timestamp against its
// arrival.
func (k *clockCheck) event(ev event, at time.Duration) *protoError {
	if err := k.lag.Observe(ev.arrival, at, ev.held); err != nil {
		return &protoError{CodeLate, err.Error()}
	}
	return nil
}

// flash records when the server told the client to start the colours.
func (k *clockCheck) flash(now, held time.Duration) {
	k.flashed, k.flashAt, k.heldAtFlash = true, now, held
}

// color checks that the first colour came soon enough after the flash.
func (k *clockCheck) color(ev event) *protoError {
	if k.colored || !k.flashed {
		return nil
	}
	k.colored = true
	if err := timing.Within(k.flashAt, ev.arrival, ev.held-k.heldAtFlash, k.maxCredit, k.firstColorWithin, "the first colour"); err != nil {
		return &protoError{CodeLate, err.Error()}
	}
	return nil
}
