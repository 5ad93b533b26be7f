package face_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/eval"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/testutil"
)

// devSets are the pairs files of the development data the fast compare
// path is checked on: every pair of the three small sets (photos up to
// 14 megapixels, group photos) and every tenth LFW pair.
var devSets = []struct {
	name  string
	every int
}{{"deepface", 1}, {"face_recognition", 1}, {"go-face-testdata", 1}, {"lfw", 10}}

// devImage is what the golden file pins of one image: the compared face's
// box as ratios of the image (so a reduced decode compares with a full
// one), its detector score and the number of faces found.
type devImage struct {
	Image string     `json:"image"`
	Faces int        `json:"faces"`
	Box   [4]float64 `json:"box,omitempty"` // left, top, width, height
	Score float64    `json:"score,omitempty"`
}

type devPair struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	Cosine float64 `json:"cosine"` // NaN (null) when an image has no face
}

type devGolden struct {
	Images []devImage `json:"images"`
	Pairs  []devPair  `json:"pairs"`
}

// TestDevSets_Golden checks that compare-faces' fast path — JPEGs decoded
// at a reduced DCT scale (imageio.DecodeReduced to Pipeline.ImageSide),
// the tiled search skipped when it cannot find a larger face — picks the
// same face and gives the same similarity as the exhaustive path: full
// decode, every face searched (Select of index 0: every scale, every
// tile), the largest compared. -update rewrites testdata/devsets.golden
// from the exhaustive path.
func TestDevSets_Golden(t *testing.T) {
	p := MustPipeline(t)
	ctx := t.Context()
	var pairs []eval.Pair
	for _, s := range devSets {
		ps, err := eval.ReadPairs(filepath.Join(testutil.SharedData(t, "face-verification/"+s.name), "pairs.csv"))
		if err != nil {
			t.Fatal(err)
		}
		for i, pr := range ps {
			if i%s.every == 0 {
				pr.NameA, pr.NameB = filepath.Join(s.name, pr.NameA), filepath.Join(s.name, pr.NameB)
				pairs = append(pairs, pr)
			}
		}
	}
	emb := map[string][]float32{}
	var got devGolden
	measure := func(path, name string) {
		if _, ok := emb[name]; ok {
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var o livenessd.FaceObservation
		var n int
		var b [2]int
		if *update {
			img, err := imageio.Decode(data, imageio.DefaultLimits())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// The exhaustive search (every scale, every tile) on the full
			// decode, its largest face measured as comparisons measure it.
			s, err := p.Select(ctx, img, livenessd.FaceSelection{Rule: livenessd.SelectIndex})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			o, n = s.Face, len(s.Faces)
			b = [2]int{img.Rect.Dx(), img.Rect.Dy()}
		} else {
			img, err := imageio.DecodeReduced(data, imageio.DefaultLimits(), p.ImageSide())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if o, n, err = p.Largest(ctx, img); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b = [2]int{img.Rect.Dx(), img.Rect.Dy()}
		}
		emb[name] = o.Embedding
		im := devImage{Image: name, Faces: n}
		if n > 0 {
			bb := o.Box.Normalize(b[0], b[1])
			im.Box = [4]float64{r4(bb.Left), r4(bb.Top), r4(bb.Width), r4(bb.Height)}
			im.Score = r4(o.Score)
		}
		got.Images = append(got.Images, im)
	}
	for _, pr := range pairs {
		measure(pr.A, pr.NameA)
		measure(pr.B, pr.NameB)
		c := math.NaN()
		if a, b := emb[pr.NameA], emb[pr.NameB]; a != nil && b != nil {
			c = r4(face.Cosine(a, b))
		}
		got.Pairs = append(got.Pairs, devPair{A: pr.NameA, B: pr.NameB, Cosine: c})
	}
	path := filepath.Join("testdata", "devsets.golden")
	if *update {
		writeDevGolden(t, path, got)
		return
	}
	want := readDevGolden(t, path)
	checkDevImages(t, want.Images, got.Images)
	checkDevPairs(t, want.Pairs, got.Pairs, p.Config().Calibration)
}

// Tolerances of the fast path against the exhaustive one. The boxes and
// embeddings come from slightly different pixels (a DCT-domain reduction
// instead of the pyramid's 2x2 means), so they move by about a pixel of the
// reduced image and a few thousandths of cosine.
const (
	devMinIoU      = 0.85 // the same face
	devMaxCosDelta = 0.04 // any pair
	devMeanDelta   = 0.01 // mean over the pairs
)

func checkDevImages(t *testing.T, want, got []devImage) {
	t.Helper()
	byName := map[string]devImage{}
	for _, w := range want {
		byName[w.Image] = w
	}
	counts := 0
	for _, g := range got {
		w, ok := byName[g.Image]
		if !ok {
			t.Errorf("%s: not in the golden file (go test -run DevSets -update)", g.Image)
			continue
		}
		if (w.Faces == 0) != (g.Faces == 0) {
			t.Errorf("%s: %d faces, golden %d", g.Image, g.Faces, w.Faces)
			continue
		}
		if w.Faces != g.Faces {
			// With the largest-face rule, faces much smaller than the
			// largest are not searched: counts may drop, never the face.
			counts++
			t.Logf("%s: %d faces, golden %d (smaller faces not searched)", g.Image, g.Faces, w.Faces)
		}
		if iou := boxIoU(w.Box, g.Box); g.Faces > 0 && iou < devMinIoU {
			t.Errorf("%s: compared box %v, golden %v (IoU %.2f): another face?", g.Image, g.Box, w.Box, iou)
		}
	}
	t.Logf("%d images, %d with another face count", len(got), counts)
}

func checkDevPairs(t *testing.T, want, got []devPair, cal face.Calibration) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d pairs, golden %d (go test -run DevSets -update)", len(got), len(want))
	}
	var sum, worst float64
	n := 0
	for i, g := range got {
		w := want[i]
		if w.A != g.A || w.B != g.B {
			t.Fatalf("pair %d is %s/%s, golden %s/%s", i, g.A, g.B, w.A, w.B)
		}
		if math.IsNaN(w.Cosine) != math.IsNaN(g.Cosine) {
			t.Errorf("%s/%s: cosine %v, golden %v", g.A, g.B, g.Cosine, w.Cosine)
			continue
		}
		if math.IsNaN(w.Cosine) {
			continue
		}
		d := math.Abs(w.Cosine - g.Cosine)
		sum += d
		worst = max(worst, d)
		n++
		if d > devMaxCosDelta {
			t.Errorf("%s/%s: cosine %.4f (similarity %.1f), golden %.4f (%.1f)", g.A, g.B, g.Cosine, cal.Score(g.Cosine), w.Cosine, cal.Score(w.Cosine))
		}
	}
	mean := sum / float64(max(n, 1))
	t.Logf("%d pairs: cosine change mean %.4f, worst %.4f", n, mean, worst)
	if mean > devMeanDelta {
		t.Errorf("mean cosine change %.4f > %.2f", mean, devMeanDelta)
	}
}

func boxIoU(a, b [4]float64) float64 {
	ix := math.Max(0, math.Min(a[0]+a[2], b[0]+b[2])-math.Max(a[0], b[0]))
	iy := math.Max(0, math.Min(a[1]+a[3], b[1]+b[3])-math.Max(a[1], b[1]))
	in := ix * iy
	u := a[2]*a[3] + b[2]*b[3] - in
	if u <= 0 {
		return 0
	}
	return in / u
}

func r4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// The golden file is JSON with one image or pair per line; a missing face's
// cosine is null.
func writeDevGolden(t *testing.T, path string, g devGolden) {
	t.Helper()
	var b []byte
	line := func(v any, last bool) {
		x, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, "    "...), x...)
		if !last {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	b = append(b, "{\n  \"images\": [\n"...)
	for i, im := range g.Images {
		line(im, i == len(g.Images)-1)
	}
	b = append(b, "  ],\n  \"pairs\": [\n"...)
	for i, pr := range g.Pairs {
		c := any(pr.Cosine)
		if math.IsNaN(pr.Cosine) {
			c = nil
		}
		line(map[string]any{"a": pr.A, "b": pr.B, "cosine": c}, i == len(g.Pairs)-1)
	}
	b = append(b, "  ]\n}\n"...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readDevGolden(t *testing.T, path string) devGolden {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run DevSets -update)", err)
	}
	var raw struct {
		Images []devImage `json:"images"`
		Pairs  []struct {
			A      string   `json:"a"`
			B      string   `json:"b"`
			Cosine *float64 `json:"cosine"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g := devGolden{Images: raw.Images}
	for _, p := range raw.Pairs {
		c := math.NaN()
		if p.Cosine != nil {
			c = *p.Cosine
		}
		g.Pairs = append(g.Pairs, devPair{A: p.A, B: p.B, Cosine: c})
	}
	return g
}
