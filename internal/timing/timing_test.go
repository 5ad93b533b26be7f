package timing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/timing"
)

const ms = time.Millisecond

func TestLag(t *testing.T) {
	type ev struct{ arrival, at, credit time.Duration }
	for _, test := range []struct {
		name   string
		events []ev
		wantAt int // index of the first refused event, -1 for none
	}{
		{"RealTime", []ev{{100 * ms, 0, 0}, {166 * ms, 66 * ms, 0}, {233 * ms, 133 * ms, 0}}, -1},
		{"Jitter", []ev{{100 * ms, 0, 0}, {900 * ms, 66 * ms, 0}, {250 * ms, 133 * ms, 0}}, -1},
		{"BurstWithinLead", []ev{{100 * ms, 0, 0}, {110 * ms, 500 * ms, 0}, {120 * ms, 1000 * ms, 0}}, -1},
		{"AfterTheFact", []ev{{9000 * ms, 0, 0}, {9001 * ms, 1000 * ms, 0}, {9002 * ms, 3000 * ms, 0}}, 2},
		{"FirstDelayedThenOnTime", []ev{{1500 * ms, 0, 0}, {166*ms + 1000*ms, 1066 * ms, 0}, {2166 * ms, 2066 * ms, 0}}, -1},
		{"FallsBehind", []ev{{100 * ms, 0, 0}, {1200 * ms, 66 * ms, 0}, {2300 * ms, 133 * ms, 0}}, 2},
		{"ServerHeldBack", []ev{{100 * ms, 0, 0}, {2300 * ms, 133 * ms, 1500 * ms}}, -1},
		{"CreditCapped", []ev{{100 * ms, 0, 0}, {5100 * ms, 133 * ms, 4 * time.Second}}, 1},
		// Frames first sent fast (small offset), then at their stamps'
		// pace but late: the fastest one is the reference.
		{"LateAfterFast", []ev{{100 * ms, 0, 0}, {120 * ms, 66 * ms, 0}, {3000 * ms, 200 * ms, 0}}, 2},
	} {
		t.Run(test.name, func(t *testing.T) {
			l := timing.Lag{Max: 2 * time.Second, MaxLead: 2 * time.Second, MaxCredit: 2 * time.Second}
			got := -1
			for i, e := range test.events {
				if err := l.Observe(e.arrival, e.at, e.credit); err != nil {
					if !errors.Is(err, timing.ErrBehind) && !errors.Is(err, timing.ErrAhead) {
						t.Fatalf("err = %v", err)
					}
					got = i
					break
				}
			}
			if got != test.wantAt {
				t.Fatalf("refused at %d, want %d (worst lag %v)", got, test.wantAt, l.Worst)
			}
		})
	}
	var off timing.Lag // Max 0: no check
	if err := off.Observe(time.Hour, 0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestWithin(t *testing.T) {
	for _, test := range []struct {
		asked, arrival, credit time.Duration
		ok                     bool
	}{
		{time.Second, 1500 * ms, 0, true},
		{time.Second, 4 * time.Second, 0, false},
		{time.Second, 4 * time.Second, 2 * time.Second, true},
		{time.Second, 9 * time.Second, 10 * time.Second, false}, // credit capped at 3 s
	} {
		err := timing.Within(test.asked, test.arrival, test.credit, 3*time.Second, 2*time.Second, "the first colour")
		if (err == nil) != test.ok || (err != nil && !errors.Is(err, timing.ErrBehind)) {
			t.Errorf("%+v: err = %v, want ok=%v", test, err, test.ok)
		}
	}
}
