package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/eval"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

// evalCommands are the subjects of `livenessd eval`; each parses its own
// flags and calls internal/eval.
func evalCommands() map[string]command {
	return map[string]command{
		"faces": {"face verification on labelled pairs (img_a,img_b,same CSV)", runEvalFaces},

		"liveness": {"liveness method on simulated captures and passive texture on NUAA", runEvalLiveness},

		"documents": {"MRZ reading and portrait extraction on labelled ID document images", runEvalDocuments},

		"oval": {"oval fit (guidance) on real faces rendered at known fills of the oval", runEvalOval},
	}
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := evalCommands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: livenessd eval <subject> [flags]\n\nsubjects:")
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-10s %s\n", n, cmds[n].summary)
		}
		return fmt.Errorf("%w: eval needs a subject", errUsage)
	}
	c, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown eval subject %q", errUsage, args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runEvalFaces(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval faces", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ff := addFaceFlags(fs)
	var files multiFlag
	fs.Var(&files, "pairs", "pairs CSV (columns img_a,img_b,same; paths relative to the CSV); repeatable")
	scores := fs.Bool("scores", false, "print every pair's cosine and similarity")
	fit := fs.Bool("fit", false, "fit the similarity calibration on the impostor pairs and print it as a models config")
	markdown := fs.String("markdown", "", "rewrite the face section (<!-- faces:begin/end -->) of this Markdown file")
	selection := fs.String("face-selection", "largest", "which face of each image is compared: largest (compare-faces' default) or central")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd eval faces --pairs FILE.csv [--pairs ...] [--face-selection largest|central] [--scores] [--fit] [--markdown docs/ACCURACY.md]\n\n"+
			"Ends with: pairs=N TAR@FMR1e-3=X AUC=Y FMR@90=Z FNMR@90=W (all pairs files pooled).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(files) == 0 || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: need --pairs FILE.csv", errUsage)
	}
	sel := livenessd.SelectionRule(*selection)
	if sel != livenessd.SelectLargest && sel != livenessd.SelectCentral {
		return fmt.Errorf("%w: --face-selection %q: want largest or central", errUsage, *selection)
	}
	return eval.Faces(ctx, ff.open, eval.FacesOptions{Pairs: files, Scores: *scores, Fit: *fit, Markdown: *markdown, Selection: sel}, stdout, stderr)
}

func runEvalLiveness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval liveness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ff := addFaceFlags(fs)
	shared := filepath.Join("..", "shared", "data")
	lfw := fs.String("lfw", filepath.Join(shared, "face-verification", "lfw", "images"), "LFW images directory (one image per person is used; empty: none)")
	var extra multiFlag
	fs.Var(&extra, "faces", "extra face image (or directory of images); repeatable")
	samples := fs.Bool("samples", true, "also use the model package's sample photos (largest face)")
	maxFaces := fs.Int("max-faces", 400, "use at most this many faces")
	split := fs.String("split", "test", "which half of the faces: dev (calibration), test (held out) or all")
	sessions := fs.Int("sessions", 200, "sessions per kind at the default strength")
	sweep := fs.Int("sweep-sessions", 100, "sessions per kind at the other strengths and with AWB")
	strengths := fs.String("strengths", "0.01,0.02,0.03,0.05,0.10", "reflection strengths of the sweep")
	def := fs.Float64("strength", simulate.DefaultStrength, "default reflection strength")
	kinds := fs.String("kinds", "none,photo,replay,delayed,swap,noface", "kinds to play")
	workers := fs.Int("workers", 2, "parallel sessions")
	nearStart := fs.Float64("near-start", 0.5, "fraction of sessions starting close to the camera (asked to move back first)")
	seed := fs.Uint64("seed", 1, "seed of the simulated scenes, geometry, noise and challenges (one seed replays the same captures)")
	nuaa := fs.String("nuaa", filepath.Join(shared, "presentation-attack", "nuaa"), "NUAA directory with labels.csv (empty: skip)")
	silent := fs.String("silent-face", filepath.Join(shared, "presentation-attack", "silent-face-sample"), "Silent-Face-Anti-Spoofing sample frames (empty: skip)")
	video := fs.String("video", filepath.Join(shared, "video"), "directory of real live clips for the texture model, decoded by ffmpeg (empty: skip)")
	dump := fs.String("dump", "", "write every session's source photo, verdict and signals to this CSV (no source after --rescore)")
	budget := fs.Duration("budget", 0, "stop starting sessions after this long (0: no limit); the table gives the counts that ran")
	parallaxDump := fs.String("parallax-dump", "", "write every session's parallax views (face crops as PGM, meshes as text) into this directory, named by kind, strength and session as in --dump")
	record := fs.String("record", "", "also write every session's measurements to this file (gob), for --rescore")
	rescore := fs.String("rescore", "", "re-run the fusion on the measurements of a --record file instead of playing sessions (no face models needed)")
	markdown := fs.String("markdown", "", "rewrite the liveness section (<!-- liveness:begin/end -->) of this Markdown file")
	shadingTh := fs.Float64("shading-threshold", liveness.DefaultThresholds().Shading, "with --rescore: the light_shading threshold to re-score with")
	parallaxTh := fs.Float64("parallax-threshold", liveness.DefaultThresholds().Parallax, "with --rescore: grade the parallax from this threshold (0: reported only)")
	parallaxT := fs.Float64("parallax-t", liveness.DefaultThresholds().ParallaxT, "with --rescore: the parallax t statistic the shading and parallax together need (0: not graded)")
	shadingAlone := fs.Float64("shading-alone", liveness.DefaultThresholds().ShadingAlone, "with --rescore: the light_shading from which the parallax is not graded (0: always graded)")
	shadingAloneParT := fs.Float64("shading-alone-parallax-t", liveness.DefaultThresholds().ShadingAloneParallaxT, "with --rescore: the parallax t statistic below which a measured parallax contradicts the shading alone (0: never)")
	parallaxAlone := fs.Float64("parallax-alone", liveness.DefaultThresholds().ParallaxAlone, "with --rescore: the parallax from which (with --parallax-alone-t) the shading is not graded (0: always graded)")
	parallaxAloneT := fs.Float64("parallax-alone-t", liveness.DefaultThresholds().ParallaxAloneT, "with --rescore: the parallax t statistic the parallax alone needs too")
	preciseAlone := fs.Float64("precise-parallax-alone", liveness.DefaultThresholds().PreciseParallaxAlone, "with --rescore: the smaller parallax the parallax alone may show when its t statistic reaches --precise-parallax-alone-t (0: no such route)")
	parallaxKept := fs.Float64("parallax-kept", liveness.DefaultThresholds().ParallaxKept, "with --rescore: the share of its tracks a parallax fit must keep to count (0: every fit counts)")
	preciseAloneT := fs.Float64("precise-parallax-alone-t", liveness.DefaultThresholds().PreciseParallaxAloneT, "with --rescore: the t statistic that route needs")
	glasses := fs.Float64("glasses", -1, "share of sessions wearing glasses, drawn per session from the seed (< 0: as the scenes draw them, 30%)")
	lensReflect := fs.Float64("lens-reflect", -1, "with --glasses: the share of the screen's light the lenses mirror (< 0: as drawn, 0.5-5%)")
	scenes := fs.String("scenes", "vary", "vary: draw face shape, light, camera and timing per session; default: one typical laptop scene")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd eval liveness [--split test|dev|all] [--sessions 200] [--sweep-sessions 100] [--markdown docs/ACCURACY.md]\n\n"+
			"Ends with: liveness strength=S BPCER=X APCER(photo)=... (default strength, selected split).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*split != "dev" && *split != "test" && *split != "all") || (*scenes != "vary" && *scenes != "default") {
		fs.Usage()
		return fmt.Errorf("%w: bad arguments", errUsage)
	}
	var ks []simulate.Attack
	for _, k := range strings.Split(*kinds, ",") {
		a, err := simulate.ParseAttack(strings.TrimSpace(k))
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		ks = append(ks, a)
	}
	sweepS, err := parseFloats(*strengths, 0, 1)
	if err != nil {
		return fmt.Errorf("%w: strength: %v", errUsage, err)
	}
	samplesDir := ""
	if *samples {
		samplesDir = filepath.Join(*ff.dir, "samples")
	}
	if *parallaxTh < 0 {
		return fmt.Errorf("%w: --parallax-threshold must not be negative", errUsage)
	}
	var gl *simulate.GlassesOverride
	if *lensReflect >= 0 && *glasses < 0 {
		return fmt.Errorf("%w: --lens-reflect needs --glasses", errUsage)
	}
	if *glasses >= 0 {
		if *glasses > 1 || *lensReflect > 1 {
			return fmt.Errorf("%w: --glasses and --lens-reflect are shares (0..1)", errUsage)
		}
		gl = &simulate.GlassesOverride{Share: *glasses, LensReflect: *lensReflect}
	}
	th := liveness.DefaultThresholds()
	th.Shading, th.Parallax, th.ShadingAlone = *shadingTh, *parallaxTh, *shadingAlone
	th.ParallaxAlone, th.ParallaxAloneT, th.ParallaxT = *parallaxAlone, *parallaxAloneT, *parallaxT
	th.PreciseParallaxAlone, th.PreciseParallaxAloneT = *preciseAlone, *preciseAloneT
	th.ShadingAloneParallaxT, th.ParallaxKept = *shadingAloneParT, *parallaxKept
	return eval.Liveness(ctx, ff.open, eval.LivenessOptions{
		LFW: *lfw, Faces: extra, SamplesDir: samplesDir, MaxFaces: *maxFaces, Split: *split,
		Sessions: *sessions, Sweep: *sweep, Strengths: sweepS, Strength: *def, Kinds: ks,
		Workers: *workers, NearStart: *nearStart, Seed: *seed, NUAA: *nuaa, SilentFace: *silent, Video: *video, Dump: *dump, Budget: *budget,
		Record: *record, ParallaxDump: *parallaxDump, Rescore: *rescore, Markdown: *markdown, VaryScenes: *scenes == "vary", Glasses: gl, Thresholds: &th,
	}, stdout, stderr)
}

func runEvalDocuments(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval documents", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDocumentFlags(fs)
	truth := fs.String("truth", filepath.Join("internal", "eval", "testdata", "id-documents.csv"), "truth CSV (image,mrz,portrait,corners)")
	data := fs.String("data", filepath.Join("..", "shared", "data", "id-documents"), "directory the truth's images are relative to")
	verbose := fs.Bool("v", false, "print every image's reading")
	markdown := fs.String("markdown", "", "rewrite the documents section (<!-- documents:begin/end -->) of this Markdown file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd eval documents [--ocr ppocr|tesseract] [--truth FILE.csv] [--data DIR] [-v] [--markdown docs/ACCURACY.md]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected arguments", errUsage)
	}
	return eval.Documents(ctx, df.open, eval.DocumentsOptions{Truth: *truth, Data: *data, Verbose: *verbose, Markdown: *markdown}, stdout, stderr)
}

func runEvalOval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval oval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ff := addFaceFlags(fs)
	data := fs.String("data", filepath.Join("..", "shared", "data"), "evaluation data root: video/*.mp4, NUAA live frames, face-verification photos (empty: samples only)")
	samples := fs.Bool("samples", true, "also use the model package's sample photos (largest face)")
	every := fs.Int("every", 15, "use every n-th frame of each clip")
	fills := fs.String("fills", "", "outline fills to render, comma-separated (default "+floatsString(eval.OvalFills)+")")
	markdown := fs.String("markdown", "", "rewrite the oval-fit section (<!-- ovalfit:begin/end -->) of this Markdown file")
	dump := fs.String("dump", "", "write every render's measurements to this CSV")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd eval oval [--data ../shared/data] [--markdown docs/ACCURACY.md] [--dump FILE.csv]\n\n"+
			"Ends with: ovalfit visible=N in=X% before=Y% (renders where the face visibly fills the oval).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *every <= 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected arguments", errUsage)
	}
	var fl []float64
	if *fills != "" {
		var err error
		if fl, err = parseFloats(*fills, 0, 3); err != nil {
			return fmt.Errorf("%w: --fills: %v", errUsage, err)
		}
	}
	opt := eval.OvalFitOptions{Data: *data, EveryNth: *every, Fills: fl, Markdown: *markdown, Dump: *dump}
	if *samples {
		opt.SamplesDir = filepath.Join(*ff.dir, "samples")
	}
	return eval.OvalFit(ctx, ff.open, ff.openMesh, opt, stdout, stderr)
}

// parseFloats parses a comma-separated list of numbers in (lo, hi].
func parseFloats(list string, lo, hi float64) ([]float64, error) {
	var out []float64
	for _, s := range strings.Split(list, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(v > lo && v <= hi) {
			return nil, fmt.Errorf("%q is not a number in (%v, %v]", s, lo, hi)
		}
		out = append(out, v)
	}
	return out, nil
}

func floatsString(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
