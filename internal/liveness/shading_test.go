package liveness

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestWeightedLeastSquares(t *testing.T) {
	// y = 2 + 3x exactly, one row weighted out: β exact, errors 0.
	x := [][]float64{{1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}}
	y := []float64{2, 5, 8, 11, 100}
	w := []float64{1, 1, 1, 1, 0}
	b, se, ok := weightedLeastSquares(x, y, w)
	if !ok || math.Abs(b[0]-2) > 1e-9 || math.Abs(b[1]-3) > 1e-9 || se[1] > 1e-6 {
		t.Fatalf("β %v se %v ok %v, want [2 3], 0", b, se, ok)
	}
	if _, _, ok := weightedLeastSquares([][]float64{{1, 1}, {2, 2}, {3, 3}}, []float64{1, 2, 3}, []float64{1, 1, 1}); ok {
		t.Error("singular design solved")
	}
	// Rows weighted out are not degrees of freedom: with noise, the
	// standard errors are those of the fit without them.
	x = [][]float64{{1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 6}}
	y = []float64{2.1, 4.8, 8.3, 10.9, 14.2, 0, 0}
	_, want, _ := weightedLeastSquares(x[:5], y[:5], []float64{1, 1, 1, 1, 1})
	_, got, _ := weightedLeastSquares(x, y, []float64{1, 1, 1, 1, 1, 0, 0})
	if math.Abs(got[1]-want[1]) > 1e-12 || !(want[1] > 0) {
		t.Errorf("se with two rows weighted out %v, want %v", got, want)
	}
	// As many used rows as unknowns: no residual degrees of freedom.
	if _, se, ok := weightedLeastSquares(x[:4], y[:4], []float64{1, 1, 0, 0}); !ok || !math.IsNaN(se[1]) {
		t.Errorf("se %v ok %v with two used rows for two unknowns, want NaN", se, ok)
	}
}

func TestSmallestEigenvector(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		// Points on a random plane: the normal is the least direction.
		n := vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}.unit()
		a := cross(n, vec3{1, 0, 0}).unit()
		b := cross(n, a)
		var c [3][3]float64
		for range 30 {
			p := a.scale(rng.NormFloat64() * 5).add(b.scale(rng.NormFloat64() * 3)).add(n.scale(rng.NormFloat64() * 0.01))
			e := p.arr()
			for i := range 3 {
				for j := range 3 {
					c[i][j] += e[i] * e[j]
				}
			}
		}
		got := smallestEigenvector(c)
		if math.Abs(math.Abs(got.dot(n))-1) > 1e-3 {
			t.Fatalf("normal %v, want ±%v", got, n)
		}
	}
}

// synthSeries builds mesh-probe series whose responses to the expected
// signal e follow resp(x, y, s) plus noise of deviation sigma.
func synthSeries(rng *rand.Rand, sigma float64, resp func(x, y, s float64) float64) (*[3][]float64, *lightSeries) {
	const frames = 60
	var e [3][]float64
	for c := range 3 {
		e[c] = make([]float64, frames)
		for j := range frames {
			e[c][j] = math.Sin(float64(j)*0.7+float64(c)) * 0.5
		}
	}
	ser := &lightSeries{}
	l := vec3{0, math.Sin(screenElevation), -math.Cos(screenElevation)}
	for range 60 {
		x, y := rng.Float64()*2-1, rng.Float64()*2.4-0.8
		// A dome: the normal turns away towards the sides.
		n := vec3{x * 0.9, y * 0.4, -1}.unit()
		a := resp(x, y, math.Max(0, n.dot(l)))
		var f [3][]float64
		for c := range 3 {
			f[c] = make([]float64, frames)
			for j := range frames {
				f[c][j] = a*e[c][j] + rng.NormFloat64()*sigma
			}
		}
		ser.mesh = append(ser.mesh, f)
		ser.mok = append(ser.mok, true)
		ser.mnorm = append(ser.mnorm, n)
		ser.mpos = append(ser.mpos, pointSum{X: x, Y: y, n: 1})
	}
	return &e, ser
}

func TestMeshShading(t *testing.T) {
	use := [3]bool{true, true, true}
	for _, test := range []struct {
		name        string
		sigma       float64
		resp        func(x, y, s float64) float64
		kLo, kHi    float64
		significant bool
		flat        bool // the shading check refuses it (upper bound below the default threshold)
	}{
		{"Face", 0.002, func(x, y, s float64) float64 { return 0.03 * s }, 0.9, 1.1, true, false},
		{"FlatterFace", 0.002, func(x, y, s float64) float64 { return 0.03 * (1 - 0.3*(1-s)) }, 0.25, 0.35, true, false},
		// A face measured through heavy noise: K is uncertain, and the
		// check does not take the uncertainty for flatness.
		{"NoisyFace", 0.06, func(x, y, s float64) float64 { return 0.03 * s }, -1, 3, false, false},
		{"Print", 0.002, func(x, y, s float64) float64 { return 0.03 }, -0.05, 0.05, false, true},
		// A tilted print: nearer parts get more light, linearly.
		{"TiltedPrint", 0.002, func(x, y, s float64) float64 { return 0.03 * (1 + 0.2*x - 0.1*y) }, -0.05, 0.05, false, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			e, ser := synthSeries(rand.New(rand.NewPCG(7, 8)), test.sigma, test.resp)
			r := meshShading(e, ser, use, normalsModel)
			if r.k < test.kLo || r.k > test.kHi {
				t.Errorf("K = %.3f, want %.2f..%.2f", r.k, test.kLo, test.kHi)
			}
			if (r.t > 3) != test.significant {
				t.Errorf("t = %.2f, significant %v", r.t, test.significant)
			}
			if flat := r.upper < DefaultThresholds().Shading; flat != test.flat {
				t.Errorf("upper bound %.3f (K %.3f, t %.2f): refused as flat %v, want %v", r.upper, r.k, r.t, flat, test.flat)
			}
		})
	}
}

// A capture whose mesh was lost on a few frames keeps its mesh series over
// the others, with the expected signal taken at the same frames; one whose
// mesh was lost for most of the colours has none.
func TestMeshFrames(t *testing.T) {
	for _, test := range []struct {
		name   string
		frames int   // light frames
		mesh   []int // the frames with a mesh
		kept   bool
	}{
		{"AllFrames", 12, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"TwoLost", 12, []int{0, 1, 2, 4, 5, 6, 7, 8, 10, 11}, true},
		{"MostLost", 12, []int{0, 3, 6, 9, 11}, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			ser := &lightSeries{mframes: test.mesh}
			ts := make([]float64, test.frames)
			for i := range ts {
				ts[i] = float64(i) / 10
			}
			var probe [3][]float64
			for c := range 3 {
				for range test.mesh {
					probe[c] = append(probe[c], 0)
				}
			}
			ser.mesh = [][3][]float64{probe}
			ser.mok = []bool{true}
			ser.mnorm = []vec3{{0, 0, -1}}
			ser.mpos = []pointSum{{X: 0.2, Y: 0.5, n: 1}}
			ser.finishMesh(ts)
			if kept := ser.mesh != nil; kept != test.kept {
				t.Fatalf("mesh series kept %v, want %v", kept, test.kept)
			}
			if !test.kept {
				return
			}
			var e [3][]float64
			for c := range 3 {
				for j := range test.frames {
					e[c] = append(e[c], float64(100*c+j))
				}
			}
			m := ser.atMeshFrames(&e)
			for c := range 3 {
				if len(m[c]) != len(test.mesh) {
					t.Fatalf("expected signal at %d frames, want %d", len(m[c]), len(test.mesh))
				}
				for j, i := range test.mesh {
					if m[c][j] != e[c][i] {
						t.Errorf("channel %d, mesh frame %d: %v, want frame %d's %v", c, j, m[c][j], i, e[c][i])
					}
				}
			}
		})
	}
}

func TestExposedShare(t *testing.T) {
	for _, test := range []struct {
		clipped []bool
		want    float64
	}{
		{nil, 1}, // no mesh series: not an exposure problem
		{[]bool{false, false, false, false}, 1},
		{[]bool{false, true, true, true}, 0.25},
		{[]bool{true, true}, 0},
	} {
		ser := &lightSeries{mclipped: test.clipped}
		for range test.clipped {
			ser.mesh = append(ser.mesh, [3][]float64{})
			ser.mok = append(ser.mok, false) // unusable for other reasons: not counted as clipped
		}
		if got := ser.exposedShare(); got != test.want {
			t.Errorf("exposedShare(clipped %v) = %v, want %v", test.clipped, got, test.want)
		}
	}
}
