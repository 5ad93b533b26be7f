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

func TestKFoldAccuracy(t *testing.T) {
	// Separable: every fold's threshold from the other folds is perfect.
	var sep []Scored
	for i := range 40 {
		if i < 20 {
			sep = append(sep, Scored{Score: float64(i), Same: false})
		} else {
			sep = append(sep, Scored{Score: float64(i + 10), Same: true})
		}
	}
	if m, sd := KFoldAccuracy(sep, 10); m != 1 || sd != 0 {
		t.Errorf("separable: %v ± %v, want 1 ± 0", m, sd)
	}
	// One impostor above every genuine pair (fold 0 holds it): the other
	// folds' threshold still separates theirs; fold 0 loses that pair.
	bad := append([]Scored{{Score: 100, Same: false}}, sep[1:]...)
	m, sd := KFoldAccuracy(bad, 10)
	if math.Abs(m-(1-0.25/10)) > 1e-12 || sd == 0 {
		t.Errorf("one outlier: %v ± %v, want %v ± >0", m, sd, 1-0.25/10)
	}
	if m, _ := KFoldAccuracy(sep[:5], 10); !math.IsNaN(m) {
		t.Errorf("fewer pairs than folds: %v, want NaN", m)
	}
	if thr := bestThreshold([]Scored{{Score: 1, Same: false}, {Score: 2, Same: false}}); !math.IsInf(thr, 1) {
		t.Errorf("impostors only: threshold %v, want +Inf", thr)
	}
}
