// Package quantize builds the int8 models livenessd runs, reproducibly, from
// the pinned float models at `make models` time: it runs the float face
// pipeline over calibration images that every checkout has (the sample
// photos of the model cache, mirrored and at other exposures), records what
// each model is fed, measures the activation ranges on those inputs
// (quant.Calibrate) and writes the QDQ model (quant.Quantize) under the
// cache's int8 directory, keyed on everything that decides its content.
package quantize

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/quant"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/models"
)

// Percentile of the activation values calibration keeps by default: the
// top and bottom 0.01% are clipped, so that a few outliers do not stretch a
// tensor's uint8 steps.
const Percentile = 99.99

// Options adjust a build (experiments; the service's builds use the zero
// value).
type Options struct {
	Percentile float64    // 0: Percentile
	Skip       quant.Skip // nodes left in float
	Force      bool       // rebuild even when the build exists
	// Samples are the calibration photos (cache paths); nil means
	// quant.Samples, the service's. Fewer make a quicker build for tests.
	Samples []string
}

// Specs are the models this package can build, by name.
func Specs() map[string]infer.Spec {
	out := map[string]infer.Spec{}
	for _, s := range append(infer.NativeModels(), tfjs.Models()...) {
		out[s.Name] = s
	}
	return out
}

// Result describes one build.
type Result struct {
	Name    string       `json:"name"`
	File    string       `json:"file"` // cache-relative
	Key     string       `json:"key"`
	Inputs  int          `json:"calibrationInputs"`
	Report  quant.Report `json:"report"`
	Skipped bool         `json:"-"` // already built
}

// Build makes the int8 build of each named model that is not yet in the
// cache (all of them with force) and returns what it did.
func Build(ctx context.Context, rt *infer.Runtime, cache *models.Cache, names []string, opt Options) ([]Result, error) {
	if opt.Percentile == 0 {
		opt.Percentile = Percentile
	}
	if opt.Samples == nil {
		opt.Samples = quant.Samples
	}
	specs := Specs()
	var todo []infer.Spec
	var out []Result
	for _, n := range names {
		spec, ok := specs[n]
		if !ok {
			return nil, fmt.Errorf("quantize: unknown model %q", n)
		}
		key, ok := quant.BuildKey(cache, spec, opt.Samples)
		if !ok {
			return nil, fmt.Errorf("quantize: %s: not pinned by the model manifest", n)
		}
		file := quant.Int8File(n, key)
		if _, err := os.Stat(cache.Path(file)); err == nil && !opt.Force {
			out = append(out, Result{Name: n, File: file, Key: key, Skipped: true})
			continue
		}
		todo = append(todo, spec)
	}
	if len(todo) == 0 {
		return out, nil
	}
	inputs, err := CalibrationInputs(ctx, rt, cache, opt.Samples)
	if err != nil {
		return nil, err
	}
	for _, spec := range todo {
		r, err := build(ctx, rt, cache, spec, inputs[spec.Name], opt)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func build(ctx context.Context, rt *infer.Runtime, cache *models.Cache, spec infer.Spec, inputs []infer.Tensor, opt Options) (Result, error) {
	if len(inputs) == 0 {
		return Result{}, fmt.Errorf("quantize: %s: no calibration inputs", spec.Name)
	}
	src, err := Float(cache, spec)
	if err != nil {
		return Result{}, err
	}
	targets, err := quant.Targets(src, opt.Skip)
	if err != nil {
		return Result{}, fmt.Errorf("quantize: %s: %w", spec.Name, err)
	}
	ranges, err := quant.Calibrate(ctx, rt, src, targets, inputs, opt.Percentile)
	if err != nil {
		return Result{}, fmt.Errorf("quantize: %s: calibrate: %w", spec.Name, err)
	}
	q, rep, err := quant.Quantize(src, ranges, opt.Skip)
	if err != nil {
		return Result{}, fmt.Errorf("quantize: %s: %w", spec.Name, err)
	}
	key, _ := quant.BuildKey(cache, spec, opt.Samples)
	file := quant.Int8File(spec.Name, key)
	if err := infer.WriteModelFile(cache.Path(file), q); err != nil {
		return Result{}, fmt.Errorf("quantize: %s: %w", spec.Name, err)
	}
	r := Result{Name: spec.Name, File: file, Key: key, Inputs: len(inputs), Report: rep}
	meta, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return Result{}, err
	}
	if err := infer.WriteModelFile(strings.TrimSuffix(cache.Path(file), ".onnx")+".json", meta); err != nil {
		return Result{}, err
	}
	return r, nil
}

// Float returns a model's float graph as the service runs it: translated
// (TF.js models) and prepared by the load-time rewrites (infer.Prepare).
func Float(cache *models.Cache, spec infer.Spec) ([]byte, error) {
	var raw []byte
	var err error
	if strings.HasSuffix(spec.File, ".json") {
		p := cache.Path(spec.File)
		raw, _, err = tfjs.ConvertCached("", filepath.Dir(p), filepath.Base(p))
	} else {
		raw, err = os.ReadFile(cache.Path(spec.File))
	}
	if err != nil {
		return nil, fmt.Errorf("quantize: %s: %w", spec.Name, err)
	}
	return infer.Prepare(raw, infer.LoadOptions{})
}

// CalibrationInputs returns, for every model this package can build, the
// tensors it is fed on the calibration images: for the face pipeline's
// models (fr_detect, fr_landmark, fr_feature, fr_liveness) exactly what
// the float pipeline feeds them (whole-image and tiled detector passes,
// landmark crops, aligned faces, liveness crops); for the others a square
// crop around each face found, resized to their input.
func CalibrationInputs(ctx context.Context, rt *infer.Runtime, cache *models.Cache, samples []string) (map[string][]infer.Tensor, error) {
	imgs, err := sampleImages(cache, samples, mirror, func(img image.Image) image.Image { return exposure(img, 0.6) },
		func(img image.Image) image.Image { return exposure(img, 1.4) })
	if err != nil {
		return nil, err
	}
	return modelInputs(ctx, rt, cache, imgs)
}

// HeldOutInputs are inputs the calibration never saw, to compare an int8
// build with its float model: the sample photos rotated by 10 degrees,
// halved in size, and at 0.8 exposure, through the same pipeline.
func HeldOutInputs(ctx context.Context, rt *infer.Runtime, cache *models.Cache, samples []string) (map[string][]infer.Tensor, error) {
	imgs, err := sampleImages(cache, samples, func(img image.Image) image.Image { return rotate(img, 10) },
		func(img image.Image) image.Image { return half(img) }, func(img image.Image) image.Image { return exposure(img, 0.8) })
	if err != nil {
		return nil, err
	}
	// Only the variants: the photos as they are were calibrated on.
	var out []image.Image
	for i, img := range imgs {
		if i%4 != 0 { // each photo, then its three variants
			out = append(out, img)
		}
	}
	return modelInputs(ctx, rt, cache, out)
}

// modelInputs runs the float pipeline over imgs and records each model's inputs.
func modelInputs(ctx context.Context, rt *infer.Runtime, cache *models.Cache, imgs []image.Image) (map[string][]infer.Tensor, error) {
	var err error
	cfg := face.DefaultConfig()
	rec := map[string]*recorder{}
	var loaded []*infer.Session
	defer func() {
		for _, s := range loaded {
			s.Close()
		}
	}()
	load := func(spec infer.Spec) (face.Inferencer, error) {
		s, err := rt.LoadFile(spec, cache.Path(spec.File))
		if err != nil {
			return nil, err
		}
		loaded = append(loaded, s)
		r := &recorder{Inferencer: s}
		rec[spec.Name] = r
		return r, nil
	}
	var m face.Models
	for _, x := range []struct {
		dst  *face.Inferencer
		spec infer.Spec
	}{{&m.Detector, cfg.Detector.Spec}, {&m.Landmarks, cfg.Landmarks.Spec}, {&m.Embedder, cfg.Embedder.Spec}, {&m.Liveness, cfg.Liveness.Spec}} {
		if *x.dst, err = load(x.spec); err != nil {
			return nil, fmt.Errorf("quantize: %w", err)
		}
	}
	// face.New owns nothing here: the sessions are closed by the defer.
	p, err := face.New(m, cfg)
	if err != nil {
		return nil, err
	}
	out := map[string][]infer.Tensor{}
	var faces []crop
	for _, img := range imgs {
		obs, err := p.Analyze(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("quantize: calibration image: %w", err)
		}
		if _, err := p.ObserveFrame(ctx, img); err != nil {
			return nil, fmt.Errorf("quantize: calibration image: %w", err)
		}
		for _, o := range obs {
			faces = append(faces, crop{img, o.Box})
		}
	}
	for name, r := range rec {
		out[name] = r.inputs
	}
	// The models the pipeline does not run (the TF.js face models, fr_pose,
	// fr_eye) see a square crop around each face found.
	for _, spec := range Specs() {
		if _, ok := out[spec.Name]; ok {
			continue
		}
		for _, c := range faces {
			out[spec.Name] = append(out[spec.Name], c.tensor(spec))
		}
	}
	return out, nil
}

// recorder keeps a copy of every input of the model it wraps.
type recorder struct {
	face.Inferencer
	inputs []infer.Tensor
}

func (r *recorder) Run(ctx context.Context, in infer.Tensor) ([]infer.Tensor, error) {
	r.inputs = append(r.inputs, infer.Tensor{Shape: slices.Clone(in.Shape), Data: slices.Clone(in.Data)})
	return r.Inferencer.Run(ctx, in)
}

// Close leaves the session to CalibrationInputs.
func (r *recorder) Close() error { return nil }

// crop is a face found in a calibration image.
type crop struct {
	img image.Image
	box livenessd.Rect
}

// tensor is the square of side 1.2 x the box's larger side around its
// centre, resized bilinearly to spec's input and normalised as spec says.
func (c crop) tensor(spec infer.Spec) infer.Tensor {
	in := spec.Input
	side := 1.2 * max(c.box.W, c.box.H)
	ctr := c.box.Center()
	r := image.Rect(int(ctr.X-side/2), int(ctr.Y-side/2), int(ctr.X+side/2), int(ctr.Y+side/2))
	dst := image.NewRGBA(image.Rect(0, 0, in.Width, in.Height))
	draw.BiLinear.Scale(dst, dst.Bounds(), c.img, r, draw.Src, nil)
	return pixelsTensor(spec, dst)
}

// pixelsTensor lays an RGBA image out as spec's input tensor.
func pixelsTensor(spec infer.Spec, img *image.RGBA) infer.Tensor {
	in := spec.Input
	scale, offset := in.Scale()
	t := infer.NewTensor(spec.InputShape()...)
	ch := int(in.Order.Channels())
	for y := range in.Height {
		for x := range in.Width {
			p := img.Pix[y*img.Stride+4*x:]
			rgb := [3]float32{float32(p[0]), float32(p[1]), float32(p[2])}
			var px []float32
			switch in.Order {
			case infer.BGR:
				px = []float32{rgb[2], rgb[1], rgb[0]}
			case infer.Gray:
				px = []float32{0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2]}
			default:
				px = rgb[:]
			}
			for k, v := range px {
				i := (k*in.Height+y)*in.Width + x
				if in.Layout == infer.NHWC {
					i = (y*in.Width+x)*ch + k
				}
				t.Data[i] = v*scale[k] + offset[k]
			}
		}
	}
	return t
}

// sampleImages are the sample photos, each as is and through every variant.
func sampleImages(cache *models.Cache, samples []string, variants ...func(image.Image) image.Image) ([]image.Image, error) {
	var out []image.Image
	for _, s := range samples {
		f, err := os.Open(cache.Path(s))
		if err != nil {
			return nil, fmt.Errorf("quantize: %w", err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("quantize: %s: %w", s, err)
		}
		out = append(out, img)
		for _, v := range variants {
			out = append(out, v(img))
		}
	}
	return out, nil
}

// rotate turns img by deg degrees about its centre (bilinear, black corners).
func rotate(img image.Image, deg float64) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	sin, cos := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	m := f64.Aff3{cos, -sin, cx - cos*cx + sin*cy, sin, cos, cy - sin*cx - cos*cy}
	draw.BiLinear.Transform(out, m, img, b, draw.Src, nil)
	return out
}

// half scales img to half its size.
func half(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	draw.BiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

func mirror(img image.Image) image.Image {
	src := toRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		row, dst := src.Pix[y*src.Stride:], out.Pix[y*out.Stride:]
		for x := range w {
			copy(dst[4*(w-1-x):4*(w-x)], row[4*x:4*x+4])
		}
	}
	return out
}

func exposure(img image.Image, gain float64) image.Image {
	out := toRGBA(img)
	var lut [256]uint8
	for i := range lut {
		lut[i] = uint8(min(255, float64(i)*gain+0.5))
	}
	for i, v := range out.Pix {
		if i%4 != 3 {
			out.Pix[i] = lut[v]
		}
	}
	return out
}

// toRGBA returns a copy of img as RGBA at the origin.
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}
