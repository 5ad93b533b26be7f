package eval

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
)

// faceSet is one pairs file and its results.
type faceSet struct {
	name   string
	pairs  []Pair
	cos    []float64 // per pair; NaN when an image had no face
	noFace int       // images without a face
	// ids names the person in each image when the set says (setIdentities);
	// extra are the cosines of all its cross-identity image pairs.
	ids   map[string]string
	extra []float64
}

// faceEval holds the embeddings of every image, computed once.
type faceEval struct {
	p    *face.Pipeline
	sel  livenessd.FaceSelection
	emb  map[string][]float32 // nil: no face
	errs io.Writer
}

func (e *faceEval) embedding(ctx context.Context, path string) ([]float32, error) {
	if v, ok := e.emb[path]; ok {
		return v, nil
	}
	// Decoded as compare-faces decodes its images.
	img, err := imageio.ReadFileReduced(path, imageio.DefaultLimits(), e.p.ImageSide())
	if err != nil {
		fmt.Fprintf(e.errs, "eval: %v (counted as no face)\n", err)
		e.emb[path] = nil
		return nil, nil
	}
	s, err := e.p.Select(ctx, img, e.sel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(s.Faces) == 0 {
		fmt.Fprintf(e.errs, "eval: %s: no face\n", path)
	}
	e.emb[path] = s.Face.Embedding
	return s.Face.Embedding, nil
}

// OpenPipeline loads the face pipeline; the evaluation calls it once the
// cheap checks of its input have passed, and closes what it returns.
type OpenPipeline func() (*face.Pipeline, error)

// FacesOptions says what `livenessd eval faces` measures and writes.
type FacesOptions struct {
	Pairs    []string // pairs CSVs (img_a,img_b,same; paths relative to the CSV)
	Scores   bool     // print every pair's cosine and similarity
	Fit      bool     // print the calibration fitted on the impostor pairs
	Markdown string   // rewrite the faces section of this Markdown file
	// Selection picks the face of each image (livenessd.SelectLargest or
	// SelectCentral; the zero value is the largest, as compare-faces).
	Selection livenessd.SelectionRule
}

// Faces scores every pair of the pairs files and ends with the summary
// line: pairs=N TAR@FMR1e-3=X AUC=Y FMR@90=Z FNMR@90=W (all files pooled).
func Faces(ctx context.Context, open OpenPipeline, opt FacesOptions, stdout, stderr io.Writer) (err error) {
	var sets []*faceSet
	for _, f := range opt.Pairs {
		ps, err := ReadPairs(f)
		if err != nil {
			return err
		}
		sets = append(sets, &faceSet{name: setName(f), pairs: ps, ids: setIdentities(f, ps)})
	}
	p, err := open()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	cal := p.Config().Calibration
	ev := &faceEval{p: p, sel: livenessd.FaceSelection{Rule: opt.Selection}, emb: map[string][]float32{}, errs: stderr}
	start := time.Now()
	for _, s := range sets {
		seen := map[string]bool{}
		for _, pr := range s.pairs {
			a, err := ev.embedding(ctx, pr.A)
			if err != nil {
				return err
			}
			b, err := ev.embedding(ctx, pr.B)
			if err != nil {
				return err
			}
			for _, x := range []struct {
				path string
				e    []float32
			}{{pr.A, a}, {pr.B, b}} {
				if !seen[x.path] && x.e == nil {
					s.noFace++
				}
				seen[x.path] = true
			}
			c := math.NaN()
			if a != nil && b != nil {
				c = face.Cosine(a, b)
			}
			s.cos = append(s.cos, c)
			if opt.Scores {
				fmt.Fprintf(stdout, "%s,%s,%v,%.4f,%.1f\n", pr.NameA, pr.NameB, b2i(pr.Same), c, similarityOf(cal, c))
			}
		}
		s.extra = crossIdentityImpostors(s, ev.emb)
	}
	elapsed := time.Since(start)
	var all, allCos []face.Scored
	for _, s := range sets {
		sc, cs := s.scored(cal), s.cosScored()
		all, allCos = append(all, sc...), append(allCos, cs...)
		if len(sets) > 1 {
			fmt.Fprintf(stdout, "set=%s %s\n", s.name, summaryLine(cs, sc))
		}
	}
	if opt.Fit {
		knots := fitCalibration(sets)
		b, err := json.MarshalIndent(map[string]any{"Calibration": face.Calibration{Knots: knots}}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if opt.Markdown != "" {
		section := facesMarkdown(sets, p.Config(), opt, elapsed, len(ev.emb))
		if err := replaceSection(opt.Markdown, "faces", section); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, summaryLine(allCos, all))
	return nil
}

// setName is the pairs file's directory name (lfw, deepface, ...).
func setName(path string) string {
	return filepath.Base(filepath.Dir(path))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// similarityOf maps a cosine to 0-100; a missing face (NaN) scores 0, so
// it counts as a non-match.
func similarityOf(cal face.Calibration, c float64) float64 {
	if math.IsNaN(c) {
		return 0
	}
	return math.Round(cal.Score(c)*10) / 10
}

func (s *faceSet) scored(cal face.Calibration) []face.Scored {
	out := make([]face.Scored, len(s.pairs))
	for i, pr := range s.pairs {
		out[i] = face.Scored{Score: similarityOf(cal, s.cos[i]), Same: pr.Same}
	}
	return out
}

// cosScored is the set's pairs scored by raw cosine (a missing face is
// -2): the ranking metrics (AUC, TAR at FMR) use it, since the reported
// similarity is rounded to 0.1 and rounding creates ties.
func (s *faceSet) cosScored() []face.Scored {
	out := make([]face.Scored, len(s.pairs))
	for i, pr := range s.pairs {
		c := s.cos[i]
		if math.IsNaN(c) {
			c = -2
		}
		out[i] = face.Scored{Score: c, Same: pr.Same}
	}
	return out
}

// summaryLine: ranking metrics on cosines, error rates at the default
// threshold on the reported similarity.
func summaryLine(cos, sim []face.Scored) string {
	fmr, fnmr := face.Rates(sim, face.DefaultThreshold)
	return fmt.Sprintf("pairs=%d TAR@FMR1e-3=%.4f AUC=%.4f FMR@90=%.4f FNMR@90=%.4f",
		len(sim), face.TARAtFMR(cos, 1e-3), face.AUC(cos), fmr, fnmr)
}

// setIdentities names the person in each image of a set, where the set
// says: a labels.csv with image and identity columns next to the pairs
// file, or one directory per identity (LFW). Otherwise nil: a flat folder
// says nothing about who is who.
func setIdentities(pairsFile string, ps []Pair) map[string]string {
	dir := filepath.Dir(pairsFile)
	if f, err := os.Open(filepath.Join(dir, "labels.csv")); err == nil {
		defer f.Close()
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		if recs, err := r.ReadAll(); err == nil && len(recs) > 1 {
			ii, ik := slices.Index(recs[0], "image"), slices.Index(recs[0], "identity")
			if ii >= 0 && ik >= 0 {
				ids := map[string]string{}
				for _, rec := range recs[1:] {
					if len(rec) > max(ii, ik) && rec[ik] != "" {
						ids[filepath.Join(dir, rec[ii])] = rec[ik]
					}
				}
				return ids
			}
		}
	}
	ids := map[string]string{}
	dirs := map[string]bool{}
	for _, pr := range ps {
		for _, p := range []string{pr.A, pr.B} {
			ids[p] = filepath.Dir(p)
			dirs[filepath.Dir(p)] = true
		}
	}
	if len(dirs) < 3 {
		return nil
	}
	return ids
}

// crossIdentityImpostors scores every pair of the set's embedded images
// whose identities differ.
func crossIdentityImpostors(s *faceSet, emb map[string][]float32) []float64 {
	var paths []string
	seen := map[string]bool{}
	for _, pr := range s.pairs {
		for _, p := range []string{pr.A, pr.B} {
			if !seen[p] && emb[p] != nil && s.ids[p] != "" {
				paths = append(paths, p)
			}
			seen[p] = true
		}
	}
	slices.Sort(paths)
	var out []float64
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			if s.ids[paths[i]] != s.ids[paths[j]] {
				out = append(out, face.Cosine(emb[paths[i]], emb[paths[j]]))
			}
		}
	}
	return out
}

// impostorCosines pools every set's labelled impostor pairs and
// cross-identity pairs, sorted ascending.
func impostorCosines(sets []*faceSet) []float64 {
	var imp []float64
	for _, s := range sets {
		for i, pr := range s.pairs {
			if !pr.Same && !math.IsNaN(s.cos[i]) {
				imp = append(imp, s.cos[i])
			}
		}
		imp = append(imp, s.extra...)
	}
	slices.Sort(imp)
	return imp
}

// cosAtFMR is the lowest cosine whose false match rate on imp (sorted) is
// at most fmr.
func cosAtFMR(imp []float64, fmr float64) float64 {
	allowed := int(math.Floor(fmr * float64(len(imp))))
	if len(imp) == 0 || allowed >= len(imp) {
		return math.NaN()
	}
	return imp[len(imp)-1-allowed]
}

// fitCalibration places the knots: 40 at the median impostor, 80/90/95 at
// the cosines where the pooled false match rate is 1e-2/1e-3/1e-4, 0 and
// 100 at cosine -1 and 1. Rounded to 3 decimals.
func fitCalibration(sets []*faceSet) []face.Knot {
	imp := impostorCosines(sets)
	r := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	knots := []face.Knot{{Cosine: -1, Score: 0}}
	for _, k := range []struct{ fmr, score float64 }{{0.5, 40}, {1e-2, 80}, {1e-3, 90}, {1e-4, 95}} {
		c := cosAtFMR(imp, k.fmr)
		if math.IsNaN(c) || c <= knots[len(knots)-1].Cosine || c >= 1 {
			continue
		}
		knots = append(knots, face.Knot{Cosine: r(c), Score: k.score})
	}
	return append(knots, face.Knot{Cosine: 1, Score: 100})
}

// facesMarkdown renders the ACCURACY.md section.
func facesMarkdown(sets []*faceSet, cfg face.Config, opt FacesOptions, elapsed time.Duration, images int) string {
	cal := cfg.Calibration
	var b strings.Builder
	selArg, selText := "", "the largest face of each image is compared (compare-faces' default)"
	if opt.Selection == livenessd.SelectCentral {
		selArg = " --face-selection central"
		selText = "the face nearest the centre of each image is compared (compare-faces' `faceSelection: \"central\"`: LFW's images are centred on their subject)"
	}
	fmt.Fprintf(&b, "## Face matching\n\n")
	embedding := fmt.Sprintf("%s embedding (%d-point similarity alignment to the ArcFace template)", cfg.Embedder.Spec.Name, len(cfg.Embedder.Template))
	if f := cfg.Fusion; !f.Disabled {
		embedding = fmt.Sprintf("%s fused with %s (dlib's 68-point face chip): the cosine of the fused embeddings is %.3g × the first's cosine + %.3g × the second's",
			embedding, f.Spec.Name, 1-f.Weight, f.Weight)
	}
	fmt.Fprintf(&b, "Generated by `livenessd eval faces --markdown docs/ACCURACY.md%s%s` on %s "+
		"(%d images in %.0f s, 2-core machine shared with other jobs). Images are decoded as compare-faces decodes them; "+
		"%s. Models: %s detector, %s landmarks, %s; similarity = calibrated cosine (below). "+
		"A pair where an image has no detected face scores 0.\n\n",
		selArg, pairsArgs(opt.Pairs), time.Now().UTC().Format("2006-01-02"), images, elapsed.Seconds(), selText,
		cfg.Detector.Spec.Name, cfg.Landmarks.Spec.Name, embedding)
	b.WriteString("| set | pairs (same/diff) | images without face | AUC | accuracy (10-fold) | TAR@FMR1e-2 | TAR@FMR1e-3 | FMR@80 | FNMR@80 | FMR@90 | FNMR@90 | FMR@95 | FNMR@95 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var all, allCos []face.Scored
	var noFace int
	row := func(name string, sc, cs []face.Scored, nf int) {
		same := 0
		for _, x := range sc {
			if x.Same {
				same++
			}
		}
		acc, sd := face.KFoldAccuracy(cs, 10)
		fmt.Fprintf(&b, "| %s | %d (%d/%d) | %d | %.4f | %s ± %.2f | %s | %s |", name, len(sc), same, len(sc)-same, nf, face.AUC(cs),
			pct2(acc), 100*sd, pct(face.TARAtFMR(cs, 1e-2)), pct(face.TARAtFMR(cs, 1e-3)))
		for _, t := range []float64{80, 90, 95} {
			fmr, fnmr := face.Rates(sc, t)
			fmt.Fprintf(&b, " %s | %s |", pct(fmr), pct(fnmr))
		}
		b.WriteString("\n")
	}
	for _, s := range sets {
		sc, cs := s.scored(cal), s.cosScored()
		all, allCos = append(all, sc...), append(allCos, cs...)
		noFace += s.noFace
		row(s.name, sc, cs, s.noFace)
	}
	if len(sets) > 1 {
		row("**all**", all, allCos, noFace)
	}
	b.WriteString("\nAccuracy (10-fold) is LFW's protocol applied to each set's pairs: 10 interleaved folds, each scored at the " +
		"threshold that maximises accuracy on the other nine (mean ± standard deviation over the folds); on LFW these are the " +
		"600 pairs of fold 1 only, not the 6000 of the full protocol. ")
	b.WriteString("TAR@FMR1e-3 on a set with fewer than 1000 different pairs is the genuine accept rate above its " +
		"highest impostor (zero false matches); zero errors in n trials only shows a rate below about 3/n. AUC and TAR " +
		"are computed on the raw cosine (same ranking as the similarity, without its rounding to 0.1); FMR/FNMR on the " +
		"reported similarity.\n\n")

	imp := impostorCosines(sets)
	extra := 0
	for _, s := range sets {
		extra += len(s.extra)
	}
	fmt.Fprintf(&b, "### Similarity calibration\n\n"+
		"similarity = piecewise-linear interpolation of the cosine similarity between these knots (monotonic, "+
		"clamped to 0-100; `face.DefaultCalibration`). 80/90/95 are placed where the false match rate of the "+
		"pooled impostor pairs is 1e-2/1e-3/1e-4; they are %d: the different pairs of the pairs files plus %d "+
		"cross-identity pairs of the images of the sets that name each image's person (labels.csv, or one "+
		"directory per person as in LFW). "+
		"`livenessd eval faces --fit` refits them.\n\n", len(imp), extra)
	b.WriteString("| cosine | similarity |\n|---|---|\n")
	for _, k := range cal.Knots {
		fmt.Fprintf(&b, "| %.3f | %.0f |\n", k.Cosine, k.Score)
	}
	b.WriteString("\nOn the pooled impostor pairs:\n\n| threshold | cosine | FMR | FNMR (all genuine pairs) |\n|---|---|---|---|\n")
	var gen []float64
	for _, x := range all {
		if x.Same {
			gen = append(gen, x.Score)
		}
	}
	for _, t := range []float64{80, 90, 95} {
		c := cal.Cosine(t)
		fm := 0
		for _, v := range imp {
			if math.Round(cal.Score(v)*10)/10 >= t {
				fm++
			}
		}
		fnm := 0
		for _, g := range gen {
			if g < t {
				fnm++
			}
		}
		fmt.Fprintf(&b, "| %.0f | %.3f | %s (%d/%d) | %s (%d/%d) |\n", t, c, sci(float64(fm)/float64(max(1, len(imp)))), fm, len(imp),
			pct(float64(fnm)/float64(max(1, len(gen)))), fnm, len(gen))
	}
	return b.String()
}

func pairsArgs(files []string) string {
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, " --pairs %s", filepath.ToSlash(shortPath(f)))
	}
	return b.String()
}

// shortPath shows paths under ../shared/data from the shared root.
func shortPath(p string) string {
	if i := strings.Index(p, "shared/data/"); i >= 0 {
		return "../" + p[i:]
	}
	return p
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func pct2(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", 100*v)
}

func sci(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%.1e", v)
}

// replaceSection rewrites the text between <!-- name:begin --> and
// <!-- name:end --> in a Markdown file, creating the file or appending
// the markers when absent; everything else is kept byte for byte.
func replaceSection(path, name, body string) error {
	begin, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(old)
	block := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end
	i, j := strings.Index(s, begin), strings.Index(s, end)
	switch {
	case i >= 0 && j > i:
		s = s[:i] + block + s[j+len(end):]
	case i >= 0 || j >= 0:
		return fmt.Errorf("%s: unbalanced %s markers", path, name)
	default:
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		if s != "" {
			s += "\n"
		}
		s += block + "\n"
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
