package face_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/testutil"
)

// The pinned number of faces per sample photo (counted by eye on annotated
// output: every visible face, no false boxes). A wrong colour order or crop
// still returns plausible boxes, so counts are the first thing to break.
var sampleFaces = map[int]int{1: 3, 2: 3, 3: 3, 4: 4, 5: 5, 6: 4}

func TestPipeline_Analyze(t *testing.T) {
	for n := 1; n <= 6; n++ {
		t.Run("sample"+string(rune('0'+n)), func(t *testing.T) {
			_, obs := MustAnalyze(t, n)
			if got, want := len(obs), sampleFaces[n]; got != want {
				t.Fatalf("faces = %d, want %d", got, want)
			}
			for i, o := range obs {
				if i > 0 && o.Box.Area() > obs[i-1].Box.Area() {
					t.Errorf("face %d larger than face %d: not ordered by area", i, i-1)
				}
				if len(o.Landmarks) != 68 || len(o.Keypoints) != 5 {
					t.Fatalf("face %d: %d landmarks, %d keypoints", i, len(o.Landmarks), len(o.Keypoints))
				}
				if n := norm(o.Embedding); len(o.Embedding) != 512 || math.Abs(n-1) > 1e-4 {
					t.Errorf("face %d: embedding len %d norm %v, want 512 and 1", i, len(o.Embedding), n)
				}
				le, re, nose := o.Keypoints[0], o.Keypoints[1], o.Keypoints[2]
				if !inside(o.Box, nose, 0.1) || !inside(o.Box, le, 0.2) || !inside(o.Box, re, 0.2) {
					t.Errorf("face %d: keypoints %v outside box %v", i, o.Keypoints, o.Box)
				}
				if le.X >= re.X {
					t.Errorf("face %d: left eye x %.0f >= right eye x %.0f", i, le.X, re.X)
				}
				if o.Score < 0.7 || o.Score > 1 {
					t.Errorf("face %d: score %v", i, o.Score)
				}
			}
		})
	}
}

// largestCrop returns sample n cropped to k times its largest face.
func largestCrop(t *testing.T, p *face.Pipeline, n int, k float64) *image.NRGBA {
	t.Helper()
	img, obs := MustAnalyze(t, n)
	if len(obs) == 0 {
		t.Fatalf("sample%d: no face", n)
	}
	b := obs[0].Box
	return crop(img, around(b.X, b.Y, b.W, b.H, k))
}

func TestPipeline_Compare_SameFace(t *testing.T) {
	p := MustPipeline(t)
	for _, n := range []int{1, 6} {
		ref := largestCrop(t, p, n, 1.6)
		for _, test := range []struct {
			name string
			img  *image.NRGBA
		}{
			{"Half", scale(ref, 0.5)},
			{"Third", scale(ref, 0.3)},
			{"Dark", relight(ref, 0.5, 1.3)},
			{"Bright", relight(ref, 1.3, 0.7)},
			{"Rotate15", rotate(ref, 15)},
			{"RotateMinus25", rotate(ref, -25)},
			{"Recrop", crop(ref, image.Rect(ref.Bounds().Dx()/10, ref.Bounds().Dy()/12, ref.Bounds().Dx(), ref.Bounds().Dy()))},
		} {
			t.Run("sample"+string(rune('0'+n))+"/"+test.name, func(t *testing.T) {
				c, err := p.Compare(t.Context(), ref, test.img, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !c.IsMatch || c.Similarity < face.DefaultThreshold {
					t.Errorf("similarity = %.1f (cosine %.3f), want >= %d and a match", c.Similarity, c.Cosine, face.DefaultThreshold)
				}
				if c.Threshold != face.DefaultThreshold || c.SourceFaces != 1 || c.TargetFaces != 1 {
					t.Errorf("threshold %v, faces %d/%d, want %d, 1/1", c.Threshold, c.SourceFaces, c.TargetFaces, face.DefaultThreshold)
				}
			})
		}
	}
}

// Faces in the same group photo are different persons. (Across photos they
// are not: the samples come from one photo shoot and share models.)
func TestPipeline_Compare_DifferentPersons(t *testing.T) {
	p := MustPipeline(t)
	cal := p.Config().Calibration
	var worst float64
	pairs := 0
	for n := 1; n <= 6; n++ {
		_, obs := MustAnalyze(t, n)
		for i := range obs {
			for j := i + 1; j < len(obs); j++ {
				s := cal.Score(face.Cosine(obs[i].Embedding, obs[j].Embedding))
				worst = max(worst, s)
				pairs++
				if s >= face.DefaultThreshold {
					t.Errorf("sample%d faces %d and %d: similarity %.1f, want < %d", n, i, j, s, face.DefaultThreshold)
				}
			}
		}
	}
	t.Logf("%d pairs of different persons, highest similarity %.1f", pairs, worst)
}

func TestPipeline_Compare_LargestFace(t *testing.T) {
	p := MustPipeline(t)
	img, obs := MustAnalyze(t, 5)
	b := obs[0].Box
	single := crop(img, around(b.X, b.Y, b.W, b.H, 1.6))
	c, err := p.Compare(t.Context(), img, single, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceFaces != sampleFaces[5] || c.TargetFaces != 1 {
		t.Errorf("faces %d/%d, want %d/1", c.SourceFaces, c.TargetFaces, sampleFaces[5])
	}
	if !c.IsMatch {
		t.Errorf("largest face vs its crop: similarity %.1f, want a match", c.Similarity)
	}
	want := b.Normalize(img.Bounds().Dx(), img.Bounds().Dy())
	if got := c.SourceFace.BoundingBox; math.Abs(got.Left-want.Left) > 1e-4 || math.Abs(got.Width-want.Width) > 1e-4 {
		t.Errorf("source box %+v, want the largest face %+v", got, want)
	}
	// Any other face of the group against the crop is not a match.
	for i := 1; i < len(obs); i++ {
		b := obs[i].Box
		other := crop(img, around(b.X, b.Y, b.W, b.H, 1.3))
		c, err := p.Compare(t.Context(), other, single, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.IsMatch {
			t.Errorf("face %d vs largest: similarity %.1f, want no match", i, c.Similarity)
		}
	}
}

func TestPipeline_Compare_NoFace(t *testing.T) {
	p := MustPipeline(t)
	faceImg := largestCrop(t, p, 1, 1.6)
	blank := image.NewNRGBA(image.Rect(0, 0, 640, 480))
	for i := range blank.Pix {
		blank.Pix[i] = 200
	}
	texture := image.NewNRGBA(image.Rect(0, 0, 800, 600))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range 600 {
		for x := range 800 {
			v := uint8(128 + 60*math.Sin(float64(x)/7)*math.Cos(float64(y)/11) + float64(r.IntN(40)))
			texture.SetNRGBA(x, y, color.NRGBA{v, uint8(int(v) * 3 / 4), uint8(int(v) / 2), 255})
		}
	}
	for _, test := range []struct {
		name           string
		source, target image.Image
		want           error
	}{
		{"ErrNoSourceFace/Blank", blank, faceImg, livenessd.ErrNoSourceFace},
		{"ErrNoSourceFace/Texture", texture, faceImg, livenessd.ErrNoSourceFace},
		{"ErrNoTargetFace/Blank", faceImg, blank, livenessd.ErrNoTargetFace},
		{"ErrNoTargetFace/Texture", faceImg, texture, livenessd.ErrNoTargetFace},
	} {
		t.Run(test.name, func(t *testing.T) {
			_, err := p.Compare(t.Context(), test.source, test.target, 0)
			if !errors.Is(err, test.want) || !errors.Is(err, livenessd.ErrNoFace) {
				t.Fatalf("err = %v, want %v (ErrNoFace)", err, test.want)
			}
		})
	}
	t.Run("ErrInvalidImage", func(t *testing.T) {
		if _, err := p.Compare(t.Context(), image.NewNRGBA(image.Rectangle{}), faceImg, 0); !errors.Is(err, livenessd.ErrInvalidImage) {
			t.Fatalf("err = %v, want ErrInvalidImage", err)
		}
	})
}

// A 40x40 px face in a 1920x1080 image (AWS CompareFaces' smallest face) is
// found by the tiled search and not by the single pass, which sees it at
// about 7 px.
func TestPipeline_Analyze_SmallFace(t *testing.T) {
	p := MustPipeline(t)
	img, obs := MustAnalyze(t, 3)
	b := obs[0].Box
	side := math.Max(b.W, b.H)
	k := 40 / side // face box side -> 40 px
	canvas := image.NewNRGBA(image.Rect(0, 0, 1920, 1080))
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(canvas.Pix); i += 4 {
		v := uint8(90 + r.IntN(30))
		canvas.Pix[i], canvas.Pix[i+1], canvas.Pix[i+2], canvas.Pix[i+3] = v, v, v+10, 255
	}
	// Paste the scaled neighbourhood of the face (2x the box) at (1333, 611).
	cx, cy := b.X+b.W/2, b.Y+b.H/2
	const px, py = 1333, 611
	for y := py - 40; y < py+40; y++ {
		for x := px - 40; x < px+40; x++ {
			sx, sy := cx+(float64(x-px)+0.5)/k, cy+(float64(y-py)+0.5)/k
			canvas.SetNRGBA(x, y, img.NRGBAAt(int(sx), int(sy)))
		}
	}
	found, err := p.Analyze(t.Context(), canvas)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("faces = %d, want 1", len(found))
	}
	got := found[0].Box
	if c := got.Center(); math.Abs(c.X-px) > 10 || math.Abs(c.Y-py) > 10 || got.W < 25 || got.W > 60 {
		t.Errorf("box %+v, want about 40x40 centred at (%d,%d)", got, px, py)
	}
	single, err := p.ObserveFrame(t.Context(), canvas)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tiled box %.0f score %.2f; single pass found %d", got, found[0].Score, len(single))
}

func TestPipeline_ObserveFrame(t *testing.T) {
	p := MustPipeline(t)
	img := scale(MustDecode(t, testutil.Sample(t, 6)), 1.0/3) // 640x512: a webcam-sized frame
	obs, err := p.ObserveFrame(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(obs), sampleFaces[6]; got != want {
		t.Fatalf("faces = %d, want %d", got, want)
	}
	for i, o := range obs {
		if o.LiveScore <= 0 || o.LiveScore > 1 || len(o.Embedding) != 512 || len(o.Landmarks) != 68 {
			t.Errorf("face %d: live %v, embedding %d, landmarks %d", i, o.LiveScore, len(o.Embedding), len(o.Landmarks))
		}
	}
	// Cancelled context: no work, the context's error.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.ObserveFrame(ctx, img); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// inside reports whether q lies in r grown by margin (fraction of its size).
func inside(r livenessd.Rect, q livenessd.Point, margin float64) bool {
	mx, my := r.W*margin, r.H*margin
	return q.X >= r.X-mx && q.X <= r.X+r.W+mx && q.Y >= r.Y-my && q.Y <= r.Y+r.H+my
}

// Concurrent comparisons share the pipeline's sessions and must give the
// sequential result.
func TestPipeline_Compare_Concurrent(t *testing.T) {
	p := MustPipeline(t)
	a, b := largestCrop(t, p, 1, 1.6), largestCrop(t, p, 6, 1.6)
	want, err := p.Compare(t.Context(), a, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	errs := make(chan error, workers)
	for range workers {
		go func() {
			got, err := p.Compare(t.Context(), a, b, 0)
			if err == nil && (got.Similarity != want.Similarity || got.SourceFace != want.SourceFace) {
				err = fmt.Errorf("concurrent result %+v, sequential %+v", got, want)
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// With Config.Fusion on, a comparison measures the selected face with both
// identity models: its embedding is fr_feature's, scaled by
// sqrt(1-Weight), followed by the fusion model's, scaled by sqrt(Weight).
// Video frames keep fr_feature's alone (the liveness identity threshold is
// calibrated on it). Fusion is off by default.
func TestSelect_FusedEmbedding(t *testing.T) {
	single := MustPipeline(t)
	if !single.Config().Fusion.Disabled {
		t.Fatal("the default configuration compares by fr_feature alone")
	}
	p, on := fusedPipeline(t)
	img := testutil.DecodeSample(t, 1)
	s, err := p.Select(t.Context(), img, livenessd.FaceSelection{})
	if err != nil {
		t.Fatal(err)
	}
	e := s.Face.Embedding
	if len(e) != 512+128 || math.Abs(norm(e)-1) > 1e-4 {
		t.Fatalf("fused embedding len %d norm %v, want 640 and 1", len(e), norm(e))
	}
	frames, err := p.ObserveFrame(t.Context(), img)
	if err != nil || len(frames) == 0 {
		t.Fatalf("ObserveFrame: %d faces, %v", len(frames), err)
	}
	if n := len(frames[0].Embedding); n != 512 {
		t.Errorf("ObserveFrame embedding len %d, want fr_feature's 512", n)
	}
	s1, err := single.Select(t.Context(), img, livenessd.FaceSelection{})
	if err != nil {
		t.Fatal(err)
	}
	if s1.Face.Box != s.Face.Box || len(s1.Face.Embedding) != 512 {
		t.Fatalf("fusion off: box %v, %d-d embedding; fused: box %v", s1.Face.Box, len(s1.Face.Embedding), s.Face.Box)
	}
	a, b := math.Sqrt(1-on.Fusion.Weight), math.Sqrt(on.Fusion.Weight)
	for i, x := range s1.Face.Embedding {
		if d := math.Abs(float64(e[i])/a - float64(x)); d > 1e-5 {
			t.Fatalf("fr_feature part [%d] = %v, fusion off %v", i, float64(e[i])/a, x)
		}
	}
	if n := norm(e[512:]) / b; math.Abs(n-1) > 1e-4 {
		t.Errorf("fusion part norm %v after unscaling, want 1", n)
	}
}
