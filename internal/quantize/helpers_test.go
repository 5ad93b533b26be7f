package quantize_test

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
)

// agreement runs the float and the int8 session on every input and
// returns, for the largest output, the cosine and the relative L2 error of
// the int8 values against the float ones, per input.
func agreement(tb testing.TB, fs, qs *infer.Session, ins []infer.Tensor) (cos, rel []float64) {
	tb.Helper()
	for _, in := range ins {
		want, err := fs.Run(tb.Context(), in)
		if err != nil {
			tb.Fatal(err)
		}
		got, err := qs.Run(tb.Context(), in)
		if err != nil {
			tb.Fatal(err)
		}
		k := largest(want)
		cos = append(cos, cosine(want[k].Data, got[k].Data))
		rel = append(rel, relError(want[k].Data, got[k].Data))
	}
	return cos, rel
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	return s[len(s)/2]
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// largest is the index of the output with the most values (the embedding,
// the landmarks, the box regressions).
func largest(out []infer.Tensor) int {
	k := 0
	for i, t := range out {
		if len(t.Data) > len(out[k].Data) {
			k = i
		}
	}
	return k
}

// relError is ||got - want|| / ||want||.
func relError(want, got []float32) float64 {
	var d, n float64
	for i := range want {
		e := float64(got[i] - want[i])
		d += e * e
		n += float64(want[i]) * float64(want[i])
	}
	if n == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / n)
}
