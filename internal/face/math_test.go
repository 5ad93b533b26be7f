package face

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
)

func TestPriors(t *testing.T) {
	d := DefaultDetector()
	p := priors(320, 240, d.MinSizes, d.Steps)
	if got, want := len(p), 4420; got != want { // the graph's output count
		t.Fatalf("priors = %d, want %d", got, want)
	}
	// First anchor: cell (0,0) of the stride-8 map, 10 px; last: stride 64, 256 px.
	if got, want := p[0], (prior{4.0 / 320, 4.0 / 240, 10.0 / 320, 10.0 / 240}); got != want {
		t.Errorf("first prior %+v, want %+v", got, want)
	}
	if got, want := p[len(p)-1], (prior{(4 + 0.5) * 64 / 320, (3 + 0.5) * 64 / 240, 256.0 / 320, 256.0 / 240}); got != want {
		t.Errorf("last prior %+v, want %+v", got, want)
	}
	box := [4]float64{0.2, 0.3, 0.35, 0.5}
	for _, i := range []int{0, 1234, 4419} {
		got := decodeSSD(encodeSSD(box, p[i], d.Variances), p[i], d.Variances)
		for k := range 4 {
			if math.Abs(got[k]-box[k]) > 1e-12 {
				t.Fatalf("prior %d: decode(encode(%v)) = %v", i, box, got)
			}
		}
	}
	if got := decodeSSD([4]float64{}, p[7], d.Variances); math.Abs(got[2]-got[0]-p[7].W) > 1e-12 {
		t.Errorf("zero offsets must give the prior itself, got %v", got)
	}
}

func TestPlanPasses(t *testing.T) {
	d := DefaultDetector()
	for _, test := range []struct {
		name      string
		w, h      int
		tiles     bool
		wantTiles bool
	}{
		{"VGA", 640, 480, true, false},
		{"FullHD", 1920, 1080, true, true},
		{"FullHDSingle", 1920, 1080, false, false},
		{"Portrait12MP", 3000, 4000, true, true},
		{"Small", 200, 150, true, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			ps := planPasses(test.w, test.h, d, test.tiles)
			if ps[0].Tile || ps[0].Region.W != float64(test.w) {
				t.Fatalf("first pass %+v, want the whole image", ps[0])
			}
			if got := len(ps) > 1; got != test.wantTiles {
				t.Fatalf("tiled = %v (%d passes), want %v", got, len(ps), test.wantTiles)
			}
			if len(ps)-1 > d.MaxTiles {
				t.Errorf("%d tiles, budget %d", len(ps)-1, d.MaxTiles)
			}
			finest := ps[len(ps)-1].Scale
			if test.wantTiles {
				// The smallest face to find maps to at least DetectSize.
				minFace := math.Max(d.MinFace, d.MinFaceFraction*float64(max(test.w, test.h)))
				if minFace*finest < d.DetectSize-1e-9 {
					t.Errorf("finest scale %.3f maps %.0f px to %.1f, want >= %.0f", finest, minFace, minFace*finest, d.DetectSize)
				}
				// Tiles of the finest level cover the image.
				var cover float64
				for _, p := range ps[1:] {
					if p.Scale == finest {
						if p.Region.X < 0 || p.Region.Y < 0 || p.Region.X+p.Region.W > float64(test.w)+1e-6 || p.Region.Y+p.Region.H > float64(test.h)+1e-6 {
							t.Errorf("tile %+v outside the image", p.Region)
						}
						cover += p.Region.Area()
					}
				}
				if cover < float64(test.w*test.h) {
					t.Errorf("tiles cover %.0f px of %d", cover, test.w*test.h)
				}
			}
		})
	}
}

func TestNMS(t *testing.T) {
	dets := []detection{
		{Box: livenessd.Rect{X: 0, Y: 0, W: 10, H: 10}, Score: 0.8},
		{Box: livenessd.Rect{X: 1, Y: 1, W: 10, H: 10}, Score: 0.9}, // overlaps the first: wins
		{Box: livenessd.Rect{X: 50, Y: 50, W: 10, H: 10}, Score: 0.7},
		{Box: livenessd.Rect{X: 52, Y: 52, W: 4, H: 4}, Score: 0.99}, // inside the third: kept (higher), suppresses it
	}
	got := nms(dets, 0.4)
	if len(got) != 2 || got[0].Score != 0.99 || got[1].Score != 0.9 {
		t.Fatalf("nms = %+v", got)
	}
}

func TestEstimateSimilarity(t *testing.T) {
	want := similarity{A: 1.3 * math.Cos(0.4), B: 1.3 * math.Sin(0.4), TX: -20, TY: 35}
	src := []livenessd.Point{{X: 10, Y: 20}, {X: 60, Y: 22}, {X: 35, Y: 45}, {X: 15, Y: 70}, {X: 55, Y: 71}}
	dst := make([]livenessd.Point, len(src))
	for i, p := range src {
		dst[i] = want.apply(p)
	}
	got, err := estimateSimilarity(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []float64{got.A - want.A, got.B - want.B, got.TX - want.TX, got.TY - want.TY} {
		if math.Abs(d) > 1e-9 {
			t.Fatalf("similarity %+v, want %+v", got, want)
		}
	}
	if _, err := estimateSimilarity([]livenessd.Point{{X: 1, Y: 1}, {X: 1, Y: 1}}, []livenessd.Point{{X: 0, Y: 0}, {X: 1, Y: 1}}); err == nil {
		t.Error("coincident points: want an error")
	}
	if _, err := estimateSimilarity(src[:2], dst); err == nil {
		t.Error("length mismatch: want an error")
	}
}

// alignMap must send the template positions in the crop back to the
// image's keypoints.
func TestAlignMap(t *testing.T) {
	kp := []livenessd.Point{{X: 400, Y: 300}, {X: 480, Y: 310}, {X: 438, Y: 350}, {X: 405, Y: 390}, {X: 470, Y: 398}}
	m, fwd, err := alignMap(kp, ArcFaceTemplate, 112, 112)
	if err != nil {
		t.Fatal(err)
	}
	for i, tp := range ArcFaceTemplate {
		x, y := m.apply(tp.X, tp.Y)
		if math.Hypot(x-kp[i].X, y-kp[i].Y) > 6 { // least-squares residual of a near-frontal face
			t.Errorf("template point %d maps to (%.1f,%.1f), keypoint (%.0f,%.0f)", i, x, y, kp[i].X, kp[i].Y)
		}
	}
	if s := fwd.Scale(); s < 0.3 || s > 0.6 {
		t.Errorf("scale %v for an 80 px eye distance, want about 35/80", s)
	}
	inv, ok := m.invert()
	if !ok {
		t.Fatal("not invertible")
	}
	x, y := inv.apply(m.apply(5, 7))
	if math.Abs(x-5) > 1e-9 || math.Abs(y-7) > 1e-9 {
		t.Errorf("invert(apply(5,7)) = (%v,%v)", x, y)
	}
}

func TestCalibration(t *testing.T) {
	c := DefaultCalibration()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	prev := -1.0
	for cos := -1.0; cos <= 1.0; cos += 0.01 {
		s := c.Score(cos)
		if s < prev || s < 0 || s > 100 {
			t.Fatalf("Score(%.2f) = %v after %v: not monotonic in 0..100", cos, s, prev)
		}
		prev = s
		if back := c.Cosine(s); math.Abs(back-cos) > 1e-9 {
			t.Fatalf("Cosine(Score(%.2f)) = %v", cos, back)
		}
	}
	if got := c.Score(c.Cosine(DefaultThreshold)); math.Abs(got-DefaultThreshold) > 1e-9 {
		t.Errorf("Score(Cosine(90)) = %v", got)
	}
	for _, bad := range []Calibration{{}, {Knots: []Knot{{Cosine: 0, Score: 0}, {Cosine: 0, Score: 10}}}, {Knots: []Knot{{Cosine: 0, Score: 10}, {Cosine: 1, Score: 5}}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: want a validation error", bad)
		}
	}
}

func TestParseConfig(t *testing.T) {
	for _, test := range []struct {
		name, json string
		ok         bool
	}{
		{"Empty", `{}`, true},
		{"OwnEmbedder", `{"Embedder":{"Spec":{"Name":"arcface","File":"/opt/m/arcface.onnx","Input":{"Name":"data"}}},"Calibration":{"knots":[{"cosine":-1,"score":0},{"cosine":0.3,"score":90},{"cosine":1,"score":100}]}}`, true},
		{"UnknownField", `{"Detecter":{}}`, false},
		{"BadThreshold", `{"Threshold":150}`, false},
		{"BadCalibration", `{"Calibration":{"knots":[{"cosine":0.5,"score":10}]}}`, false},
		{"NotJSON", `{`, false},
		{"FusionOff", `{"Fusion":{"Weight":7}}`, true},
		{"FusionOn", `{"Fusion":{"Disabled":false}}`, true},
		{"FusionWeightZero", `{"Fusion":{"Disabled":false,"Weight":0}}`, false},
		{"FusionWeightOne", `{"Fusion":{"Disabled":false,"Weight":1}}`, false},
		{"FusionNotSquare", `{"Fusion":{"Disabled":false,"Spec":{"Input":{"Width":150,"Height":112}}}}`, false},
		{"FusionBadOutput", `{"Fusion":{"Disabled":false,"Output":1}}`, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(test.json))
			if (err == nil) != test.ok {
				t.Fatalf("err = %v, want ok=%v", err, test.ok)
			}
			if test.name == "OwnEmbedder" && (c.Embedder.Spec.File != "/opt/m/arcface.onnx" || c.Embedder.Spec.Input.Width != 112 || c.Calibration.Score(0.3) != 90) {
				t.Errorf("override not applied / defaults lost: %+v", c.Embedder.Spec)
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"Threshold":80,"Detector":{"ScoreThreshold":0.5}}`))
	f.Add([]byte(`{"Calibration":{"knots":[{"cosine":-1,"score":0},{"cosine":1,"score":100}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		if s := c.Calibration.Score(0.5); math.IsNaN(s) {
			t.Fatal("calibration gives NaN")
		}
	})
}

// The fused embedding is a unit vector whose cosine is the weighted mean of
// the two models' cosines, so the calibration and every cosine consumer
// work on it unchanged.
func TestFuse_CosineIsWeightedMean(t *testing.T) {
	unit := func(v ...float32) []float32 {
		if !normalize(v) {
			t.Fatal("zero vector")
		}
		return v
	}
	a1, a2 := unit(1, 2, 3), unit(-1, 0.5, 2)
	b1, b2 := unit(4, -1), unit(1, 1)
	for _, w := range []float64{0.1, 0.5, 0.674, 0.9} {
		f1, f2 := fuse(a1, b1, w), fuse(a2, b2, w)
		if len(f1) != 5 || math.Abs(l2(f1)-1) > 1e-6 {
			t.Fatalf("w=%v: fused %v is not a 5-d unit vector", w, f1)
		}
		want := (1-w)*Cosine(a1, a2) + w*Cosine(b1, b2)
		if got := Cosine(f1, f2); math.Abs(got-want) > 1e-6 {
			t.Errorf("w=%v: cosine %v, want %v", w, got, want)
		}
	}
}

// nopModel stands in for a loaded model where none is run.
type nopModel struct{}

func (nopModel) Run(context.Context, infer.Tensor) ([]infer.Tensor, error) { return nil, nil }
func (nopModel) Spec() infer.Spec                                          { return infer.Spec{} }
func (nopModel) Close() error                                              { return nil }

// A pipeline built on loaded models with fusion on must be given the
// fusion model: comparing by the first alone would apply the wrong
// calibration.
func TestNew_FusionNeedsItsModel(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fusion.Disabled = false
	m := Models{Detector: nopModel{}, Landmarks: nopModel{}, Embedder: nopModel{}}
	if _, err := New(m, cfg); err == nil || !strings.Contains(err.Error(), "fusion model") {
		t.Fatalf("New without the fusion model: %v", err)
	}
}
