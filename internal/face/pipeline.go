// Package face finds faces and measures them: detection (multi-scale,
// tiled), 68 landmarks, 5-point alignment, identity embedding, passive
// anti-spoofing, and the calibrated 0-100 similarity of two faces.
//
// Pre- and post-processing (prior boxes, NMS, similarity transforms,
// warping, calibration) is pure Go; the models run behind the Inferencer
// interface, so everything but the model calls is testable without ONNX
// Runtime.
package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/quant"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/models"
)

// Inferencer runs one model. *infer.Session implements it.
type Inferencer interface {
	Run(ctx context.Context, in infer.Tensor) ([]infer.Tensor, error)
	Spec() infer.Spec
	Close() error
}

var (
	_ Inferencer        = (*infer.Session)(nil)
	_ liveness.Observer = (*Pipeline)(nil)
)

// Models are the loaded models a pipeline runs. Liveness and Mesh may be
// nil, and so may Fused when Config.Fusion is disabled.
type Models struct {
	Detector, Landmarks, Embedder, Liveness, Mesh Inferencer
	// Fused is the second identity model of Config.Fusion.
	Fused Inferencer
}

// Pipeline analyses images with a fixed set of loaded models. It is safe
// for concurrent use; the models bound their own concurrency.
type Pipeline struct {
	cfg  Config
	m    Models
	det  *detector
	mesh *MeshEstimator // nil without a mesh model
	once sync.Once
	cerr error
}

// TranslatedDir is where, under the model cache, TF.js graph models are
// kept after translation to ONNX.
const TranslatedDir = "onnx"

// NewPipeline loads the configured models once from the cache (a Spec.File
// that is absolute is used as is; a .json file is a TF.js graph model,
// translated by internal/infer/tfjs) and returns a pipeline. Errors wrap
// livenessd.ErrModels when a model cannot be loaded.
func NewPipeline(rt *infer.Runtime, cache *models.Cache, cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var m Models
	var loaded []Inferencer
	load := func(spec infer.Spec) (Inferencer, error) {
		var s *infer.Session
		var err error
		if q, ok := quant.Int8Path(cache, spec); ok {
			// The int8 build `make models` made of a model the service
			// adopted (internal/infer/quant: Adopted, CPUHasInt8Dot).
			s, err = rt.LoadFile(spec, q)
		} else if strings.HasSuffix(spec.File, ".json") {
			// A TF.js graph model: translated to ONNX, cached beside the models.
			dir := cache.Dir
			if filepath.IsAbs(spec.File) {
				dir = ""
			}
			s, err = tfjs.Load(rt, spec, dir, cache.Path(TranslatedDir))
		} else {
			path := spec.File
			if !filepath.IsAbs(path) {
				path = cache.Path(path)
			}
			s, err = rt.LoadFile(spec, path)
		}
		if err != nil {
			return nil, fmt.Errorf("face: load %s: %w: %w", spec.Name, livenessd.ErrModels, err)
		}
		loaded = append(loaded, s)
		return s, nil
	}
	var err error
	if m.Detector, err = load(cfg.Detector.Spec); err == nil {
		if m.Landmarks, err = load(cfg.Landmarks.Spec); err == nil {
			if m.Embedder, err = load(cfg.Embedder.Spec); err == nil && !cfg.Liveness.Disabled {
				m.Liveness, err = load(cfg.Liveness.Spec)
			}
			if err == nil && !cfg.Fusion.Disabled {
				m.Fused, err = load(cfg.Fusion.Spec)
			}
			if err == nil && !cfg.Mesh.Disabled {
				m.Mesh, err = load(cfg.Mesh.Spec)
			}
		}
	}
	if err != nil {
		for _, s := range loaded {
			err = errors.Join(err, s.Close())
		}
		return nil, err
	}
	p, err := New(m, cfg)
	if err != nil {
		for _, s := range loaded {
			err = errors.Join(err, s.Close())
		}
		return nil, err
	}
	return p, nil
}

// New builds a pipeline on already-loaded models (tests, custom runtimes).
// The pipeline owns them: Close closes them.
func New(m Models, cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if m.Detector == nil || m.Landmarks == nil || m.Embedder == nil {
		return nil, fmt.Errorf("face: detector, landmark and embedder models are required")
	}
	if cfg.Liveness.Disabled {
		m.Liveness = nil
	}
	if cfg.Fusion.Disabled {
		m.Fused = nil
	} else if m.Fused == nil {
		return nil, fmt.Errorf("face: the fusion model %q is required (or disable Config.Fusion)", cfg.Fusion.Spec.Name)
	}
	if cfg.Mesh.Disabled {
		m.Mesh = nil
	}
	det, err := newDetector(cfg.Detector, m.Detector)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, m: m, det: det}
	if m.Mesh != nil {
		if p.mesh, err = NewMeshEstimator(m.Mesh, cfg.Mesh); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Config returns a copy of the pipeline's configuration.
func (p *Pipeline) Config() Config {
	c := p.cfg
	c.Calibration.Knots = slices.Clone(c.Calibration.Knots)
	return c
}

// Close releases the models. It is idempotent.
func (p *Pipeline) Close() error {
	p.once.Do(func() {
		for _, m := range []Inferencer{p.m.Detector, p.m.Landmarks, p.m.Embedder, p.m.Liveness, p.m.Mesh, p.m.Fused} {
			if m != nil {
				p.cerr = errors.Join(p.cerr, m.Close())
			}
		}
	})
	return p.cerr
}

// what selects the measurements describe makes; fused adds the fusion
// model to the embedding (comparisons only).
type what struct {
	embed, live, mesh, fused bool
}

// Analyze finds every face in img, searching finer scales in tiles so that
// faces down to DetectorConfig.MinFace are found, and measures each: box,
// score, keypoints, 68 landmarks, pose, quality and embedding. Faces are
// ordered by decreasing box area. No face is not an error: the slice is
// empty.
func (p *Pipeline) Analyze(ctx context.Context, img image.Image) ([]livenessd.FaceObservation, error) {
	return p.run(ctx, img, true, what{embed: true})
}

// ObserveFrame is the fast path for video frames (liveness.Observer): a
// single detector pass without tiling, every face measured including
// LiveScore from the anti-spoofing model and the dense Mesh.
func (p *Pipeline) ObserveFrame(ctx context.Context, img image.Image) ([]livenessd.FaceObservation, error) {
	return p.run(ctx, img, false, what{embed: true, live: p.m.Liveness != nil, mesh: p.mesh != nil})
}

func (p *Pipeline) run(ctx context.Context, img image.Image, tiles bool, w what) ([]livenessd.FaceObservation, error) {
	if img == nil || img.Bounds().Empty() {
		return nil, fmt.Errorf("face: empty image: %w", livenessd.ErrInvalidImage)
	}
	pyr := newPyramid(img)
	mode := searchSingle
	if tiles {
		mode = searchAll
	}
	dets, err := p.det.detect(ctx, pyr, mode)
	if err != nil {
		return nil, err
	}
	sortByArea(dets)
	obs := make([]livenessd.FaceObservation, 0, len(dets))
	for _, d := range dets {
		o, err := p.describe(ctx, img, pyr, d, w)
		if err != nil {
			return nil, err
		}
		obs = append(obs, o)
	}
	return obs, nil
}

// sortByArea orders detections largest first (stable, so equal areas keep
// score order).
func sortByArea(d []detection) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j].Box.Area() > d[j-1].Box.Area(); j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// describe measures one detected face.
func (p *Pipeline) describe(ctx context.Context, img image.Image, pyr *pyramid, d detection, w what) (livenessd.FaceObservation, error) {
	o := livenessd.FaceObservation{Box: d.Box, Score: d.Score}
	lm, err := p.landmarks(ctx, pyr, d.Box)
	if err != nil {
		return o, err
	}
	o.Landmarks = lm
	o.Keypoints = fivePoints(lm)
	p.measure(img, &o)
	if w.embed {
		if o.Embedding, err = p.embed(ctx, pyr, o.Keypoints); err != nil {
			return o, err
		}
		if w.fused && p.m.Fused != nil {
			e2, err := p.fusedEmbedding(ctx, pyr, lm)
			if err != nil {
				return o, err
			}
			o.Embedding = fuse(o.Embedding, e2, p.cfg.Fusion.Weight)
		}
	}
	if w.live {
		if o.LiveScore, err = p.liveScore(ctx, pyr, d.Box); err != nil {
			return o, err
		}
	}
	if w.mesh {
		m, err := p.mesh.estimateIn(ctx, pyr, d.Box, o.Landmarks)
		if err != nil {
			return o, err
		}
		o.Mesh = m.Points
	}
	return o, nil
}

// landmarks runs the 68-point model on the square crop around box.
func (p *Pipeline) landmarks(ctx context.Context, pyr *pyramid, box livenessd.Rect) ([]livenessd.Point, error) {
	in := p.cfg.Landmarks.Spec.Input
	side := p.cfg.Landmarks.CropScale * math.Max(box.W, box.H)
	c := box.Center()
	x0, y0 := c.X-side/2, c.Y-side/2
	m := affine{A: side / float64(in.Width), C: x0, E: side / float64(in.Height), F: y0}
	data := sample(pyr, m, in, in.Width, in.Height, borderReplicate, nil)
	out, err := p.m.Landmarks.Run(ctx, inputTensor(in, in.Width, in.Height, data))
	if err != nil {
		return nil, fmt.Errorf("face: landmarks: %w", err)
	}
	if len(out) == 0 || len(out[0].Data) != 136 {
		return nil, fmt.Errorf("face: landmarks: want 136 values")
	}
	v := out[0].Data
	pts := make([]livenessd.Point, 68)
	for i := range pts {
		pts[i] = livenessd.Point{X: x0 + float64(v[2*i])*side, Y: y0 + float64(v[2*i+1])*side}
	}
	return pts, nil
}

// embed aligns the face on the template and returns the L2-normalised embedding.
func (p *Pipeline) embed(ctx context.Context, pyr *pyramid, kp []livenessd.Point) ([]float32, error) {
	in := p.cfg.Embedder.Spec.Input
	m, _, err := alignMap(kp, p.cfg.Embedder.Template, in.Width, in.Height)
	if err != nil {
		return nil, fmt.Errorf("face: align: %w", err)
	}
	return runEmbedder(ctx, p.m.Embedder, pyr, m, in, p.cfg.Embedder.Output)
}

// fusedEmbedding is the fusion model's L2-normalised embedding of dlib's
// face chip.
func (p *Pipeline) fusedEmbedding(ctx context.Context, pyr *pyramid, lm []livenessd.Point) ([]float32, error) {
	in := p.cfg.Fusion.Spec.Input
	m, err := dlibChipMap(lm, in.Width)
	if err != nil {
		return nil, fmt.Errorf("face: align: %w", err)
	}
	return runEmbedder(ctx, p.m.Fused, pyr, m, in, p.cfg.Fusion.Output)
}

// runEmbedder samples the crop m maps, runs model and returns its output k
// L2-normalised.
func runEmbedder(ctx context.Context, model Inferencer, pyr *pyramid, m affine, in infer.ImageInput, k int) ([]float32, error) {
	data := sample(pyr, m, in, in.Width, in.Height, borderConstant, nil)
	out, err := model.Run(ctx, inputTensor(in, in.Width, in.Height, data))
	if err != nil {
		return nil, fmt.Errorf("face: embed: %w", err)
	}
	if k >= len(out) || len(out[k].Data) == 0 {
		return nil, fmt.Errorf("face: embed: no output %d", k)
	}
	e := out[k].Data
	if !normalize(e) {
		return nil, fmt.Errorf("face: embed: zero or non-finite embedding")
	}
	return e, nil
}

// fuse appends two unit embeddings scaled so that the cosine of two fused
// vectors is (1-w)*cosine(a) + w*cosine(b); the result has unit length.
func fuse(a, b []float32, w float64) []float32 {
	out := make([]float32, 0, len(a)+len(b))
	sa, sb := float32(math.Sqrt(1-w)), float32(math.Sqrt(w))
	for _, x := range a {
		out = append(out, sa*x)
	}
	for _, x := range b {
		out = append(out, sb*x)
	}
	return out
}

// livenessCrop is the square crop the passive anti-spoofing model sees:
// side scale*box width around the box centre. It is never shrunk to fit
// the image: pixels beyond the frame repeat its edge. A crop that shrinks
// when the face fills the frame (MiniFASNet's training recipe, and this
// pipeline's before) shows the model a tighter view of a near face than of
// a far one, and soft live faces then look like recaptures; the detector's
// box height also varies with hair and forehead far more than its width.
// Measured on NUAA, the real video clips, the Silent-Face samples and
// simulated captures (docs/ACCURACY.md, "Passive texture").
func livenessCrop(box livenessd.Rect, scale float64) livenessd.Rect {
	side := box.W * scale
	if side <= 0 {
		return livenessd.Rect{}
	}
	c := box.Center()
	return livenessd.Rect{X: c.X - side/2, Y: c.Y - side/2, W: side, H: side}
}

// liveScore is the anti-spoofing model's live probability.
func (p *Pipeline) liveScore(ctx context.Context, pyr *pyramid, box livenessd.Rect) (float64, error) {
	cfg := p.cfg.Liveness
	in := cfg.Spec.Input
	r := livenessCrop(box, cfg.CropScale)
	if r.W <= 0 {
		return 0, nil
	}
	m := affine{A: r.W / float64(in.Width), C: r.X, E: r.H / float64(in.Height), F: r.Y}
	data := sample(pyr, m, in, in.Width, in.Height, borderReplicate, nil)
	smoothChroma(data, in, in.Width, in.Height, cfg.ChromaSigma)
	out, err := p.m.Liveness.Run(ctx, inputTensor(in, in.Width, in.Height, data))
	if err != nil {
		return 0, fmt.Errorf("face: liveness: %w", err)
	}
	if len(out) == 0 || cfg.LiveIndex >= len(out[0].Data) {
		return 0, fmt.Errorf("face: liveness: output has no class %d", cfg.LiveIndex)
	}
	return softmax(out[0].Data)[cfg.LiveIndex], nil
}

func softmax(v []float32) []float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, float64(x))
	}
	out := make([]float64, len(v))
	var s float64
	for i, x := range v {
		out[i] = math.Exp(float64(x) - mx)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}
