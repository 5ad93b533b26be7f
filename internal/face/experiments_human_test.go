package face

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// humanVariant is one way of feeding one of human-models' further
// embedding networks (tfjs.Embedders) in the embedding experiment.
type humanVariant struct {
	name   string // key below "central/"
	spec   infer.Spec
	in     infer.ImageInput // input as fed (order and normalisation may differ from spec's)
	zoom   float64          // ArcFace template scaled about the crop centre
	output int
	flip   bool // the crop mirrored
}

// humanVariants are the alignments and input conventions measured for
// MobileFaceNet (sirius-ai), MobileFace (becauseofAI) and HSE FaceRes-deep,
// plus the shipped faceres fed as HSE's own code feeds it.
func humanVariants() []humanVariant {
	bgr := func(in infer.ImageInput) infer.ImageInput {
		in.Order = infer.BGR
		return in
	}
	caffe := func(in infer.ImageInput) infer.ImageInput { // HSE: BGR less the ImageNet mean pixel
		in.Order, in.Mean, in.Std = infer.BGR, [3]float32{103.939, 116.779, 123.68}, [3]float32{1, 1, 1}
		return in
	}
	rawRGB := func(in infer.ImageInput) infer.ImageInput { // Human: RGB 0..255
		in.Order, in.Mean, in.Std = infer.RGB, [3]float32{}, [3]float32{1, 1, 1}
		return in
	}
	unit := func(in infer.ImageInput) infer.ImageInput { // Human: RGB 0..1
		in.Order, in.Mean, in.Std = infer.RGB, [3]float32{}, [3]float32{255, 255, 255}
		return in
	}
	mfn, mf, frd, fr := tfjs.MobileFaceNet, tfjs.MobileFace, tfjs.FaceResDeep, tfjs.FaceRes
	flip := func(v humanVariant) humanVariant { v.name, v.flip = v.name+"flip", true; return v }
	frc := humanVariant{"frcaffe0.75", fr, caffe(fr.Input), 0.75, 1, false}
	return []humanVariant{
		{"mfn", mfn, mfn.Input, 1, 0, false},
		{"mfnbgr", mfn, bgr(mfn.Input), 1, 0, false},
		{"mfnunit", mfn, unit(mfn.Input), 1, 0, false},
		{"mfnraw", mfn, rawRGB(mfn.Input), 1, 0, false},
		{"mf", mf, mf.Input, 1, 0, false},
		{"mfbgr", mf, bgr(mf.Input), 1, 0, false},
		{"frd0.75", frd, frd.Input, 0.75, 1, false},
		{"frd0.6", frd, frd.Input, 0.6, 1, false},
		{"frd0.9", frd, frd.Input, 0.9, 1, false},
		{"frdrgb0.75", frd, rawRGB(frd.Input), 0.75, 1, false},
		frc,
		flip(frc),
		{"frcaffe0.6", fr, caffe(fr.Input), 0.6, 1, false},
		{"frcaffe0.9", fr, caffe(fr.Input), 0.9, 1, false},
		{"frrgb0.75", fr, fr.Input, 0.75, 1, false},
		{"frcaffeup0.75", fr, caffe(fr.Input), 0.75, 1, false},
		{"frcaffeup0.9", fr, caffe(fr.Input), 0.9, 1, false},
	}
}

// hasHumanVariants reports whether the cached embeddings already hold
// every human variant of the central faces.
func hasHumanVariants(embs map[string]*expImage) bool {
	for _, e := range embs {
		if !e.Found {
			continue
		}
		for _, v := range humanVariants() {
			if _, ok := e.Emb["central/"+v.name]; !ok {
				return false
			}
		}
	}
	return true
}

// addHumanEmbeddings embeds every found central face with each human
// variant, from the five points the experiment cached for it (the same
// detections and landmarks as every other variant).
func addHumanEmbeddings(t *testing.T, embs map[string]*expImage) {
	ctx := context.Background()
	rt, cache := testutil.Runtime(t), testutil.Cache(t)
	p, err := NewPipeline(rt, cache, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]Inferencer{}
	for _, spec := range []infer.Spec{tfjs.MobileFaceNet, tfjs.MobileFace, tfjs.FaceResDeep, tfjs.FaceRes} {
		s, err := tfjs.Load(rt, spec, cache.Dir, cache.Path(TranslatedDir))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		models[spec.Name] = s
	}
	keys := make([]string, 0, len(embs))
	for k, e := range embs {
		if e.Found && len(e.KP) == 5 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i%100 == 0 {
			t.Logf("human variants: %d/%d faces", i, len(keys))
		}
		e := embs[k]
		img, err := imageio.ReadFileReduced(e.Path, imageio.DefaultLimits(), p.ImageSide())
		if err != nil {
			t.Fatal(err)
		}
		pyr := newPyramid(img)
		for _, v := range humanVariants() {
			if _, ok := e.Emb["central/"+v.name]; ok {
				continue
			}
			var tz [5]livenessd.Point
			for j, q := range ArcFaceTemplate {
				tz[j] = livenessd.Point{X: 56 + v.zoom*(q.X-56), Y: 56 + v.zoom*(q.Y-56)}
			}
			m, _, err := alignMap(e.KP, tz, v.in.Width, v.in.Height)
			if err != nil {
				continue
			}
			if v.flip {
				m = flipMap(m, v.in.Width)
			}
			if strings.Contains(v.name, "up") {
				m = upright(m, v.in.Width, v.in.Height)
			}
			emb, _, err := runEmbed(ctx, models[v.spec.Name], pyr, m, v.in, v.output)
			if err != nil {
				t.Fatal(fmt.Errorf("%s %s: %w", v.name, e.Path, err))
			}
			e.Emb["central/"+v.name] = emb
		}
	}
}

// centre stores under dst the src embeddings less their mean over the
// non-LFW faces, normalised again.
func centre(embs map[string]*expImage, src, dst string) {
	var mean []float64
	n := 0
	for _, e := range embs {
		if r := e.Emb[src]; r != nil && e.Set != "lfw" {
			if mean == nil {
				mean = make([]float64, len(r))
			}
			for i, x := range r {
				mean[i] += float64(x)
			}
			n++
		}
	}
	for _, e := range embs {
		if r := e.Emb[src]; r != nil {
			c := make([]float32, len(r))
			for i, x := range r {
				c[i] = x - float32(mean[i]/float64(n))
			}
			if normalize(c) {
				e.Emb[dst] = c
			}
		}
	}
}

// upright removes the rotation of a crop map (output -> source): the same
// centre and scale, the crop's axes along the image's (HSE crops faces by
// their upright detector box).
func upright(m affine, w, h int) affine {
	cx, cy := m.apply(float64(w)/2, float64(h)/2)
	s := math.Sqrt(math.Abs(m.A*m.E - m.B*m.D))
	return affine{A: s, B: 0, C: cx - s*float64(w)/2, D: 0, E: s, F: cy - s*float64(h)/2}
}
