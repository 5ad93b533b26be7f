package face

import (
	"fmt"
	"math"
)

// Knot is one point of the similarity calibration: an embedding cosine
// similarity and the 0-100 score it maps to.
type Knot struct {
	Cosine float64 `json:"cosine"`
	Score  float64 `json:"score"`
}

// Calibration maps cosine similarity to the 0-100 similarity score by
// linear interpolation between knots (strictly increasing in both
// coordinates, so the map is monotonic and invertible); below the first
// knot the score is the first knot's, above the last the last's.
//
// The default knots are fitted on the development pairs so that score 80,
// 90 and 95 sit at the cosine where the false match rate is 1e-2, 1e-3 and
// 1e-4 (docs/ACCURACY.md, "Face matching"): the default threshold 90
// therefore means FMR <= 1e-3 on that data.
type Calibration struct {
	Knots []Knot `json:"knots"`
}

// Validate reports knots that do not define a monotonic map.
func (c Calibration) Validate() error {
	if len(c.Knots) < 2 {
		return fmt.Errorf("face: calibration needs at least 2 knots, has %d", len(c.Knots))
	}
	for i := 1; i < len(c.Knots); i++ {
		a, b := c.Knots[i-1], c.Knots[i]
		if !(b.Cosine > a.Cosine) || !(b.Score > a.Score) {
			return fmt.Errorf("face: calibration knots %d and %d are not strictly increasing", i-1, i)
		}
	}
	return nil
}

// Score maps a cosine similarity to 0-100.
func (c Calibration) Score(cos float64) float64 {
	k := c.Knots
	if len(k) == 0 || math.IsNaN(cos) {
		return 0
	}
	if cos <= k[0].Cosine {
		return k[0].Score
	}
	for i := 1; i < len(k); i++ {
		if cos <= k[i].Cosine {
			t := (cos - k[i-1].Cosine) / (k[i].Cosine - k[i-1].Cosine)
			return k[i-1].Score + t*(k[i].Score-k[i-1].Score)
		}
	}
	return k[len(k)-1].Score
}

// Cosine is Score's inverse: the cosine similarity that maps to score.
func (c Calibration) Cosine(score float64) float64 {
	k := c.Knots
	if len(k) == 0 {
		return math.NaN()
	}
	if score <= k[0].Score {
		return k[0].Cosine
	}
	for i := 1; i < len(k); i++ {
		if score <= k[i].Score {
			t := (score - k[i-1].Score) / (k[i].Score - k[i-1].Score)
			return k[i-1].Cosine + t*(k[i].Cosine-k[i-1].Cosine)
		}
	}
	return k[len(k)-1].Cosine
}

// Cosine similarity of two L2-normalised embeddings (their dot product).
// It returns NaN when the lengths differ or are zero.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// normalize scales v to unit length in place; false when v is zero or not finite.
func normalize(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return false
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return true
}
