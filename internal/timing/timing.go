// Package timing checks a capture client's clock against the server's: a
// live camera's frames and events reach the server about as fast as they
// are stamped, so a stream that falls further and further behind its own
// timestamps is being produced slower than real time (an injected stream
// rendered on the fly, a relighting model), one whose stamps run ahead of
// the server's clock was produced before it was sent (replayed after the
// fact), and a first colour that comes long after the server's go signal
// was not shown when the server asked.
// The checks hold the client to the server's clock only; they say nothing
// about what the frames show.
package timing

import (
	"errors"
	"fmt"
	"time"
)

// ErrBehind marks a stream that fell behind the server's clock; ErrAhead
// one whose stamps ran ahead of it (sent faster than real time: recorded or
// rendered before it was streamed).
var (
	ErrBehind = errors.New("capture fell behind the server's clock")
	ErrAhead  = errors.New("capture ran ahead of the server's clock")
)

// Lag tracks how far a client's timeline falls behind the server's clock.
// Each event carries a client timestamp; its offset is the server's
// arrival time minus that timestamp, and the smallest offset seen is the
// event that came fastest (network latency and the clocks' difference).
// An event's lag is its offset above that smallest one: the time it spent
// queued somewhere after it was stamped. Both clocks only need a fixed
// origin each. The zero Lag checks nothing until Max is set.
type Lag struct {
	// Max is the largest lag allowed; 0 disables the check.
	Max time.Duration
	// MaxLead is the largest lead allowed: how much faster than the
	// server's clock the stamps may have advanced since the first event
	// (the first event's own delay on the way in, a burst of queued
	// frames). 0 disables the check.
	MaxLead time.Duration
	// MaxCredit bounds the credit: time the server itself held back
	// reading (its analysis was behind), which delays arrivals without
	// any fault of the client, is forgiven up to this much.
	MaxCredit time.Duration

	min, first time.Duration
	have       bool
	// Worst is the largest lag seen, credit deducted (for logs and tests).
	Worst time.Duration
}

// Observe records an event stamped at on the client's clock that arrived at
// arrival on the server's, while the server had held back reading for
// credit in total so far. It returns ErrBehind (wrapped, with the
// numbers) when the event's lag beyond the credit exceeds Max.
func (l *Lag) Observe(arrival, at, credit time.Duration) error {
	offset := arrival - at
	if !l.have {
		l.first = offset
	}
	if !l.have || offset < l.min {
		l.min, l.have = offset, true
	}
	lag := offset - l.min - min(max(credit, 0), l.MaxCredit)
	l.Worst = max(l.Worst, lag)
	if l.Max > 0 && lag > l.Max {
		return fmt.Errorf("%w: an event stamped %v arrived %v later than the fastest one (limit %v)",
			ErrBehind, at.Round(time.Millisecond), lag.Round(time.Millisecond), l.Max)
	}
	if lead := l.first - offset; l.MaxLead > 0 && lead > l.MaxLead {
		return fmt.Errorf("%w: the stamps advanced %v more than the server's clock since the first event (limit %v)",
			ErrAhead, lead.Round(time.Millisecond), l.MaxLead)
	}
	return nil
}

// Within reports ErrBehind (wrapped) when an answer that arrived at
// arrival came more than limit after the server asked at asked, after
// forgiving up to maxCredit of the server's own hold-up credit.
func Within(asked, arrival, credit, maxCredit, limit time.Duration, what string) error {
	gap := arrival - asked - min(max(credit, 0), maxCredit)
	if limit > 0 && gap > limit {
		return fmt.Errorf("%w: %s came %v after it was asked for (limit %v)", ErrBehind, what, gap.Round(time.Millisecond), limit)
	}
	return nil
}
