package eval

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

// OvalFitOptions says what `livenessd eval oval` measures.
type OvalFitOptions struct {
	// Data is the evaluation data root (../shared/data): its talking-head
	// clips, NUAA live frames and face-verification photos; empty: the
	// sample photos only.
	Data       string
	SamplesDir string    // the model package's sample photos (empty: none)
	EveryNth   int       // use every n-th frame of each clip (15)
	Fills      []float64 // face outline width over oval width (OvalFills when empty)
	Markdown   string    // rewrite the ovalfit section of this Markdown file
	Dump       string    // CSV of every render's measurements
}

// OvalFills are the outline fills rendered by default: clearly too small,
// the band where the face visibly fills the oval, clearly too large.
var OvalFills = []float64{0.45, 0.55, 0.65, 0.75, 0.85, 1.0, 1.1, 1.25, 1.45}

// The visible fill bands of the report (outline width over oval width):
// a face visibly fills the drawn oval from the point where the head with
// its hair reaches the oval's sides (0.75) until the cheeks pass its edge
// (1.1); below 0.5 it is plainly too small, above 1.4 plainly too large.
const (
	visibleMin = 0.75
	visibleMax = 1.10
	clearSmall = 0.50
	clearLarge = 1.40
)

// maxOvalPose excludes faces turned further than this (degrees of yaw or
// pitch) in the source photo, maxOvalRoll faces tilted further: someone
// asked to fill an oval faces it, upright. (A tilted face's outline box is
// wider than the face, so it would not measure what a person sees.)
const (
	maxOvalPose = 30
	maxOvalRoll = 20
)

// OvalImage is one real image of the oval-fit data.
type OvalImage struct {
	Path  string
	Set   string // video, nuaa, deepface, face_recognition, samples
	Split string // dev (calibration: webcam-like video and NUAA) or test
}

// OvalFace is a real face prepared for oval-fit renders: its image, the
// observation on it, and its outline as FaceMesh's silhouette bounds it.
type OvalFace struct {
	OvalImage
	Img     *image.NRGBA
	Face    livenessd.FaceObservation
	Outline livenessd.Rect
}

// meshSilhouette are FaceMesh's face-outline points (forehead, temples,
// cheeks, jaw, chin).
var meshSilhouette = []int{10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
	152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109}

// PrepareOvalFace finds the largest face of img and its FaceMesh outline,
// and crops the image to 2.4 times the outline around it, other people
// painted over, so that only this face is in the rendered frames; ok is
// false when there is no face, it is turned past maxOvalPose or
// maxOvalRoll, or another face overlaps its outline.
func PrepareOvalFace(ctx context.Context, p *face.Pipeline, mesh *face.MeshEstimator, im OvalImage, img *image.NRGBA) (OvalFace, bool, error) {
	faces, err := p.Analyze(ctx, img)
	if err != nil || len(faces) == 0 {
		return OvalFace{}, false, err
	}
	o := faces[0] // largest first
	if math.Max(math.Abs(o.Pose.Yaw), math.Abs(o.Pose.Pitch)) > maxOvalPose || math.Abs(o.Pose.Roll) > maxOvalRoll || len(o.Landmarks) != 68 {
		return OvalFace{}, false, nil
	}
	m, err := mesh.Estimate(ctx, img, o.Box, o.Landmarks)
	if err != nil {
		return OvalFace{}, false, err
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, i := range meshSilhouette {
		q := m.Points[i]
		x0, y0, x1, y1 = math.Min(x0, q.X), math.Min(y0, q.Y), math.Max(x1, q.X), math.Max(y1, q.Y)
	}
	if m.Presence < 0.5 || x1 <= x0 || y1 <= y0 {
		return OvalFace{}, false, nil
	}
	outline := livenessd.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
	c := outline.Center()
	side := 2.4 * math.Max(outline.W, outline.H)
	crop := image.Rect(int(c.X-side/2), int(c.Y-side/2), int(c.X+side/2), int(c.Y+side/2)).Intersect(img.Bounds())
	dst := image.NewNRGBA(image.Rect(0, 0, crop.Dx(), crop.Dy()))
	draw.Draw(dst, dst.Bounds(), img, crop.Min, draw.Src)
	// Other people of a group photo are painted over (their box grown by
	// a third); one that overlaps this face's outline leaves the image out.
	own := image.Rect(int(outline.X), int(outline.Y), int(outline.X+outline.W), int(outline.Y+outline.H))
	for _, f := range faces[1:] {
		b := f.Box
		r := image.Rect(int(b.X-b.W/6), int(b.Y-b.H/6), int(b.X+b.W*7/6), int(b.Y+b.H*7/6))
		if r.Overlaps(own) {
			return OvalFace{}, false, nil
		}
		draw.Draw(dst, r.Sub(crop.Min), image.NewUniform(color.NRGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	}
	dx, dy := float64(crop.Min.X), float64(crop.Min.Y)
	o.Box.X, o.Box.Y = o.Box.X-dx, o.Box.Y-dy
	lm := make([]livenessd.Point, len(o.Landmarks))
	for i, q := range o.Landmarks {
		lm[i] = livenessd.Point{X: q.X - dx, Y: q.Y - dy}
	}
	o.Landmarks = lm
	outline.X, outline.Y = outline.X-dx, outline.Y-dy
	return OvalFace{OvalImage: im, Img: dst, Face: o, Outline: outline}, true, nil
}

// OvalVerdict is what a person gets with their face rendered at Fill of an
// oval: the guidance of the current rule, from a liveness.Run whose
// face already fitted the start oval, and the previous rule's answer.
type OvalVerdict struct {
	Fill     float64
	Faces    int
	Guide    liveness.Guidance
	In       bool
	Contour  float64 // the run's measured fill (contour width / oval width)
	OldGuide liveness.Guidance
	OldIn    bool
	OldFill  float64 // detector box width / oval width
}

// JudgeOvalFit renders f with its outline fill times as wide as oval,
// centred on it, on a w x h frame, and returns the guidance a person
// gets: a liveness.Run sees first the same face at a fifth of its size
// (so it has fitted the start oval, in the same place: no hold_still),
// then the rendered frame.
func JudgeOvalFit(ctx context.Context, obs liveness.Observer, f OvalFace, oval livenessd.Oval, fill float64, w, h int) (OvalVerdict, *image.NRGBA, error) {
	frame := simulate.FitFrame(f.Img, f.Outline, oval, fill, 0, 0, w, h)
	v := OvalVerdict{Fill: fill}
	faces, err := obs.ObserveFrame(ctx, frame)
	if err != nil && !errors.Is(err, livenessd.ErrNoFace) {
		return v, frame, err
	}
	W := float64(w)
	start := livenessd.FaceObservation{Box: livenessd.Rect{X: float64(w)/2 - 0.05*W, Y: float64(h)/2 - 0.06*W, W: 0.1 * W, H: 0.12 * W}, Score: 0.99}
	if len(faces) > 0 { // the pipeline orders faces largest first
		b := faces[0].Box
		c := b.Center()
		start.Box = livenessd.Rect{X: c.X - b.W/10, Y: c.Y - b.H/10, W: b.W / 5, H: b.H / 5}
	}
	ch := livenessd.Challenge{ID: "ovalfit", Type: livenessd.ChallengeMovement, Oval: oval}
	// The oval's rule alone: the far view here is the rendered frame
	// itself, so the approach rule (enough growth since the far views,
	// docs/PROTOCOL.md "Enough approach") would ask every face to fill
	// the oval whole.
	fit := liveness.DefaultFit()
	fit.Growth = 0
	run := liveness.NewRun(&sequence{{start}, faces}, ch, livenessd.Settings{}, liveness.Config{ObserveEvery: 1, Fit: &fit})
	if _, _, _, err := run.AddFrame(ctx, liveness.Frame{Index: 0, Image: grey(w, h)}); err != nil {
		return v, frame, err
	}
	g, in, _, err := run.AddFrame(ctx, liveness.Frame{Index: 1, At: 66 * time.Millisecond, Image: frame})
	if err != nil {
		return v, frame, err
	}
	v.Faces, v.Guide, v.In, v.Contour = len(faces), g, in, run.Position().Fill
	if len(faces) > 0 {
		v.OldGuide, v.OldIn, v.OldFill = previousOvalRule(faces[0], oval, w, h)
	} else {
		v.OldGuide = liveness.GuideNoFace
	}
	return v, frame, nil
}

// sequence answers each frame with the next observations.
type sequence [][]livenessd.FaceObservation

// Light reports whether the verdict is about the light, not the fit.
func (v OvalVerdict) Light() bool {
	return v.Guide == liveness.GuideTooDark || v.Guide == liveness.GuideTooBright
}

func (s *sequence) ObserveFrame(context.Context, image.Image) ([]livenessd.FaceObservation, error) {
	if len(*s) == 0 {
		return nil, nil
	}
	f := (*s)[0]
	*s = (*s)[1:]
	return f, nil
}

// grey is a mid-grey frame: the start frame's light is never in doubt.
func grey(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// previousOvalRule is the in-oval rule before the two-stage approach, for
// comparison: the detector box's width 70-115% of the oval's, its centre
// within 20% of the oval's size.
func previousOvalRule(o livenessd.FaceObservation, oval livenessd.Oval, w, h int) (liveness.Guidance, bool, float64) {
	cx, cy, ow, oh := oval.Pixels(w, h)
	fill := o.Box.W / ow
	c := o.Box.Center()
	switch {
	case fill < 0.70:
		if math.Abs(c.X-cx) > 0.4*ow || math.Abs(c.Y-cy) > 0.4*oh {
			return liveness.GuideMoveIntoOval, false, fill
		}
		return liveness.GuideMoveCloser, false, fill
	case fill > 1.15:
		return liveness.GuideTooClose, false, fill
	case math.Abs(c.X-cx) > 0.2*ow || math.Abs(c.Y-cy) > 0.2*oh:
		return liveness.GuideMoveIntoOval, false, fill
	}
	return liveness.GuideOK, true, fill
}

// ovalOf is the challenge oval of width ratio wr (a 4:3 frame, the
// challenge's aspect), centred.
func ovalOf(wr float64) livenessd.Oval {
	return livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: wr, Height: wr * liveness.OvalAspect * 4 / 3}
}

// ovalImages lists the oval-fit images under data and samplesDir; clips
// are cut into frames (every n-th, ffmpeg) under tmp.
func ovalImages(ctx context.Context, data, samplesDir, tmp string, n int) ([]OvalImage, error) {
	var out []OvalImage
	add := func(set, split, pattern string) {
		paths, _ := filepath.Glob(pattern)
		slices.Sort(paths)
		for _, p := range paths {
			out = append(out, OvalImage{Path: p, Set: set, Split: split})
		}
	}
	if data != "" {
		clips, _ := filepath.Glob(filepath.Join(data, "video", "*.mp4"))
		slices.Sort(clips)
		for _, c := range clips {
			base := strings.TrimSuffix(filepath.Base(c), ".mp4")
			cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", c,
				"-vf", fmt.Sprintf("select=not(mod(n\\,%d))", n), "-fps_mode", "vfr", "-q:v", "2", filepath.Join(tmp, base+"_%03d.jpg"))
			if b, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("eval oval: ffmpeg %s: %v: %s", c, err, b)
			}
			add("video", "dev", filepath.Join(tmp, base+"_*.jpg"))
		}
		add("nuaa", "dev", filepath.Join(data, "presentation-attack", "nuaa", "live", "*.jpg"))
		add("deepface", "test", filepath.Join(data, "face-verification", "deepface", "images", "*"))
		add("face_recognition", "test", filepath.Join(data, "face-verification", "face_recognition", "images", "*"))
	}
	if samplesDir != "" {
		add("samples", "test", filepath.Join(samplesDir, "sample*.jpg"))
	}
	return out, nil
}

// ovalTally counts one split's verdicts at one fill.
type ovalTally struct {
	n, in, oldIn, closer, oldCloser, tooClose, oldTooClose, noFace, light int
}

// OvalFit renders every real face of the data at each fill, centred in
// ovals of 0.40, 0.45 and 0.50 of a 640x480 frame in turn, and reports
// how often the current rule and the previous one count it in the oval,
// per split (dev: webcam-like clips and NUAA; test: photos); with the
// contour-to-outline ratios behind the rule. It ends with the summary
// line: ovalfit visible=N in=X% before=Y% (both splits, visibly filling
// fills).
func OvalFit(ctx context.Context, open OpenPipeline, openMesh func() (*face.MeshEstimator, error), opt OvalFitOptions, stdout, stderr io.Writer) (err error) {
	if opt.EveryNth <= 0 {
		opt.EveryNth = 15
	}
	if len(opt.Fills) == 0 {
		opt.Fills = OvalFills
	}
	tmp, err := os.MkdirTemp("", "livenessd-ovalfit-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	imgs, err := ovalImages(ctx, opt.Data, opt.SamplesDir, tmp, opt.EveryNth)
	if err != nil {
		return err
	}
	if len(imgs) == 0 {
		return fmt.Errorf("eval oval: no images under %q or %q", opt.Data, opt.SamplesDir)
	}
	p, err := open()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	mesh, err := openMesh()
	if err != nil {
		return err
	}
	start := time.Now()
	var faces []OvalFace
	skipped := 0
	for _, im := range imgs {
		img, err := imageio.ReadFile(im.Path, imageio.Limits{MaxBytes: 64 << 20, MaxPixels: 40_000_000, MinSide: 32})
		if err != nil {
			fmt.Fprintf(stderr, "eval oval: %s: %v\n", shortPath(im.Path), err)
			skipped++
			continue
		}
		f, ok, err := PrepareOvalFace(ctx, p, mesh, im, img)
		if err != nil {
			return fmt.Errorf("eval oval: %s: %w", shortPath(im.Path), err)
		}
		if !ok {
			skipped++
			continue
		}
		faces = append(faces, f)
	}
	var dump *os.File
	if opt.Dump != "" {
		if dump, err = os.Create(opt.Dump); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, dump.Close()) }()
		fmt.Fprintln(dump, "set,split,image,oval,fill,faces,guidance,in,contour_fill,old_guidance,old_in,old_fill")
	}
	const W, H = 640, 480
	widths := []float64{0.40, 0.45, 0.50}
	tally := map[string]map[float64]*ovalTally{}
	for i, f := range faces {
		oval := ovalOf(widths[i%len(widths)])
		for _, fill := range opt.Fills {
			v, _, err := JudgeOvalFit(ctx, p, f, oval, fill, W, H)
			if err != nil {
				return fmt.Errorf("eval oval: %s: %w", shortPath(f.Path), err)
			}
			for _, split := range []string{f.Split, "all"} {
				if tally[split] == nil {
					tally[split] = map[float64]*ovalTally{}
				}
				t := tally[split][fill]
				if t == nil {
					t = &ovalTally{}
					tally[split][fill] = t
				}
				if v.Light() {
					// Too dark or too bright comes before the fit: such
					// frames say nothing about it, under either rule.
					t.light++
					continue
				}
				t.n++
				t.in += b2i(v.In)
				t.oldIn += b2i(v.OldIn)
				t.closer += b2i(v.Guide == liveness.GuideMoveCloser)
				t.oldCloser += b2i(v.OldGuide == liveness.GuideMoveCloser)
				t.tooClose += b2i(v.Guide == liveness.GuideTooClose)
				t.oldTooClose += b2i(v.OldGuide == liveness.GuideTooClose)
				t.noFace += b2i(v.Faces == 0)
			}
			if dump != nil {
				fmt.Fprintf(dump, "%s,%s,%s,%.2f,%.2f,%d,%s,%v,%.4f,%s,%v,%.4f\n", f.Set, f.Split, filepath.Base(f.Path), oval.Width, fill,
					v.Faces, v.Guide, v.In, v.Contour, v.OldGuide, v.OldIn, v.OldFill)
			}
		}
	}
	ratios := ovalRatios(faces)
	md := ovalMarkdown(tally, opt.Fills, ratios, len(faces), skipped, time.Since(start))
	fmt.Fprint(stdout, md)
	if opt.Markdown != "" {
		if err := replaceSection(opt.Markdown, "ovalfit", md); err != nil {
			return err
		}
	}
	vis, in, old := 0, 0, 0
	for _, fill := range opt.Fills {
		if t := tally["all"][fill]; t != nil && fill >= visibleMin && fill <= visibleMax {
			vis += t.n
			in += t.in
			old += t.oldIn
		}
	}
	fmt.Fprintf(stdout, "ovalfit visible=%d in=%s before=%s\n", vis, pct(frac(in, vis)), pct(frac(old, vis)))
	return nil
}

func frac(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// ovalRatio is one measured ratio's quantiles per split.
type ovalRatio struct {
	name string
	q    map[string][5]float64 // split -> p1, p5, p50, p95, p99
}

// ovalRatios measures, on the original images, the ratios the rule rests
// on: the 68-point contour width and the detector box width over the
// FaceMesh outline width, the outline's height over its width, the
// Amplify component's distance measure over the contour width, and the
// offset of the rule's face centre from the outline's (in outline
// heights).
func ovalRatios(faces []OvalFace) []ovalRatio {
	type getter func(f OvalFace) float64
	contour := func(f OvalFace) float64 { l := f.Face.Landmarks; return math.Hypot(l[16].X-l[0].X, l[16].Y-l[0].Y) }
	defs := []struct {
		name string
		get  getter
	}{
		{"contour / outline width", func(f OvalFace) float64 { return contour(f) / f.Outline.W }},
		{"detector box / outline width", func(f OvalFace) float64 { return f.Face.Box.W / f.Outline.W }},
		{"outline height / width", func(f OvalFace) float64 { return f.Outline.H / f.Outline.W }},
		{"Amplify distance measure / contour", func(f OvalFace) float64 {
			l := f.Face.Landmarks
			el, er := meanOf(l[36:42]), meanOf(l[42:48])
			mouth := livenessd.Point{X: (l[48].X + l[54].X) / 2, Y: (l[48].Y + l[54].Y) / 2}
			mid := livenessd.Point{X: (el.X + er.X) / 2, Y: (el.Y + er.Y) / 2}
			return (2*math.Hypot(er.X-el.X, er.Y-el.Y) + 1.8*math.Hypot(mouth.X-mid.X, mouth.Y-mid.Y)) / 4 / contour(f)
		}},
		{"face centre - outline centre (down, outline heights)", func(f OvalFace) float64 {
			l := f.Face.Landmarks
			brow := meanOf(l[17:27])
			top := brow.Y - 0.24*(l[8].Y-brow.Y)
			return ((top+l[8].Y)/2 - (f.Outline.Y + f.Outline.H/2)) / f.Outline.H
		}},
	}
	var out []ovalRatio
	for _, d := range defs {
		r := ovalRatio{name: d.name, q: map[string][5]float64{}}
		by := map[string][]float64{}
		for _, f := range faces {
			v := d.get(f)
			by[f.Split] = append(by[f.Split], v)
			by["all"] = append(by["all"], v)
		}
		for split, vs := range by {
			slices.Sort(vs)
			var q [5]float64
			for i, p := range []float64{0.01, 0.05, 0.5, 0.95, 0.99} {
				q[i] = vs[int(math.Round(p*float64(len(vs)-1)))]
			}
			r.q[split] = q
		}
		out = append(out, r)
	}
	return out
}

func meanOf(ps []livenessd.Point) livenessd.Point {
	var m livenessd.Point
	for _, p := range ps {
		m.X += p.X / float64(len(ps))
		m.Y += p.Y / float64(len(ps))
	}
	return m
}

func ovalMarkdown(tally map[string]map[float64]*ovalTally, fills []float64, ratios []ovalRatio, nFaces, skipped int, elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString("## Oval fit\n\nWhat \"in the oval\" means and why (docs/PROTOCOL.md \"In the oval\"): the face's contour width (68-point jaw line,\n" +
		"points 0-16) over the oval's width, 0.70-1.20, its centre within 0.2 of the oval; before the colours the face must\n" +
		"have fitted a start oval 0.55 times the target. Real faces, real pipeline.\n\n")
	if t := tally["all"]; t != nil {
		vis, in, old := 0, 0, 0
		for fill, c := range t {
			if fill >= visibleMin && fill <= visibleMax {
				vis, in, old = vis+c.n, in+c.in, old+c.oldIn
			}
		}
		fmt.Fprintf(&b, "**Renders in which the face visibly fills the oval (outline %.2f-%.2f of its width): %d; counted in the oval now %d (%s), before %d (%s).**\n\n",
			visibleMin, visibleMax, vis, in, pct(frac(in, vis)), old, pct(frac(old, vis)))
	}
	fmt.Fprintf(&b, "Produced by `livenessd eval oval --data ../shared/data --markdown docs/ACCURACY.md` (%d real faces; %d images left out: no face, another face beside it, turned more than %d or tilted more than %d degrees; %v).\n\n",
		nFaces, skipped, maxOvalPose, maxOvalRoll, elapsed.Round(time.Second))
	b.WriteString("Each face is rendered on a 640x480 frame with its outline (FaceMesh silhouette) `fill` times as wide as the oval (0.40, 0.45 or 0.50 of the frame width, in turn), centred in it, and analysed by the real face pipeline; **now** is the guidance of a `liveness.Run` whose face already fitted the start oval (the oval's rule alone: docs/PROTOCOL.md \"Enough approach\" can then ask a face that came only a short way for more), **before** the previous rule (detector box 70-115% of the oval width). Frames answered too_dark or too_bright (which comes before the fit) are left out of both. " +
		fmt.Sprintf("The face visibly fills the drawn oval at fills %.2f-%.2f; below %.2f it is plainly too small, above %.2f plainly too large.\n\n", visibleMin, visibleMax, clearSmall, clearLarge))
	for _, split := range []string{"dev", "test", "all"} {
		t := tally[split]
		if t == nil {
			continue
		}
		name := map[string]string{"dev": "dev (webcam-like clips, NUAA live frames)", "test": "test (deepface, face_recognition and sample photos)", "all": "all"}[split]
		fmt.Fprintf(&b, "**%s**\n\n| outline fill | n | in the oval now | before | move_closer now | before | too_close now | before | no face | left out: light |\n|---|---|---|---|---|---|---|---|---|---|\n", name)
		for _, fill := range fills {
			c := t[fill]
			if c == nil {
				continue
			}
			band := ""
			switch {
			case fill >= visibleMin && fill <= visibleMax:
				band = " (fills)"
			case fill <= clearSmall:
				band = " (small)"
			case fill >= clearLarge:
				band = " (large)"
			}
			fmt.Fprintf(&b, "| %.2f%s | %d | %s | %s | %s | %s | %s | %s | %d | %d |\n", fill, band, c.n,
				pct(frac(c.in, c.n)), pct(frac(c.oldIn, c.n)), pct(frac(c.closer, c.n)), pct(frac(c.oldCloser, c.n)),
				pct(frac(c.tooClose, c.n)), pct(frac(c.oldTooClose, c.n)), c.noFace, c.light)
		}
		b.WriteString("\n")
	}
	b.WriteString("Ratios on the original images (p1 / p5 / median / p95 / p99):\n\n| ratio | dev | test |\n|---|---|---|\n")
	for _, r := range ratios {
		cell := func(split string) string {
			q, ok := r.q[split]
			if !ok {
				return ""
			}
			return fmt.Sprintf("%.3f / %.3f / %.3f / %.3f / %.3f", q[0], q[1], q[2], q[3], q[4])
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.name, cell("dev"), cell("test"))
	}
	return b.String()
}
