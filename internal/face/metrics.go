package face

import (
	"math"
	"slices"
)

// Scored is one verification trial: a score (higher = more alike) and
// whether the two images show the same person.
type Scored struct {
	Score float64
	Same  bool
}

// split returns genuine and impostor scores, each sorted ascending.
func split(s []Scored) (gen, imp []float64) {
	for _, x := range s {
		if x.Same {
			gen = append(gen, x.Score)
		} else {
			imp = append(imp, x.Score)
		}
	}
	slices.Sort(gen)
	slices.Sort(imp)
	return gen, imp
}

// AUC is the area under the ROC curve: the probability that a random
// genuine pair scores above a random impostor pair (ties count half).
// NaN without both kinds of pair.
func AUC(s []Scored) float64 {
	gen, imp := split(s)
	if len(gen) == 0 || len(imp) == 0 {
		return math.NaN()
	}
	var wins float64
	j, k := 0, 0 // imp[:j] < g, imp[:k] <= g
	for _, g := range gen {
		for j < len(imp) && imp[j] < g {
			j++
		}
		for k < len(imp) && imp[k] <= g {
			k++
		}
		wins += float64(j) + float64(k-j)/2
	}
	return wins / (float64(len(gen)) * float64(len(imp)))
}

// Rates are the error rates at a threshold: a pair matches when its score
// is >= the threshold.
func Rates(s []Scored, threshold float64) (fmr, fnmr float64) {
	var g, i, fm, fnm int
	for _, x := range s {
		if x.Same {
			g++
			if x.Score < threshold {
				fnm++
			}
		} else {
			i++
			if x.Score >= threshold {
				fm++
			}
		}
	}
	return ratio(fm, i), ratio(fnm, g)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// ThresholdAtFMR is the lowest threshold whose empirical false match rate
// is at most fmr: just above the impostor score ranked floor(fmr*n)+1 from
// the top. With fewer than 1/fmr impostors it lies above every impostor
// ("zero false matches").
func ThresholdAtFMR(s []Scored, fmr float64) float64 {
	_, imp := split(s)
	if len(imp) == 0 {
		return math.Inf(-1)
	}
	allowed := int(math.Floor(fmr * float64(len(imp))))
	if allowed >= len(imp) {
		return math.Inf(-1)
	}
	v := imp[len(imp)-1-allowed]
	return math.Nextafter(v, math.Inf(1))
}

// TARAtFMR is the genuine accept rate at ThresholdAtFMR(s, fmr).
func TARAtFMR(s []Scored, fmr float64) float64 {
	_, fnmr := Rates(s, ThresholdAtFMR(s, fmr))
	return 1 - fnmr
}
