package face

import (
	"math"
	"testing"
)

func TestMetrics(t *testing.T) {
	s := []Scored{
		{Score: 0.9, Same: true}, {Score: 0.8, Same: true}, {Score: 0.7, Same: true}, {Score: 0.4, Same: true},
		{Score: 0.5, Same: false}, {Score: 0.3, Same: false}, {Score: 0.2, Same: false}, {Score: 0.1, Same: false}, {Score: 0.1, Same: false},
	}
	// 4 genuine x 5 impostors; only (0.4 vs 0.5) is misordered: 19/20.
	if got, want := AUC(s), 19.0/20; math.Abs(got-want) > 1e-12 {
		t.Errorf("AUC = %v, want %v", got, want)
	}
	if got := AUC([]Scored{{Score: 0.5, Same: true}, {Score: 0.5, Same: false}}); got != 0.5 {
		t.Errorf("AUC of a tie = %v, want 0.5", got)
	}
	if !math.IsNaN(AUC([]Scored{{Score: 1, Same: true}})) {
		t.Error("AUC without impostors: want NaN")
	}
	fmr, fnmr := Rates(s, 0.45)
	if fmr != 0.2 || fnmr != 0.25 {
		t.Errorf("Rates(0.45) = %v, %v, want 0.2, 0.25", fmr, fnmr)
	}
	// FMR 0.2 of 5 impostors allows one: threshold just above 0.3.
	if thr := ThresholdAtFMR(s, 0.2); !(thr > 0.3 && thr < 0.3000001) {
		t.Errorf("ThresholdAtFMR(0.2) = %v, want just above 0.3", thr)
	}
	if got := TARAtFMR(s, 0.2); got != 1 {
		t.Errorf("TAR@FMR0.2 = %v, want 1", got)
	}
	// FMR 1e-3 of 5 impostors allows none: above 0.5, TAR 3/4.
	if got := TARAtFMR(s, 1e-3); got != 0.75 {
		t.Errorf("TAR@FMR1e-3 = %v, want 0.75", got)
	}
}
