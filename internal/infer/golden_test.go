package infer_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/image/draw"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden/native from the current outputs")

// Regions of the sample photos (real group photos), in source pixels.
var (
	sample1Face = image.Rect(370, 320, 650, 600) // one face, tight
	sample1Eye  = image.Rect(400, 415, 480, 495) // that face's right eye
)

type nativeCase struct {
	sample int
	crop   image.Rectangle // empty: the whole photo
}

// nativeCases says what each native model sees: the detector whole photos,
// the others one face (the eye model one eye).
func nativeCases(spec infer.Spec) []nativeCase {
	switch spec.Name {
	case infer.FRDetect.Name:
		return []nativeCase{{sample: 1}, {sample: 2}}
	case infer.FREye.Name:
		return []nativeCase{{1, sample1Eye}}
	}
	return []nativeCase{{1, sample1Face}}
}

// specTensor is the preprocessing the spec describes: bilinear resize to the
// input size, colour order, (pixel - mean) / std, layout.
func specTensor(spec infer.Spec, img image.Image, crop image.Rectangle) infer.Tensor {
	in := spec.Input
	if crop.Empty() {
		crop = img.Bounds()
	}
	dst := image.NewRGBA(image.Rect(0, 0, in.Width, in.Height))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	scale, offset := in.Scale()
	t := infer.NewTensor(spec.InputShape()...)
	C := int(in.Order.Channels())
	for y := range in.Height {
		for x := range in.Width {
			p := dst.Pix[y*dst.Stride+4*x:]
			r, g, b := float32(p[0]), float32(p[1]), float32(p[2])
			var px []float32
			switch in.Order {
			case infer.RGB:
				px = []float32{r, g, b}
			case infer.BGR:
				px = []float32{b, g, r}
			default:
				px = []float32{0.299*r + 0.587*g + 0.114*b}
			}
			for c, v := range px {
				i := (c*in.Height+y)*in.Width + x
				if in.Layout == infer.NHWC {
					i = (y*in.Width+x)*C + c
				}
				t.Data[i] = v*scale[c] + offset[c]
			}
		}
	}
	return t
}

type goldenOutput struct {
	Name   string    `json:"name"`
	Shape  []int64   `json:"shape"`
	Sum    float64   `json:"sum"`
	AbsSum float64   `json:"absSum"`
	Stride int       `json:"stride"`
	Values []float32 `json:"values"`
}

type goldenCase struct {
	Sample      int            `json:"sample"`
	Crop        string         `json:"crop"`
	InputSHA256 string         `json:"inputSha256"`
	Outputs     []goldenOutput `json:"outputs"`
}

func summarise(name string, t infer.Tensor) goldenOutput {
	stride := max(1, (len(t.Data)+511)/512)
	o := goldenOutput{Name: name, Shape: t.Shape, Stride: stride}
	for i, f := range t.Data {
		o.Sum += float64(f)
		o.AbsSum += math.Abs(float64(f))
		if i%stride == 0 {
			o.Values = append(o.Values, f)
		}
	}
	return o
}

func inputSHA(t infer.Tensor) string {
	b := make([]byte, 4*len(t.Data))
	for i, f := range t.Data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestGolden_NativeModels runs each native model on inputs made from the
// sample photos by the spec's preprocessing and compares with committed
// outputs, so a changed mean/std/colour order/layout, a changed model file
// or a change in denormal handling shows up. Regenerate deliberately with
// go test ./internal/infer -run Golden -update
func TestGolden_NativeModels(t *testing.T) {
	sessions := loadAll(t)
	images := map[int]image.Image{}
	for _, spec := range infer.NativeModels() {
		t.Run(spec.Name, func(t *testing.T) {
			var got []goldenCase
			for _, c := range nativeCases(spec) {
				if images[c.sample] == nil {
					images[c.sample] = testutil.DecodeSample(t, c.sample)
				}
				in := specTensor(spec, images[c.sample], c.crop)
				out, err := sessions[spec.Name].Run(t.Context(), in)
				if err != nil {
					t.Fatal(err)
				}
				gc := goldenCase{Sample: c.sample, Crop: fmt.Sprint(c.crop), InputSHA256: inputSHA(in)}
				for i, o := range out {
					gc.Outputs = append(gc.Outputs, summarise(spec.Outputs[i].Name, o))
				}
				got = append(got, gc)
			}
			path := filepath.Join("testdata", "golden", "native", spec.Name+".json")
			if *updateGolden {
				b, err := json.MarshalIndent(got, "", " ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (generate with: go test ./internal/infer -run Golden -update)", err)
			}
			var want []goldenCase
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if len(want) != len(got) {
				t.Fatalf("%d cases, golden has %d", len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if g.InputSHA256 != w.InputSHA256 {
					t.Errorf("sample %d %s: preprocessed input changed (sha256 %s, golden %s)", g.Sample, g.Crop, g.InputSHA256, w.InputSHA256)
				}
				compareOutputs(t, fmt.Sprintf("sample%d", g.Sample), g.Outputs, w.Outputs)
			}
		})
	}
}

// compareOutputs allows 1e-4 absolute (1e-3 relative for large values): ORT
// builds and thread counts may reorder float sums, preprocessing changes move
// outputs far more.
func compareOutputs(t *testing.T, what string, got, want []goldenOutput) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, golden has %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !slices.Equal(g.Shape, w.Shape) || len(g.Values) != len(w.Values) {
			t.Errorf("%s/%s: shape %v, golden %v", what, g.Name, g.Shape, w.Shape)
			continue
		}
		bad := 0
		for k := range g.Values {
			a, b := float64(g.Values[k]), float64(w.Values[k])
			if math.Abs(a-b) > max(1e-4, 1e-3*math.Abs(b)) {
				if bad++; bad <= 3 {
					t.Errorf("%s/%s[%d] = %g, golden %g", what, g.Name, k*g.Stride, a, b)
				}
			}
		}
		n := 1.0
		for _, d := range g.Shape {
			n *= float64(d)
		}
		tol := max(1e-4*n, 1e-3*w.AbsSum)
		if math.Abs(g.Sum-w.Sum) > tol || math.Abs(g.AbsSum-w.AbsSum) > tol {
			t.Errorf("%s/%s: sum %g abs %g, golden %g %g", what, g.Name, g.Sum, g.AbsSum, w.Sum, w.AbsSum)
		}
	}
}

// TestFlushDenormals_OutputsUnchanged proves that flushing subnormal weights
// (done at every load) does not change what the models compute.
func TestFlushDenormals_OutputsUnchanged(t *testing.T) {
	rt := testutil.Runtime(t)
	c := testutil.Cache(t)
	img := testutil.DecodeSample(t, 1)
	for _, spec := range []infer.Spec{infer.FRFeature, infer.FRLandmark} {
		t.Run(spec.Name, func(t *testing.T) {
			raw, err := os.ReadFile(c.Path(spec.File))
			if err != nil {
				t.Fatal(err)
			}
			n, err := infer.CountDenormals(raw)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatalf("%s has no denormal weights; the test proves nothing", spec.Name)
			}
			flushed, err := rt.Load(spec, raw)
			if err != nil {
				t.Fatal(err)
			}
			defer flushed.Close()
			kept, err := rt.LoadWith(spec, raw, infer.LoadOptions{KeepDenormals: true})
			if err != nil {
				t.Fatal(err)
			}
			defer kept.Close()
			for _, in := range []infer.Tensor{specTensor(spec, img, sample1Face), randomInput(spec, 11)} {
				a, err := flushed.Run(t.Context(), in)
				if err != nil {
					t.Fatal(err)
				}
				b, err := kept.Run(t.Context(), in)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for i := range a {
					for k := range a[i].Data {
						worst = max(worst, math.Abs(float64(a[i].Data[k]-b[i].Data[k])))
					}
				}
				if worst > 1e-6 {
					t.Errorf("flushing %d denormals changed outputs by up to %g", n, worst)
				}
				t.Logf("%d denormal weights flushed; max output difference %g", n, worst)
			}
		})
	}
}
