package face

import (
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// expImage holds every embedding variant of one image's chosen face.
type expImage struct {
	Set, Path string
	Found     bool
	Emb       map[string][]float32 // variant -> L2-normalised embedding
	Norm      float64              // fr_feature's raw output norm
	Score     float64
	Side      float64 // box side, pixels of the decoded image
	Sharp     float64
	Yaw       float64
	LM        []livenessd.Point // 68 landmarks, for the dense template
	KP        []livenessd.Point
}

// TestEmbeddingExperiments measures embedding variants on the development
// sets (docs/ACCURACY.md "Embedding experiments"). It runs only with
// LIVENESS_EMBED_EXPERIMENTS=DIR (results and a cache of embeddings go
// there); it is a measurement, not a check.
func TestEmbeddingExperiments(t *testing.T) {
	dir := os.Getenv("LIVENESS_EMBED_EXPERIMENTS")
	if dir == "" {
		t.Skip("set LIVENESS_EMBED_EXPERIMENTS=DIR to run")
	}
	root := testutil.SharedData(t, "face-verification")
	sets := []string{"lfw", "deepface", "face_recognition", "go-face-testdata"}
	type pair struct {
		set  string
		a, b string
		same bool
	}
	var pairs []pair
	images := map[string]string{} // path -> set
	for _, s := range sets {
		rows := testutil.ReadCSV(t, filepath.Join(root, s, "pairs.csv"))
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		for _, r := range rows[1:] {
			a, b := filepath.Join(root, s, r[col["img_a"]]), filepath.Join(root, s, r[col["img_b"]])
			same, _ := strconv.ParseBool(r[col["same"]])
			pairs = append(pairs, pair{s, a, b, same})
			images[a], images[b] = s, s
		}
	}
	cachePath := filepath.Join(dir, "embeddings.gob")
	var embs map[string]*expImage
	if f, err := os.Open(cachePath); err == nil {
		err = gob.NewDecoder(f).Decode(&embs)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	} else {
		embs = computeExperiments(t, images)
		f, err := os.Create(cachePath)
		if err != nil {
			t.Fatal(err)
		}
		if err := gob.NewEncoder(f).Encode(embs); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}

	cosOf := func(v string, a, b *expImage) float64 {
		ea, eb := a.Emb[v], b.Emb[v]
		if ea == nil || eb == nil {
			return -2
		}
		return Cosine(ea, eb)
	}
	// A scorer maps a pair to a score (higher = same).
	type scorer struct {
		name string
		f    func(a, b *expImage) float64
	}
	avg := func(x, y string) func(a, b *expImage) float64 {
		return func(a, b *expImage) float64 {
			ea, eb := addNorm(a.Emb[x], a.Emb[y]), addNorm(b.Emb[x], b.Emb[y])
			if ea == nil || eb == nil {
				return -2
			}
			return Cosine(ea, eb)
		}
	}
	fuse := func(x, y string, w float64) func(a, b *expImage) float64 {
		return func(a, b *expImage) float64 { return cosOf(x, a, b) + w*cosOf(y, a, b) }
	}
	var scorers []scorer
	for _, v := range []string{"zoom0.9", "zoom1.1", "corners"} {
		scorers = append(scorers, scorer{"central " + v, func(a, b *expImage) float64 { return cosOf("central/"+v, a, b) }},
			scorer{"central 5pt + " + v, avg("central/base", "central/"+v)})
	}
	for _, sel := range []string{"largest", "central"} {
		scorers = append(scorers,
			scorer{sel + " 5pt", func(a, b *expImage) float64 { return cosOf(sel+"/base", a, b) }},
			scorer{sel + " 5pt+flip", avg(sel+"/base", sel+"/flip")},
			scorer{sel + " dense", func(a, b *expImage) float64 { return cosOf(sel+"/dense", a, b) }},
			scorer{sel + " dense+flip", avg(sel+"/dense", sel+"/denseflip")},
			scorer{sel + " 5pt + dense", avg(sel+"/base", sel+"/dense")},
			scorer{sel + " faceres", func(a, b *expImage) float64 { return cosOf(sel+"/faceres", a, b) }},
			scorer{sel + " 5pt + 0.25 faceres", fuse(sel+"/base", sel+"/faceres", 0.25)},
			scorer{sel + " 5pt + 0.5 faceres", fuse(sel+"/base", sel+"/faceres", 0.5)},
			scorer{sel + " 5pt+flip + 0.25 faceres", func(a, b *expImage) float64 {
				return avg(sel+"/base", sel+"/flip")(a, b) + 0.25*cosOf(sel+"/faceres", a, b)
			}},
		)
	}
	// LFW's images with every cross-identity pair as impostors (about
	// 325,000): TAR at FMR 1e-3 from far more impostors than fold 1's 300.
	var lfwImgs []*expImage
	for path, set := range images {
		if set == "lfw" && embs[path+"|"].Found {
			lfwImgs = append(lfwImgs, embs[path+"|"])
		}
	}
	slices.SortFunc(lfwImgs, func(a, b *expImage) int { return strings.Compare(a.Path, b.Path) })
	var out strings.Builder
	fmt.Fprintf(&out, "| variant | lfw TAR@1e-3 / AUC / 10-fold acc | lfw genuine vs all cross-identity: TAR@1e-3 | deepface | face_recognition | go-face-testdata | pooled TAR@1e-3 / AUC |\n|---|---|---|---|---|---|---|\n")
	for _, sc := range scorers {
		fmt.Fprintf(&out, "| %s |", sc.name)
		var all []Scored
		for _, s := range sets {
			var sd []Scored
			for _, p := range pairs {
				if p.set != s {
					continue
				}
				a, b := embs[p.a+"|"], embs[p.b+"|"]
				sd = append(sd, Scored{Score: sc.f(a, b), Same: p.same})
			}
			all = append(all, sd...)
			if s == "lfw" {
				m, sdv := KFoldAccuracy(sd, 10)
				cross := slices.Clone(sd)
				for i, a := range lfwImgs {
					for _, b := range lfwImgs[i+1:] {
						if filepath.Dir(a.Path) != filepath.Dir(b.Path) {
							cross = append(cross, Scored{Score: sc.f(a, b), Same: false})
						}
					}
				}
				fmt.Fprintf(&out, " %.1f%% / %.4f / %.2f%% ± %.2f | %.1f%% |", 100*TARAtFMR(sd, 1e-3), AUC(sd), 100*m, 100*sdv, 100*TARAtFMR(cross, 1e-3))
			} else {
				fmt.Fprintf(&out, " %.1f%% / %.4f |", 100*TARAtFMR(sd, 1e-3), AUC(sd))
			}
		}
		fmt.Fprintf(&out, " %.1f%% / %.4f |\n", 100*TARAtFMR(all, 1e-3), AUC(all))
	}
	// Quality: the hardest LFW pairs with what the pipeline knows of them.
	fmt.Fprintf(&out, "\nLFW pairs nearest the FMR 1e-3 cut (central 5pt): cosine, same, min norm, min score, min side, min sharpness, max |yaw|\n")
	var lfw []pair
	for _, p := range pairs {
		if p.set == "lfw" {
			lfw = append(lfw, p)
		}
	}
	slices.SortFunc(lfw, func(x, y pair) int {
		return cmpF(cosOf("central/base", embs[y.a+"|"], embs[y.b+"|"]), cosOf("central/base", embs[x.a+"|"], embs[x.b+"|"]))
	})
	for _, p := range lfw {
		a, b := embs[p.a+"|"], embs[p.b+"|"]
		c := cosOf("central/base", a, b)
		if (!p.same && c > 0.22) || (p.same && c < 0.36) {
			fmt.Fprintf(&out, "%.3f %v norm %.1f score %.2f side %.0f sharp %.1f yaw %.0f  %s %s\n", c, p.same,
				min(a.Norm, b.Norm), min(a.Score, b.Score), min(a.Side, b.Side), min(a.Sharp, b.Sharp), max(math.Abs(a.Yaw), math.Abs(b.Yaw)),
				filepath.Base(p.a), filepath.Base(p.b))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func addNorm(a, b []float32) []float32 {
	if a == nil || b == nil {
		return nil
	}
	s := make([]float32, len(a))
	for i := range a {
		s[i] = a[i] + b[i]
	}
	if !normalize(s) {
		return nil
	}
	return s
}

// computeExperiments embeds every image's largest and central face in
// every variant; the dense template is the mean 68-point shape of the
// non-LFW faces aligned by their five points.
func computeExperiments(t *testing.T, images map[string]string) map[string]*expImage {
	ctx := context.Background()
	rt, cache := testutil.Runtime(t), testutil.Cache(t)
	p, err := NewPipeline(rt, cache, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	fr, err := tfjs.Load(rt, tfjs.FaceRes, cache.Dir, cache.Path(TranslatedDir))
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, 0, len(images))
	for k := range images {
		paths = append(paths, k)
	}
	slices.Sort(paths)
	type face struct {
		img  *expImage
		pyr  *pyramid
		o    livenessd.FaceObservation
		name string
	}
	var faces []face
	out := map[string]*expImage{}
	for i, path := range paths {
		if i%100 == 0 {
			t.Logf("%d/%d images", i, len(paths))
		}
		img, err := imageio.ReadFileReduced(path, imageio.DefaultLimits(), p.ImageSide())
		if err != nil {
			out[path+"|"] = &expImage{Set: images[path], Path: path}
			continue
		}
		pyr := newPyramid(img)
		dets, err := p.det.detect(ctx, pyr, searchAll)
		if err != nil {
			t.Fatal(err)
		}
		sortByArea(dets)
		e := &expImage{Set: images[path], Path: path, Emb: map[string][]float32{}}
		out[path+"|"] = e
		if len(dets) == 0 {
			continue
		}
		e.Found = true
		for _, sel := range []struct {
			name string
			idx  int
		}{{"largest", 0}, {"central", central(dets, img.Bounds())}} {
			o, err := p.describe(ctx, img, pyr, dets[sel.idx], what{})
			if err != nil {
				t.Fatal(err)
			}
			faces = append(faces, face{e, pyr, o, sel.name})
			if sel.name == "central" {
				e.Score, e.Side, e.Sharp, e.Yaw = o.Score, max(o.Box.W, o.Box.H), o.Quality.Sharpness, o.Pose.Yaw
				e.LM, e.KP = o.Landmarks, o.Keypoints
			}
		}
	}
	// Dense template: mean of the non-LFW central faces' landmarks mapped
	// by their 5-point alignment into the 112x112 frame.
	var tmpl [68]livenessd.Point
	n := 0
	for _, f := range faces {
		if f.name != "central" || f.img.Set == "lfw" {
			continue
		}
		_, fwd, err := alignMap(f.o.Keypoints, ArcFaceTemplate, 112, 112)
		if err != nil {
			continue
		}
		for i, l := range f.o.Landmarks {
			q := fwd.apply(l)
			tmpl[i].X += q.X
			tmpl[i].Y += q.Y
		}
		n++
	}
	for i := range tmpl {
		tmpl[i].X /= float64(n)
		tmpl[i].Y /= float64(n)
	}
	t.Logf("dense template from %d faces", n)
	for _, f := range faces {
		in := p.cfg.Embedder.Spec.Input
		m5, _, err := alignMap(f.o.Keypoints, ArcFaceTemplate, in.Width, in.Height)
		if err != nil {
			continue
		}
		dst := make([]livenessd.Point, 68)
		for i := range dst {
			dst[i] = livenessd.Point{X: tmpl[i].X * float64(in.Width) / 112, Y: tmpl[i].Y * float64(in.Height) / 112}
		}
		fwd, err := estimateSimilarity(f.o.Landmarks, dst)
		if err != nil {
			continue
		}
		md, _ := fwd.toAffine().invert()
		var raw []float32
		for _, v := range []struct {
			name string
			m    affine
		}{{"base", m5}, {"flip", flipMap(m5, in.Width)}, {"dense", md}, {"denseflip", flipMap(md, in.Width)}} {
			e, r, err := runEmbed(ctx, p.m.Embedder, f.pyr, v.m, in, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.img.Emb[f.name+"/"+v.name] = e
			if v.name == "base" {
				raw = r
			}
		}
		if f.name == "central" {
			f.img.Norm = l2(raw)
			// Alignment variants: the template zoomed about the crop
			// centre, and eye points at the corners' midpoints.
			for _, z := range []float64{0.9, 1.1} {
				var tz [5]livenessd.Point
				for i, q := range ArcFaceTemplate {
					tz[i] = livenessd.Point{X: 56 + z*(q.X-56), Y: 56 + z*(q.Y-56)}
				}
				mz, _, err := alignMap(f.o.Keypoints, tz, in.Width, in.Height)
				if err != nil {
					continue
				}
				e, _, err := runEmbed(ctx, p.m.Embedder, f.pyr, mz, in, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.img.Emb[fmt.Sprintf("central/zoom%.1f", z)] = e
			}
			lm := f.o.Landmarks
			mid := func(a, b int) livenessd.Point {
				return livenessd.Point{X: (lm[a].X + lm[b].X) / 2, Y: (lm[a].Y + lm[b].Y) / 2}
			}
			corners := []livenessd.Point{mid(36, 39), mid(42, 45), lm[30], lm[48], lm[54]}
			if mc, _, err := alignMap(corners, ArcFaceTemplate, in.Width, in.Height); err == nil {
				e, _, err := runEmbed(ctx, p.m.Embedder, f.pyr, mc, in, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.img.Emb["central/corners"] = e
			}
		}
		// faceres: the template shrunk to 0.75 about the crop centre.
		var t75 [5]livenessd.Point
		for i, q := range ArcFaceTemplate {
			t75[i] = livenessd.Point{X: 56 + 0.75*(q.X-56), Y: 56 + 0.75*(q.Y-56)}
		}
		fin := fr.Spec().Input
		mf, _, err := alignMap(f.o.Keypoints, t75, fin.Width, fin.Height)
		if err != nil {
			continue
		}
		e, _, err := runEmbed(ctx, fr, f.pyr, mf, fin, 1)
		if err != nil {
			t.Fatal(err)
		}
		f.img.Emb[f.name+"/faceres"] = e
	}
	return out
}

// flipMap mirrors a w-wide crop map horizontally.
func flipMap(m affine, w int) affine {
	fw := float64(w)
	return affine{A: -m.A, B: m.B, C: m.C + m.A*fw, D: -m.D, E: m.E, F: m.F + m.D*fw}
}

func runEmbed(ctx context.Context, model Inferencer, pyr *pyramid, m affine, in infer.ImageInput, output int) ([]float32, []float32, error) {
	data := sample(pyr, m, in, in.Width, in.Height, borderConstant, nil)
	out, err := model.Run(ctx, inputTensor(in, in.Width, in.Height, data))
	if err != nil {
		return nil, nil, err
	}
	raw := slices.Clone(out[output].Data)
	e := slices.Clone(raw)
	if !normalize(e) {
		return nil, nil, fmt.Errorf("zero embedding")
	}
	return e, raw, nil
}

func l2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}
