package tfjs_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/image/draw"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// goldenInputs, when set, makes TestWriteGoldenInputs write every golden
// input tensor and a manifest there for tools/golden (see scripts/golden.sh).
var goldenInputs = flag.String("golden.inputs", "", "write golden input tensors to this directory")

// Crops of sample1.jpg (a real group photo), in source pixels.
var (
	faceCrop = image.Rect(370, 320, 650, 600) // one face, tight
	wideCrop = image.Rect(230, 180, 790, 740) // the same face with context, for detectors
	eyeCrop  = image.Rect(400, 415, 480, 495) // its right eye, for iris
)

func cropFor(spec infer.Spec) image.Rectangle {
	switch spec.Name {
	case tfjs.FaceMeshDetectionShort.Name, tfjs.FaceMeshDetectionFull.Name, tfjs.BlazeFaceBack.Name:
		return wideCrop
	case tfjs.Iris.Name:
		return eyeCrop
	}
	return faceCrop
}

type goldenCase struct {
	name string
	in   infer.Tensor
}

// imageTensor crops, resizes (bilinear) and normalises as the spec says.
func imageTensor(spec infer.Spec, img image.Image, crop image.Rectangle) infer.Tensor {
	in := spec.Input
	dst := image.NewRGBA(image.Rect(0, 0, in.Width, in.Height))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	scale, offset := in.Scale()
	t := infer.NewTensor(spec.InputShape()...)
	for y := range in.Height {
		for x := range in.Width {
			p := dst.Pix[y*dst.Stride+4*x:]
			for c := range 3 {
				t.Data[(y*in.Width+x)*3+c] = float32(p[c])*scale[c] + offset[c]
			}
		}
	}
	return t
}

// randomTensor is seeded uniform noise over the model's input range.
func randomTensor(spec infer.Spec, seed uint64) infer.Tensor {
	scale, offset := spec.Input.Scale()
	lo, hi := offset[0], 255*scale[0]+offset[0]
	r := rand.New(rand.NewPCG(seed, 2026))
	t := infer.NewTensor(spec.InputShape()...)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*r.Float32()
	}
	return t
}

func goldenCases(t testing.TB, spec infer.Spec) []goldenCase {
	return []goldenCase{
		{"face", imageTensor(spec, testutil.DecodeSample(t, 1), cropFor(spec))},
		{"random", randomTensor(spec, 42)},
	}
}

func tensorBytes(t infer.Tensor) []byte {
	b := make([]byte, 4*len(t.Data))
	for i, f := range t.Data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// golden is what tools/golden/golden.mjs writes per model.
type golden struct {
	Model       string   `json:"model"`
	TFJS        string   `json:"tfjs"`
	OutputNodes []string `json:"outputNodes"`
	Cases       []struct {
		Case        string `json:"case"`
		InputSHA256 string `json:"inputSha256"`
		Outputs     []struct {
			Name   string    `json:"name"`
			Shape  []int64   `json:"shape"`
			Sum    float64   `json:"sum"`
			AbsSum float64   `json:"absSum"`
			Stride int       `json:"stride"`
			Values []float64 `json:"values"`
		} `json:"outputs"`
	} `json:"cases"`
}

// goldenEntry is one input of tools/golden/golden.mjs's manifest. Kind
// "faceapi" runs face-api.js's own network code on the raw pixels in File
// (JSON is then the weights manifest); otherwise JSON is a graph model run
// by the TF.js converter on the input tensor in File.
type goldenEntry struct {
	Model   string   `json:"model"`
	Kind    string   `json:"kind,omitempty"`
	Case    string   `json:"case"`
	JSON    string   `json:"json"`
	File    string   `json:"file"`
	Shape   []int64  `json:"shape"`
	SHA256  string   `json:"sha256"`
	Outputs []string `json:"outputs"`
}

func TestWriteGoldenInputs(t *testing.T) {
	if *goldenInputs == "" {
		t.Skip("only with -golden.inputs DIR (scripts/golden.sh)")
	}
	var manifest []goldenEntry
	root := testutil.ModelDir(t)
	for _, spec := range append(tfjs.Models(), tfjs.Embedders()...) {
		for _, c := range goldenCases(t, spec) {
			b := tensorBytes(c.in)
			file := fmt.Sprintf("%s.%s.f32", spec.Name, c.name)
			if err := os.WriteFile(filepath.Join(*goldenInputs, file), b, 0o644); err != nil {
				t.Fatal(err)
			}
			manifest = append(manifest, goldenEntry{Model: spec.Name, Case: c.name, JSON: filepath.Join(root, filepath.FromSlash(spec.File)),
				File: file, Shape: c.in.Shape, SHA256: sha(b), Outputs: spec.OutputNames()})
		}
	}
	manifest = append(manifest, writeFaceAPIInputs(t, *goldenInputs)...)
	b, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*goldenInputs, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// within is the golden tolerance: 1e-4 absolute, 1e-3 relative for large values.
func within(got, want float64) bool {
	return math.Abs(got-want) <= max(1e-4, 1e-3*math.Abs(want))
}

// readGolden reads testdata/golden/<name>.json, failing the test when it
// is missing.
func readGolden(t *testing.T, name string) golden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "golden", name+".json"))
	if err != nil {
		t.Fatalf("golden file missing (run `make golden`): %v", err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGolden_MatchesTFJS(t *testing.T) {
	rt := testutil.Runtime(t)
	root := testutil.ModelDir(t)
	cache := t.TempDir()
	for _, spec := range append(tfjs.Models(), tfjs.Embedders()...) {
		t.Run(spec.Name, func(t *testing.T) {
			g := readGolden(t, spec.Name)
			// Our outputs must be the model's default outputs in TF.js.
			p := filepath.Join(root, filepath.FromSlash(spec.File))
			_, info, err := tfjs.Convert(filepath.Dir(p), filepath.Base(p))
			if err != nil {
				t.Fatal(err)
			}
			var ours []string
			for _, o := range info.Outputs {
				ours = append(ours, o.Name)
			}
			if want := slices.Sorted(slices.Values(g.OutputNodes)); !slices.Equal(slices.Sorted(slices.Values(ours)), want) {
				t.Errorf("outputs %v, TF.js outputs %v", ours, g.OutputNodes)
			}
			s, err := tfjs.Load(rt, spec, root, cache)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			cases := goldenCases(t, spec)
			if len(g.Cases) != len(cases) {
				t.Fatalf("golden has %d cases, test has %d (run `make golden`)", len(g.Cases), len(cases))
			}
			worst, worstRatio, largest := 0.0, 0.0, 0.0
			for i, c := range cases {
				gc := g.Cases[i]
				if gc.Case != c.name || gc.InputSHA256 != sha(tensorBytes(c.in)) {
					t.Fatalf("case %s: golden input differs from the test's (%s %s); run `make golden`", c.name, gc.Case, gc.InputSHA256)
				}
				out, err := s.Run(t.Context(), c.in)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != len(gc.Outputs) {
					t.Fatalf("%d outputs, golden has %d", len(out), len(gc.Outputs))
				}
				for j, o := range out {
					want := gc.Outputs[j]
					if fmt.Sprint(o.Shape) != fmt.Sprint(want.Shape) {
						t.Errorf("%s/%s: shape %v, TF.js %v", c.name, want.Name, o.Shape, want.Shape)
						continue
					}
					bad := 0
					for k, w := range want.Values {
						got := float64(o.Data[k*want.Stride])
						worst = max(worst, math.Abs(got-w))
						worstRatio = max(worstRatio, math.Abs(got-w)/max(1e-4, 1e-3*math.Abs(w)))
						largest = max(largest, math.Abs(w))
						if !within(got, w) {
							if bad++; bad <= 3 {
								t.Errorf("%s/%s[%d] = %g, TF.js %g", c.name, want.Name, k*want.Stride, got, w)
							}
						}
					}
					var sum, abs float64
					for _, f := range o.Data {
						sum += float64(f)
						abs += math.Abs(float64(f))
					}
					tol := 1e-4 * float64(len(o.Data))
					if math.Abs(sum-want.Sum) > max(tol, 1e-3*want.AbsSum) || math.Abs(abs-want.AbsSum) > max(tol, 1e-3*want.AbsSum) {
						t.Errorf("%s/%s: sum %g abs %g, TF.js %g %g", c.name, want.Name, sum, abs, want.Sum, want.AbsSum)
					}
				}
			}
			t.Logf("vs TF.js (%s): max abs error %.3g (largest |value| %.3g), worst error/tolerance %.2f", g.TFJS, worst, largest, worstRatio)
			if spec.Name != tfjs.BlazeFaceBack.Name { // the only model with a fixed batch of 1
				checkBatch(t, s, cases)
			}
		})
	}
}

// checkBatch runs the cases as one batch and compares with single runs.
func checkBatch(t *testing.T, s *infer.Session, cases []goldenCase) {
	t.Helper()
	batch := infer.Tensor{Shape: slices.Clone(cases[0].in.Shape)}
	batch.Shape[0] = int64(len(cases))
	var singles [][]infer.Tensor
	for _, c := range cases {
		batch.Data = append(batch.Data, c.in.Data...)
		out, err := s.Run(t.Context(), c.in)
		if err != nil {
			t.Fatal(err)
		}
		singles = append(singles, out)
	}
	out, err := s.Run(t.Context(), batch)
	if err != nil {
		t.Fatalf("batch %d: %v", len(cases), err)
	}
	for j, o := range out {
		if o.Shape[0] != int64(len(cases)) {
			t.Fatalf("batch output %d has shape %v", j, o.Shape)
		}
		per := len(o.Data) / len(cases)
		for i := range cases {
			for k, w := range singles[i][j].Data {
				if got := o.Data[i*per+k]; !within(float64(got), float64(w)) {
					t.Fatalf("batch output %d, item %d [%d] = %g, single run %g", j, i, k, got, w)
				}
			}
		}
	}
}
