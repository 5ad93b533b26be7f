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

// KFoldAccuracy is verification accuracy as LFW's protocol measures it,
// on one set of pairs: the pairs are split into k interleaved folds (pair i
// in fold i mod k); each fold is scored at the threshold that maximises
// accuracy on the other k-1 (a pair matches at score >= threshold). It
// returns the mean and standard deviation of the k fold accuracies.
func KFoldAccuracy(s []Scored, k int) (mean, std float64) {
	if k < 2 || len(s) < k {
		return math.NaN(), math.NaN()
	}
	accs := make([]float64, k)
	for f := range k {
		var train, test []Scored
		for i, x := range s {
			if i%k == f {
				test = append(test, x)
			} else {
				train = append(train, x)
			}
		}
		accs[f] = accuracy(test, bestThreshold(train))
	}
	for _, a := range accs {
		mean += a
	}
	mean /= float64(k)
	for _, a := range accs {
		std += (a - mean) * (a - mean)
	}
	return mean, math.Sqrt(std / float64(k))
}

// bestThreshold is the threshold with the highest accuracy on s (the
// lowest of equals), among the midpoints between consecutive distinct
// scores and -Inf/+Inf (everything / nothing matches).
func bestThreshold(s []Scored) float64 {
	sorted := slices.Clone(s)
	slices.SortFunc(sorted, func(a, b Scored) int {
		switch {
		case a.Score < b.Score:
			return -1
		case a.Score > b.Score:
			return 1
		}
		return 0
	})
	// At threshold sorted[i].Score, pairs i.. match: correct = genuine in
	// i.. + impostors before i.
	gen := 0
	for _, x := range sorted {
		if x.Same {
			gen++
		}
	}
	best, thr := gen, math.Inf(-1) // everything matches
	genAbove, impBelow := gen, 0
	for i := 0; i < len(sorted); i++ {
		if i > 0 && sorted[i].Score != sorted[i-1].Score {
			if c := genAbove + impBelow; c > best {
				best, thr = c, (sorted[i-1].Score+sorted[i].Score)/2
			}
		}
		if sorted[i].Same {
			genAbove--
		} else {
			impBelow++
		}
	}
	if impBelow+genAbove > best { // nothing matches
		thr = math.Inf(1)
	}
	return thr
}

func accuracy(s []Scored, threshold float64) float64 {
	ok := 0
	for _, x := range s {
		if (x.Score >= threshold) == x.Same {
			ok++
		}
	}
	return ratio(ok, len(s))
}
