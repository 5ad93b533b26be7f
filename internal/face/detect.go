package face

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/infer"
)

// Box output formats of a detector.
const (
	// BoxCorners: scores [1,N,2] (background, face; already softmaxed) and
	// boxes [1,N,4] as x1,y1,x2,y2 in 0..1 of the input. The Ultra-Light
	// RFB-320 graph shipped by faceplugin decodes its priors itself and
	// outputs this (measured: boxes within [-0.22, 1.24], scores summing to 1).
	BoxCorners = "corners"
	// BoxSSD: scores [1,N,2] as logits or probabilities and boxes [1,N,4]
	// as SSD offsets from the priors described by MinSizes/Steps/Variances.
	BoxSSD = "ssd"
	// BoxBlaze: MediaPipe BlazeFace rows of (score logit, cx, cy, w, h, 6
	// keypoints) in input pixels relative to anchor centres laid out by
	// AnchorStrides/AnchorsPerCell. Either one [1,N,17] output
	// (BlazeOutput picks it) or four outputs (scores and regressors of two
	// feature maps), assembled as MediaPipe does: larger map first.
	BoxBlaze = "blazeface"
)

// DetectorConfig describes a face detector in data.
type DetectorConfig struct {
	Spec      infer.Spec
	BoxFormat string // BoxCorners or BoxSSD
	// Prior boxes (BoxSSD only): per feature map, the anchor sizes in input
	// pixels and the stride; variances of centre and size offsets.
	MinSizes  [][]float64
	Steps     []float64
	Variances [2]float64
	// SoftmaxScores applies a softmax to each score pair (BoxSSD graphs that
	// output logits).
	SoftmaxScores bool
	// Anchors (BoxBlaze only): stride of each feature map and anchors per
	// cell; BlazeOutput is the index of the [1,N,17] output.
	AnchorStrides  []int
	AnchorsPerCell []int
	BlazeOutput    int

	ScoreThreshold float64 // keep detections at or above this face probability
	// TileScoreThreshold applies to detections of the finer, tiled scales,
	// where magnified texture (necklaces, folds) produces confident false
	// faces more often (measured on the sample photos).
	TileScoreThreshold float64
	IoUThreshold       float64 // non-maximum suppression overlap
	// MinFace is the smallest face side, in source pixels, that the
	// multi-scale search must find; MinFaceFraction raises it for large
	// images (fraction of the longer side). AWS CompareFaces promises 40 px in
	// 1920x1080, i.e. 40 and 40/1920.
	MinFace         float64
	MinFaceFraction float64
	// DetectSize is the face side, in detector input pixels, above which the
	// detector is reliable; finer scales are searched by tiling until MinFace
	// maps to at least this.
	DetectSize float64
	// TileOverlap is the overlap of neighbouring tiles in input pixels; faces
	// up to this size are wholly inside some tile. MaxTiles bounds the work.
	TileOverlap int
	MaxTiles    int
}

// DefaultDetector is fr_detect (Ultra-Light RFB-320) with the settings
// measured in docs/ACCURACY.md.
func DefaultDetector() DetectorConfig {
	return DetectorConfig{
		Spec:               infer.FRDetect.Clone(),
		BoxFormat:          BoxCorners,
		MinSizes:           [][]float64{{10, 16, 24}, {32, 48}, {64, 96}, {128, 192, 256}},
		Steps:              []float64{8, 16, 32, 64},
		Variances:          [2]float64{0.1, 0.2},
		ScoreThreshold:     0.7,
		TileScoreThreshold: 0.95,
		IoUThreshold:       0.4,
		MinFace:            40,
		MinFaceFraction:    40.0 / 1920,
		DetectSize:         20,
		TileOverlap:        96,
		MaxTiles:           40,
	}
}

// prior is an anchor box, centre and size in 0..1 of the input.
type prior struct{ CX, CY, W, H float64 }

// priors lays out the anchors of an SSD-style detector on a w x h input:
// feature map k has ceil(w/step) x ceil(h/step) cells, row-major, each with
// one anchor per min size (the Ultra-Light-Fast-Generic-Face-Detector order).
func priors(w, h int, minSizes [][]float64, steps []float64) []prior {
	var out []prior
	for k, step := range steps {
		fw, fh := int(math.Ceil(float64(w)/step)), int(math.Ceil(float64(h)/step))
		for j := range fh {
			for i := range fw {
				cx := (float64(i) + 0.5) * step / float64(w)
				cy := (float64(j) + 0.5) * step / float64(h)
				for _, m := range minSizes[k] {
					out = append(out, prior{cx, cy, m / float64(w), m / float64(h)})
				}
			}
		}
	}
	return out
}

// decodeSSD turns SSD offsets into corner boxes in 0..1 of the input.
func decodeSSD(loc [4]float64, p prior, v [2]float64) [4]float64 {
	cx := p.CX + loc[0]*v[0]*p.W
	cy := p.CY + loc[1]*v[0]*p.H
	w := p.W * math.Exp(loc[2]*v[1])
	h := p.H * math.Exp(loc[3]*v[1])
	return [4]float64{cx - w/2, cy - h/2, cx + w/2, cy + h/2}
}

// encodeSSD is decodeSSD's inverse (tests and documentation).
func encodeSSD(box [4]float64, p prior, v [2]float64) [4]float64 {
	cx, cy := (box[0]+box[2])/2, (box[1]+box[3])/2
	w, h := box[2]-box[0], box[3]-box[1]
	return [4]float64{(cx - p.CX) / (v[0] * p.W), (cy - p.CY) / (v[0] * p.H), math.Log(w/p.W) / v[1], math.Log(h/p.H) / v[1]}
}

// detection is one face box in source pixels.
type detection struct {
	Box   livenessd.Rect
	Score float64
}

// pass is one detector run: the source region at Region.X,Y is scaled by
// Scale (input pixels per source pixel) into the top-left of the input.
// Tile passes drop boxes that touch a tile edge inside the image, since a
// neighbouring tile sees that face whole.
type pass struct {
	Region livenessd.Rect
	Scale  float64
	Tile   bool
	// Coarser is the scale of the previous level: a tile keeps only faces
	// too small to be reliable there (below 1.5*DetectSize), so that texture
	// which looks face-like only when magnified does not add false faces.
	Coarser float64
}

// planPasses lays out the whole-image pass and, when the smallest face to
// find is below the detector's reliable size at that scale, tiled passes at
// finer scales (each at most 3x finer than the previous, so every face size
// is reliable at some scale and fits a tile at the finer one).
func planPasses(w, h int, cfg DetectorConfig, tiles bool) []pass {
	iw, ih := float64(cfg.Spec.Input.Width), float64(cfg.Spec.Input.Height)
	W, H := float64(w), float64(h)
	s0 := math.Min(iw/W, ih/H)
	passes := []pass{{Region: livenessd.Rect{W: W, H: H}, Scale: s0}}
	if !tiles {
		return passes
	}
	minFace := math.Max(cfg.MinFace, cfg.MinFaceFraction*math.Max(W, H))
	want := math.Min(cfg.DetectSize/minFace, 1) // never upsample past 1:1
	if want <= s0*1.25 {
		return passes
	}
	n := int(math.Ceil(math.Log(want/s0) / math.Log(3)))
	r := math.Pow(want/s0, 1/float64(n))
	ov := float64(cfg.TileOverlap)
	budget := cfg.MaxTiles
	prev := s0
	for i := 1; i <= n; i++ {
		s := s0 * math.Pow(r, float64(i))
		sw, sh := W*s, H*s
		xs := tileStarts(sw, iw, iw-ov)
		ys := tileStarts(sh, ih, ih-ov)
		if len(xs)*len(ys) > budget {
			break
		}
		budget -= len(xs) * len(ys)
		for _, y := range ys {
			for _, x := range xs {
				passes = append(passes, pass{
					Region: livenessd.Rect{X: x / s, Y: y / s, W: math.Min(iw, sw-x) / s, H: math.Min(ih, sh-y) / s},
					Scale:  s, Tile: true, Coarser: prev,
				})
			}
		}
		prev = s
	}
	return passes
}

// tileStarts spreads tiles of size tile over length n with at most stride
// between starts; the last tile ends at n.
func tileStarts(n, tile, stride float64) []float64 {
	if n <= tile {
		return []float64{0}
	}
	k := int(math.Ceil((n - tile) / stride))
	out := make([]float64, k+1)
	for i := range out {
		out[i] = math.Round((n - tile) * float64(i) / float64(k))
	}
	return out
}

// detector runs a DetectorConfig's model.
type detector struct {
	cfg     DetectorConfig
	model   Inferencer
	priors  []prior      // BoxSSD only
	anchors [][2]float64 // BoxBlaze only
}

func newDetector(cfg DetectorConfig, m Inferencer) (*detector, error) {
	d := &detector{cfg: cfg, model: m}
	switch cfg.BoxFormat {
	case BoxCorners, "":
	case BoxSSD:
		if len(cfg.MinSizes) != len(cfg.Steps) {
			return nil, fmt.Errorf("face: detector %s: %d min-size groups for %d steps", cfg.Spec.Name, len(cfg.MinSizes), len(cfg.Steps))
		}
		d.priors = priors(cfg.Spec.Input.Width, cfg.Spec.Input.Height, cfg.MinSizes, cfg.Steps)
	case BoxBlaze:
		if len(cfg.AnchorStrides) == 0 || len(cfg.AnchorStrides) != len(cfg.AnchorsPerCell) || cfg.Spec.Input.Width != cfg.Spec.Input.Height {
			return nil, fmt.Errorf("face: detector %s: blazeface needs a square input and one anchor count per stride", cfg.Spec.Name)
		}
		for i, st := range cfg.AnchorStrides {
			if st <= 0 || cfg.AnchorsPerCell[i] <= 0 {
				return nil, fmt.Errorf("face: detector %s: stride %d, %d anchors per cell", cfg.Spec.Name, st, cfg.AnchorsPerCell[i])
			}
		}
		d.anchors = blazeAnchors(cfg.Spec.Input.Width, cfg.AnchorStrides, cfg.AnchorsPerCell)
	default:
		return nil, fmt.Errorf("face: detector %s: unknown box format %q", cfg.Spec.Name, cfg.BoxFormat)
	}
	return d, nil
}

// blazeAnchors are MediaPipe's anchor centres in input pixels: per stride,
// a row-major grid with n anchors per cell (all of unit size, so only
// centres matter).
func blazeAnchors(size int, strides, perCell []int) [][2]float64 {
	var out [][2]float64
	for i, st := range strides {
		g := (size + st - 1) / st
		for y := range g {
			for x := range g {
				for range perCell[i] {
					out = append(out, [2]float64{float64(st) * (float64(x) + 0.5), float64(st) * (float64(y) + 0.5)})
				}
			}
		}
	}
	return out
}

// blazeRows assembles BlazeFace outputs into rows of 17 values.
func (d *detector) blazeRows(out []infer.Tensor) ([]float32, error) {
	if len(out) == 4 {
		// Two maps, each as scores [1,n,1] and regressors [1,n,16]:
		// order by size, then larger map first.
		idx := []int{0, 1, 2, 3}
		slices.SortFunc(idx, func(a, b int) int { return len(out[a].Data) - len(out[b].Data) })
		s384, s512, r384, r512 := out[idx[0]].Data, out[idx[1]].Data, out[idx[2]].Data, out[idx[3]].Data
		if len(r384) != 16*len(s384) || len(r512) != 16*len(s512) {
			return nil, fmt.Errorf("face: detect: blazeface outputs do not pair")
		}
		rows := make([]float32, 0, 17*(len(s384)+len(s512)))
		for _, m := range [][2][]float32{{s512, r512}, {s384, r384}} {
			for i := range m[0] {
				rows = append(rows, m[0][i])
				rows = append(rows, m[1][16*i:16*i+16]...)
			}
		}
		return rows, nil
	}
	k := d.cfg.BlazeOutput
	if k >= len(out) || len(out[k].Data)%17 != 0 {
		return nil, fmt.Errorf("face: detect: blazeface output %d is not rows of 17", k)
	}
	return out[k].Data, nil
}

// search says how far the detector looks for faces.
type search int

const (
	// searchSingle runs the whole-image pass only (video frames).
	searchSingle search = iota
	// searchAll adds the tiled passes for faces down to MinFace.
	searchAll
	// searchLargest runs the whole-image pass and adds the tiled passes only
	// when they could find a larger face than it found: every tile
	// detection is smaller than tileLimit, so a whole-image face of at
	// least that area stands whatever the tiles find.
	searchLargest
)

// tileLimit is the area, in source pixels, below which every face kept by
// a tiled pass lies: decodeBoxes drops tile faces whose longer side is at
// least 1.5*DetectSize at the coarser scale, and the coarsest one is the
// whole-image scale s0.
func tileLimit(s0 float64, cfg DetectorConfig) float64 {
	side := 1.5 * cfg.DetectSize / s0
	return side * side
}

// detect runs the planned passes and merges their boxes.
func (d *detector) detect(ctx context.Context, p *pyramid, mode search) ([]detection, error) {
	w, h := p.size()
	var all []detection
	var buf []float32
	in := d.cfg.Spec.Input
	passes := planPasses(w, h, d.cfg, mode != searchSingle)
	for i, ps := range passes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i == 1 && mode == searchLargest {
			// The coarse pass has run: the fine search can only add
			// faces smaller than tileLimit.
			kept := nms(slices.Clone(all), d.cfg.IoUThreshold)
			if len(kept) > 0 && largestArea(kept) >= tileLimit(passes[0].Scale, d.cfg) {
				return kept, nil
			}
		}
		m := affine{A: 1 / ps.Scale, C: ps.Region.X, E: 1 / ps.Scale, F: ps.Region.Y}
		buf = sample(p, m, in, in.Width, in.Height, borderConstant, buf[:0])
		out, err := d.model.Run(ctx, inputTensor(in, in.Width, in.Height, buf))
		if err != nil {
			return nil, fmt.Errorf("face: detect: %w", err)
		}
		dets, err := d.decode(out, ps, w, h)
		if err != nil {
			return nil, err
		}
		all = append(all, dets...)
	}
	return nms(all, d.cfg.IoUThreshold), nil
}

func largestArea(dets []detection) float64 {
	var a float64
	for _, d := range dets {
		a = max(a, d.Box.Area())
	}
	return a
}

// decode turns one pass's outputs into boxes in source pixels.
func (d *detector) decode(out []infer.Tensor, ps pass, w, h int) ([]detection, error) {
	if d.cfg.BoxFormat == BoxBlaze {
		rows, err := d.blazeRows(out)
		if err != nil {
			return nil, err
		}
		if len(rows) != 17*len(d.anchors) {
			return nil, fmt.Errorf("face: detect: %d blazeface rows for %d anchors", len(rows)/17, len(d.anchors))
		}
		return d.decodeBoxes(len(d.anchors), func(i int) (float64, [4]float64) {
			r := rows[17*i : 17*i+17]
			sz := float64(d.cfg.Spec.Input.Width)
			cx, cy := (float64(r[1])+d.anchors[i][0])/sz, (float64(r[2])+d.anchors[i][1])/sz
			w, h := float64(r[3])/sz, float64(r[4])/sz
			return 1 / (1 + math.Exp(-float64(r[0]))), [4]float64{cx - w/2, cy - h/2, cx + w/2, cy + h/2}
		}, ps, w, h), nil
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("face: detect: %d outputs, want scores and boxes", len(out))
	}
	scores, boxes := out[0].Data, out[1].Data
	n := len(scores) / 2
	if len(boxes) != 4*n || n == 0 {
		return nil, fmt.Errorf("face: detect: %d scores and %d box values do not pair", len(scores), len(boxes))
	}
	if d.priors != nil && len(d.priors) != n {
		return nil, fmt.Errorf("face: detect: %d outputs for %d priors", n, len(d.priors))
	}
	return d.decodeBoxes(n, func(i int) (float64, [4]float64) {
		s := float64(scores[2*i+1])
		if d.cfg.SoftmaxScores {
			a, b := float64(scores[2*i]), float64(scores[2*i+1])
			s = 1 / (1 + math.Exp(a-b))
		}
		var bx [4]float64
		for k := range 4 {
			bx[k] = float64(boxes[4*i+k])
		}
		if d.priors != nil {
			bx = decodeSSD(bx, d.priors[i], d.cfg.Variances)
		}
		return s, bx
	}, ps, w, h), nil
}

// decodeBoxes filters candidate i = (face probability, corners in 0..1 of
// the input) and maps the kept ones to source pixels.
func (d *detector) decodeBoxes(n int, cand func(i int) (float64, [4]float64), ps pass, w, h int) []detection {
	iw, ih := float64(d.cfg.Spec.Input.Width), float64(d.cfg.Spec.Input.Height)
	// Valid input area of this pass, for the tile-edge test.
	vw, vh := ps.Region.W*ps.Scale, ps.Region.H*ps.Scale
	const edge = 2.0
	var dets []detection
	for i := range n {
		s, bx := cand(i)
		thr := d.cfg.ScoreThreshold
		if ps.Tile {
			thr = max(thr, d.cfg.TileScoreThreshold)
		}
		if s < thr || math.IsNaN(s) {
			continue
		}
		x1, y1, x2, y2 := bx[0]*iw, bx[1]*ih, bx[2]*iw, bx[3]*ih
		if !(x2 > x1 && y2 > y1) {
			continue
		}
		if ps.Tile {
			if math.Max(x2-x1, y2-y1)/ps.Scale*ps.Coarser >= 1.5*d.cfg.DetectSize {
				continue
			}
			interiorLeft := ps.Region.X > 0.5
			interiorTop := ps.Region.Y > 0.5
			interiorRight := ps.Region.X+ps.Region.W < float64(w)-0.5
			interiorBottom := ps.Region.Y+ps.Region.H < float64(h)-0.5
			if (interiorLeft && x1 < edge) || (interiorTop && y1 < edge) ||
				(interiorRight && x2 > vw-edge) || (interiorBottom && y2 > vh-edge) {
				continue
			}
		}
		r := livenessd.Rect{
			X: ps.Region.X + x1/ps.Scale, Y: ps.Region.Y + y1/ps.Scale,
			W: (x2 - x1) / ps.Scale, H: (y2 - y1) / ps.Scale,
		}
		dets = append(dets, detection{Box: r, Score: s})
	}
	return dets
}

// iou is intersection over union; contain is intersection over the smaller area.
func overlap(a, b livenessd.Rect) (iou, contain float64) {
	ix := math.Max(0, math.Min(a.X+a.W, b.X+b.W)-math.Max(a.X, b.X))
	iy := math.Max(0, math.Min(a.Y+a.H, b.Y+b.H)-math.Max(a.Y, b.Y))
	in := ix * iy
	if in == 0 {
		return 0, 0
	}
	return in / (a.Area() + b.Area() - in), in / math.Min(a.Area(), b.Area())
}

// nms keeps the best-scoring box of each overlapping group: a box is
// dropped when its IoU with a kept box reaches thr, or when it lies mostly
// (80%) inside one (a face part found at a finer scale).
func nms(dets []detection, thr float64) []detection {
	slices.SortStableFunc(dets, func(a, b detection) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	var keep []detection
	for _, d := range dets {
		ok := true
		for _, k := range keep {
			iou, contain := overlap(d.Box, k.Box)
			if iou >= thr || contain >= 0.8 {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, d)
		}
	}
	return keep
}
