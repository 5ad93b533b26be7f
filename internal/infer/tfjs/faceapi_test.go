package tfjs_test

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// faceAPICase is a 150x150 RGB image as raw 0..255 pixels (HWC), the input
// face-api.js's computeFaceDescriptor takes; our session gets the same
// pixels normalised by the Spec.
type faceAPICase struct {
	name   string
	pixels []float32
}

func faceAPICases(t testing.TB) []faceAPICase {
	side := tfjs.FaceRecognition.Input.Width
	crop := func(n int, r image.Rectangle) []float32 {
		dst := image.NewRGBA(image.Rect(0, 0, side, side))
		draw.BiLinear.Scale(dst, dst.Bounds(), testutil.DecodeSample(t, n), r, draw.Src, nil)
		px := make([]float32, 0, side*side*3)
		for i := 0; i < len(dst.Pix); i += 4 {
			px = append(px, float32(dst.Pix[i]), float32(dst.Pix[i+1]), float32(dst.Pix[i+2]))
		}
		return px
	}
	noise := make([]float32, side*side*3)
	r := rand.New(rand.NewPCG(42, 2026))
	for i := range noise {
		noise[i] = float32(r.IntN(256))
	}
	return []faceAPICase{
		{"face", crop(1, faceCrop)},
		{"face-wide", crop(1, wideCrop)},
		{"random", noise},
	}
}

// tensor normalises the pixels as the Spec says.
func (c faceAPICase) tensor() infer.Tensor {
	spec := tfjs.FaceRecognition
	scale, offset := spec.Input.Scale()
	t := infer.NewTensor(spec.InputShape()...)
	for i, p := range c.pixels {
		t.Data[i] = p*scale[i%3] + offset[i%3]
	}
	return t
}

func (c faceAPICase) bytes() []byte {
	return tensorBytes(infer.Tensor{Data: c.pixels})
}

// writeFaceAPIInputs writes the pixels of every case for golden.mjs.
func writeFaceAPIInputs(t *testing.T, dir string) []goldenEntry {
	spec := tfjs.FaceRecognition
	var out []goldenEntry
	for _, c := range faceAPICases(t) {
		b := c.bytes()
		file := fmt.Sprintf("%s.%s.f32", spec.Name, c.name)
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, goldenEntry{Model: spec.Name, Kind: "faceapi", Case: c.name,
			JSON: filepath.Join(testutil.ModelDir(t), filepath.FromSlash(spec.File)), File: file,
			Shape: []int64{int64(spec.Input.Height), int64(spec.Input.Width), 3}, SHA256: sha(b), Outputs: spec.OutputNames()})
	}
	return out
}

// TestGolden_FaceAPIRecognition checks the Go-built translation of
// face-api.js's FaceRecognitionNet against face-api.js itself (the pinned
// package, TF.js CPU backend; scripts/golden.sh), value by value.
func TestGolden_FaceAPIRecognition(t *testing.T) {
	spec := tfjs.FaceRecognition
	g := readGolden(t, spec.Name)
	s, err := tfjs.Load(testutil.Runtime(t), spec, testutil.ModelDir(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := faceAPICases(t)
	if len(g.Cases) != len(cases) {
		t.Fatalf("golden has %d cases, test has %d (run `make golden`)", len(g.Cases), len(cases))
	}
	var gc []goldenCase
	worst := 0.0
	for i, c := range cases {
		want := g.Cases[i]
		if want.Case != c.name || want.InputSHA256 != sha(c.bytes()) {
			t.Fatalf("case %s: golden input differs from the test's (%s %s); run `make golden`", c.name, want.Case, want.InputSHA256)
		}
		in := c.tensor()
		gc = append(gc, goldenCase{c.name, in})
		out, err := s.Run(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || len(want.Outputs) != 1 || fmt.Sprint(out[0].Shape) != fmt.Sprint(want.Outputs[0].Shape) {
			t.Fatalf("%s: outputs %d of shape %v, face-api.js %v", c.name, len(out), out[0].Shape, want.Outputs)
		}
		w := want.Outputs[0]
		if w.Stride != 1 || len(w.Values) != len(out[0].Data) {
			t.Fatalf("%s: golden keeps %d values at stride %d, want all %d", c.name, len(w.Values), w.Stride, len(out[0].Data))
		}
		var dot, na, nb float64
		for k, v := range w.Values {
			got := float64(out[0].Data[k])
			worst = max(worst, math.Abs(got-v))
			if !within(got, v) {
				t.Errorf("%s[%d] = %g, face-api.js %g", c.name, k, got, v)
			}
			dot, na, nb = dot+got*v, na+got*got, nb+v*v
		}
		// The distance face-api.js matches by (0.6 is its threshold).
		if cos := dot / math.Sqrt(na*nb); cos < 0.99999 {
			t.Errorf("%s: cosine to face-api.js %.6f", c.name, cos)
		}
	}
	t.Logf("vs face-api.js (%s): max abs error %.3g", g.TFJS, worst)
	checkBatch(t, s, gc)
}
