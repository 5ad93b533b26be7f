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
// there); it is a measurement, not a check. LIVENESS_EMBED_ONLY=TEXT keeps
// the variants whose name contains TEXT (and the reference "central 5pt").
func TestEmbeddingExperiments(t *testing.T) {
	dir := os.Getenv("LIVENESS_EMBED_EXPERIMENTS")
	if dir == "" {
		t.Skip("set LIVENESS_EMBED_EXPERIMENTS=DIR to run")
	}
	root := testutil.SharedData(t, "face-verification")
	sets := []string{"lfw", "deepface", "face_recognition", "go-face-testdata"}
	var pairs []expPair
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
			pairs = append(pairs, expPair{s, a, b, same})
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
	if !hasHumanVariants(embs) {
		addHumanEmbeddings(t, embs)
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
	// z-normalisation of a variant's cosine by the mean and deviation of
	// its impostor cosines on the non-LFW sets (the fusion's dev split:
	// nothing of LFW chooses a weight).
	type stat struct{ mean, sd float64 }
	stats := map[string]stat{}
	zOf := func(v string, a, b *expImage) float64 {
		st, ok := stats[v]
		if !ok {
			var xs []float64
			for _, p := range pairs {
				if p.set != "lfw" && !p.same {
					if c := cosOf(v, embs[p.a+"|"], embs[p.b+"|"]); c > -2 {
						xs = append(xs, c)
					}
				}
			}
			var m, q float64
			for _, x := range xs {
				m += x
			}
			m /= float64(len(xs))
			for _, x := range xs {
				q += (x - m) * (x - m)
			}
			st = stat{m, math.Sqrt(q / float64(len(xs)-1))}
			stats[v] = st
		}
		if a == nil || b == nil {
			return 0
		}
		c := cosOf(v, a, b)
		if c <= -2 {
			return math.Inf(-1)
		}
		return (c - st.mean) / st.sd
	}
	zfuse := func(x, y string, w float64) func(a, b *expImage) float64 {
		return func(a, b *expImage) float64 { return zOf(x, a, b) + w*zOf(y, a, b) }
	}
	euclid := func(v string) func(a, b *expImage) float64 {
		return func(a, b *expImage) float64 {
			ea, eb := a.Emb[v], b.Emb[v]
			if ea == nil || eb == nil {
				return math.Inf(-1)
			}
			var d float64
			for i := range ea {
				d += float64(ea[i]-eb[i]) * float64(ea[i]-eb[i])
			}
			return -math.Sqrt(d)
		}
	}
	var scorers []scorer
	// face-api.js's FaceRecognitionNet (dlib ResNet): three alignments, the
	// Euclidean distance it was trained for, flip, and z-score fusion with
	// fr_feature at fixed weights.
	for _, v := range []string{"fa68", "fa5", "fabox", "fa68flip"} {
		scorers = append(scorers, scorer{"central faceapi " + v, func(a, b *expImage) float64 { return cosOf("central/"+v, a, b) }})
	}
	scorers = append(scorers,
		scorer{"central faceapi fa68 + flip", avg("central/fa68", "central/fa68flip")},
		scorer{"central faceapi fa68 euclidean", euclid("central/fa68raw")},
		scorer{"largest faceapi fa68", func(a, b *expImage) float64 { return cosOf("largest/fa68", a, b) }},
		scorer{"central 5pt z (reference)", func(a, b *expImage) float64 { return zOf("central/base", a, b) }},
	)
	for _, e := range embs {
		if e.Emb != nil {
			e.Emb["central/fa68avg"] = addNorm(e.Emb["central/fa68"], e.Emb["central/fa68flip"])
		}
	}
	// Centred descriptors: dlib's descriptors share a large common part
	// (impostor cosine about 0.84); the mean descriptor of the non-LFW
	// faces is removed before normalising.
	var meanRaw []float64
	nRaw := 0
	for _, e := range embs {
		if r := e.Emb["central/fa68raw"]; r != nil && e.Set != "lfw" {
			if meanRaw == nil {
				meanRaw = make([]float64, len(r))
			}
			for i, x := range r {
				meanRaw[i] += float64(x)
			}
			nRaw++
		}
	}
	for _, e := range embs {
		if r := e.Emb["central/fa68raw"]; r != nil {
			c := make([]float32, len(r))
			for i, x := range r {
				c[i] = x - float32(meanRaw[i]/float64(nRaw))
			}
			if normalize(c) {
				e.Emb["central/fa68c"] = c
			}
		}
	}
	scorers = append(scorers, scorer{"central faceapi fa68 centred", func(a, b *expImage) float64 { return cosOf("central/fa68c", a, b) }})
	for _, w := range []float64{0.5, 0.75, 1} {
		scorers = append(scorers, scorer{fmt.Sprintf("central 5pt + %.2g faceapi fa68 centred (z)", w), zfuse("central/base", "central/fa68c", w)})
	}
	threeWay := func(w float64) func(a, b *expImage) float64 {
		return func(a, b *expImage) float64 {
			return zOf("central/base", a, b) + w*zOf("central/fa68", a, b) + 0.25*zOf("central/faceres", a, b)
		}
	}
	for _, w := range []float64{0.25, 0.5, 0.75, 1, 1.5, 2} {
		scorers = append(scorers,
			scorer{fmt.Sprintf("central 5pt + %.2g faceapi fa68+flip (z)", w), zfuse("central/base", "central/fa68avg", w)},
			scorer{fmt.Sprintf("central 5pt + %.2g faceapi fa68 + 0.25 faceres (z)", w), threeWay(w)},
		)
	}
	for _, w := range []float64{0.1, 0.25, 0.5, 0.75, 1, 1.5, 2} {
		scorers = append(scorers,
			scorer{fmt.Sprintf("central 5pt + %.2g faceapi fa68 (z)", w), zfuse("central/base", "central/fa68", w)},
			scorer{fmt.Sprintf("central 5pt + %.2g faceapi fa5 (z)", w), zfuse("central/base", "central/fa5", w)},
			scorer{fmt.Sprintf("largest 5pt + %.2g faceapi fa68 (z)", w), zfuse("largest/base", "largest/fa68", w)},
		)
	}
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
	// human-models' further embedders (tfjs.Embedders): each variant
	// alone, and z-score fused with fr_feature at fixed weights.
	for _, v := range humanVariants() {
		scorers = append(scorers, scorer{"central h15 " + v.name, func(a, b *expImage) float64 { return cosOf("central/"+v.name, a, b) }})
	}
	for _, e := range embs {
		if e.Emb != nil {
			e.Emb["central/frcaffe0.75avg"] = addNorm(e.Emb["central/frcaffe0.75"], e.Emb["central/frcaffe0.75flip"])
		}
	}
	scorers = append(scorers, scorer{"central h15 frcaffe0.75avg", func(a, b *expImage) float64 { return cosOf("central/frcaffe0.75avg", a, b) }})
	// MobileFaceNet's embeddings are nearly constant (impostor cosine
	// 0.9998): measured again centred by their mean on the non-LFW faces.
	for _, v := range []string{"mfn", "mfnbgr", "mfnunit", "mfnraw"} {
		centre(embs, "central/"+v, "central/"+v+"c")
		scorers = append(scorers, scorer{"central h15 " + v + "c", func(a, b *expImage) float64 { return cosOf("central/"+v+"c", a, b) }})
	}
	for _, v := range append(humanVariants(), humanVariant{name: "frcaffe0.75avg"}, humanVariant{name: "mfnc"}, humanVariant{name: "mfnunitc"}) {
		for _, w := range []float64{0.1, 0.25, 0.5, 0.75, 1, 1.5, 2} {
			scorers = append(scorers, scorer{fmt.Sprintf("central 5pt + %.2g h15 %s (z)", w, v.name), zfuse("central/base", "central/"+v.name, w)})
		}
	}
	// LIVENESS_EMBED_ONLY keeps the scorers whose name contains it.
	if only := os.Getenv("LIVENESS_EMBED_ONLY"); only != "" {
		scorers = slices.DeleteFunc(scorers, func(s scorer) bool { return !strings.Contains(s.name, only) && s.name != "central 5pt" })
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
	var lfwCross [][2]*expImage
	for i, a := range lfwImgs {
		for _, b := range lfwImgs[i+1:] {
			if filepath.Dir(a.Path) != filepath.Dir(b.Path) {
				lfwCross = append(lfwCross, [2]*expImage{a, b})
			}
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "| variant | lfw TAR@1e-3 / AUC / 10-fold acc | lfw genuine vs all cross-identity: TAR@1e-3 / TAR@1e-4 | deepface | face_recognition | go-face-testdata | dev (non-LFW) pooled TAR@1e-3 / TAR@1e-2 / AUC | pooled TAR@1e-3 / AUC | impostors at or above the pooled FMR 1e-3 / 1e-4 threshold: go-face, deepface |\n|---|---|---|---|---|---|---|---|---|\n")
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
				for _, x := range lfwCross {
					cross = append(cross, Scored{Score: sc.f(x[0], x[1]), Same: false})
				}
				fmt.Fprintf(&out, " %.1f%% / %.4f / %.2f%% ± %.2f | %.1f%% / %.1f%% |", 100*TARAtFMR(sd, 1e-3), AUC(sd), 100*m, 100*sdv, 100*TARAtFMR(cross, 1e-3), 100*TARAtFMR(cross, 1e-4))
			} else {
				fmt.Fprintf(&out, " %.1f%% / %.4f |", 100*TARAtFMR(sd, 1e-3), AUC(sd))
			}
		}
		var dev []Scored
		for _, p := range pairs {
			if p.set != "lfw" {
				dev = append(dev, Scored{Score: sc.f(embs[p.a+"|"], embs[p.b+"|"]), Same: p.same})
			}
		}
		fmt.Fprintf(&out, " %.1f%% / %.1f%% / %.5f |", 100*TARAtFMR(dev, 1e-3), 100*TARAtFMR(dev, 1e-2), AUC(dev))
		fmt.Fprintf(&out, " %.1f%% / %.4f |", 100*TARAtFMR(all, 1e-3), AUC(all))
		// Look-alikes at the operating points a calibration fitted on the
		// pooled impostors (LFW's cross-identity pairs and every labelled
		// different pair, as eval faces --fit) would set.
		pooled := slices.Clone(all)
		for _, x := range lfwCross {
			pooled = append(pooled, Scored{Score: sc.f(x[0], x[1]), Same: false})
		}
		for _, fmr := range []float64{1e-3, 1e-4} {
			th := ThresholdAtFMR(pooled, fmr)
			fmt.Fprintf(&out, " %s %s", lookAlikes(pairs, embs, sc.f, "go-face-testdata", th), lookAlikes(pairs, embs, sc.f, "deepface", th))
			if fmr == 1e-3 {
				out.WriteString(" /")
			}
		}
		out.WriteString(" |\n")
	}
	statVars := []string{"central/base", "central/fa68", "central/fa68avg", "largest/base", "largest/fa68"}
	for _, v := range humanVariants() {
		statVars = append(statVars, "central/"+v.name)
	}
	for _, v := range statVars {
		zOf(v, nil, nil)
		fmt.Fprintf(&out, "\nimpostor cosine on the non-LFW sets, %s: mean %.4f, sd %.4f", v, stats[v].mean, stats[v].sd)
	}
	out.WriteString("\n")
	// Quality: the hardest LFW pairs with what the pipeline knows of them.
	fmt.Fprintf(&out, "\nLFW pairs nearest the FMR 1e-3 cut (central 5pt): cosine, same, min norm, min score, min side, min sharpness, max |yaw|\n")
	var lfw []expPair
	for _, p := range pairs {
		if p.set == "lfw" {
			lfw = append(lfw, p)
		}
	}
	slices.SortFunc(lfw, func(x, y expPair) int {
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
	fa, err := tfjs.Load(rt, tfjs.FaceRecognition, cache.Dir, cache.Path(TranslatedDir))
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
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
		// face-api.js's FaceRecognitionNet: dlib's 68-point chip, its 5-point
		// equivalent, and face-api.js's own axis-aligned box.
		fain := fa.Spec().Input
		var faMaps []struct {
			name string
			m    affine
		}
		if m, err := dlibChipMap(f.o.Landmarks, fain.Width); err == nil {
			faMaps = append(faMaps, struct {
				name string
				m    affine
			}{"fa68", m})
			if f.name == "central" {
				faMaps = append(faMaps, struct {
					name string
					m    affine
				}{"fa68flip", flipMap(m, fain.Width)})
			}
		}
		if f.name == "central" {
			if m, _, err := alignMap(f.o.Keypoints, dlibFivePoint(), fain.Width, fain.Height); err == nil {
				faMaps = append(faMaps, struct {
					name string
					m    affine
				}{"fa5", m})
			}
			if m, ok := faceAPIBoxMap(f.o.Landmarks, fain.Width); ok {
				faMaps = append(faMaps, struct {
					name string
					m    affine
				}{"fabox", m})
			}
		}
		for _, v := range faMaps {
			e, raw, err := runEmbed(ctx, fa, f.pyr, v.m, fain, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.img.Emb[f.name+"/"+v.name] = e
			if v.name == "fa68" {
				f.img.Emb[f.name+"/fa68raw"] = raw
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

// dlibFivePoint is the dlib chip expressed as a template of the pipeline's
// five points (eye centres, nose tip, mouth corners) in 112x112 units.
func dlibFivePoint() [5]livenessd.Point {
	shape := make([]livenessd.Point, 68)
	for _, m := range dlibMeanShape {
		shape[m.I] = m.P
	}
	var t [5]livenessd.Point
	for i, p := range fivePoints(shape) {
		t[i] = dlibChipPoint(p, 112)
	}
	return t
}

// faceAPIBoxMap is face-api.js's alignment (FaceLandmarks.alignDlib): an
// upright square of side (mean eye-to-mouth distance)/0.45 placed at
// (0.5, 0.43) of its side from the centroid of the eye and mouth centres.
func faceAPIBoxMap(lm []livenessd.Point, side int) (affine, bool) {
	if len(lm) != 68 {
		return affine{}, false
	}
	le, re, mo := meanPoint(lm[36:42]), meanPoint(lm[42:48]), meanPoint(lm[48:68])
	d := (math.Hypot(mo.X-le.X, mo.Y-le.Y) + math.Hypot(mo.X-re.X, mo.Y-re.Y)) / 2
	size := math.Floor(d / 0.45)
	if size < 1 {
		return affine{}, false
	}
	cx, cy := (le.X+re.X+mo.X)/3, (le.Y+re.Y+mo.Y)/3
	x0, y0 := math.Floor(math.Max(0, cx-0.5*size)), math.Floor(math.Max(0, cy-0.43*size))
	return affine{A: size / float64(side), C: x0, E: size / float64(side), F: y0}, true
}

// expPair is one labelled pair of a development set.
type expPair struct {
	set  string
	a, b string
	same bool
}

// lookAlikes counts a set's impostor pairs scoring at or above th.
func lookAlikes(pairs []expPair, embs map[string]*expImage, f func(a, b *expImage) float64, set string, th float64) string {
	n, k := 0, 0
	for _, p := range pairs {
		if p.set != set || p.same {
			continue
		}
		n++
		if f(embs[p.a+"|"], embs[p.b+"|"]) >= th {
			k++
		}
	}
	return fmt.Sprintf("%d/%d", k, n)
}
