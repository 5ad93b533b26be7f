package eval

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

// LivenessOptions says what `livenessd eval liveness` plays and writes.
type LivenessOptions struct {
	LFW        string            // LFW images directory (one image per person is used; empty: none)
	Faces      []string          // extra face images or directories of images
	SamplesDir string            // the model package's sample photos (empty: none)
	MaxFaces   int               // use at most this many faces
	Split      string            // which half of the faces: dev, test or all
	Sessions   int               // sessions per kind at the default strength
	Sweep      int               // sessions per kind at the other strengths and with AWB
	Strengths  []float64         // reflection strengths of the sweep
	Strength   float64           // default reflection strength
	Kinds      []simulate.Attack // kinds to play
	Workers    int               // parallel sessions
	NearStart  float64           // fraction of sessions starting close to the camera (asked to move back first)
	Seed       uint64            // seed of the simulated scenes, geometry, noise and challenges
	NUAA       string            // NUAA directory with labels.csv (empty: skip)
	SilentFace string            // Silent-Face-Anti-Spoofing sample frames (empty: skip)
	Video      string            // directory of real live clips, decoded by ffmpeg (empty: skip)
	Dump       string            // CSV of every session's source photo, verdict and signals
	Budget     time.Duration     // stop starting sessions after this long (0: no limit)
	Record     string            // also write every session's measurements here (gob), for Rescore
	// ParallaxDump writes every session's parallax views into this
	// directory (writeParallaxViews), for diagnosing the parallax fit.
	ParallaxDump string
	Rescore      string                    // re-run the fusion on a Record file instead of playing sessions
	Markdown     string                    // rewrite the liveness section of this Markdown file
	VaryScenes   bool                      // draw face shape, light, camera and timing per session (simulate.DrawScene)
	Glasses      *simulate.GlassesOverride // replace the drawn glasses (nil: as drawn)
	// Thresholds replace the defaults when re-scoring (nil: the defaults).
	Thresholds *liveness.Thresholds
}

// Liveness measures the liveness method on simulated captures (BPCER for
// live faces, APCER per attack, per reflection strength and with the
// camera's exposure/white-balance compensation) and the passive texture
// model alone on the NUAA frames. It ends with the summary line:
// liveness strength=S BPCER=X APCER(photo)=... (default strength, selected
// split). With Rescore set it opens no face models.
func Liveness(ctx context.Context, open OpenPipeline, opt LivenessOptions, stdout, stderr io.Writer) (err error) {
	if opt.Rescore != "" {
		outs, settings, err := rescoreOutcomes(ctx, opt.Rescore, liveness.Config{Thresholds: opt.Thresholds})
		if err != nil {
			return err
		}
		if opt.Dump != "" {
			if err := dumpOutcomes(opt.Dump, outs, nil); err != nil {
				return err
			}
		}
		fmt.Fprint(stdout, livenessTable(outs, settings, opt.Kinds)+refusals(outs, opt.Strength)+"\n"+binTable(outs, opt.Strength))
		fmt.Fprintln(stdout, summaryLiveness(outs, opt.Strength))
		return nil
	}
	p, err := open()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()

	paths, err := facePaths(opt.LFW, opt.Faces, opt.SamplesDir)
	if err != nil {
		return err
	}
	start := time.Now()
	var faces []simulate.Source
	var names []string // the file each face came from, for the dump
	// A simulated live capture keeps its photo's pose and everyone in it:
	// a photo of a turned head or with a second person cannot become a
	// capture that passes the quality gates, whatever the liveness method.
	// Such photos are failures to acquire (ISO/IEC 30107-3 counts them
	// apart from BPCER): they are counted and left out.
	th := liveness.DefaultThresholds()
	var turned, crowded int
	for _, path := range paths {
		if len(faces) >= opt.MaxFaces*2 {
			break
		}
		img, err := imageio.ReadFile(path, imageio.DefaultLimits())
		if err != nil {
			fmt.Fprintf(stderr, "eval liveness: skip %v\n", err)
			continue
		}
		src, err := simulate.DetectSource(ctx, p, img)
		if err != nil || src.Face.W < 60 {
			continue // no usable face
		}
		faces = append(faces, src)
		names = append(names, path)
	}
	// Hold out half of the faces: even positions calibrate, odd ones test.
	// The split is made before the eligibility check, so it does not move
	// with the thresholds.
	var chosen []simulate.Source
	var chosenNames []string
	for i, f := range faces {
		if opt.Split != "all" && (opt.Split == "dev") != (i%2 == 0) {
			continue
		}
		switch {
		case math.Abs(f.Pose.Yaw) > th.MaxPose || math.Abs(f.Pose.Pitch) > th.MaxPose:
			turned++
		case f.Others > 0:
			crowded++
		default:
			chosen = append(chosen, f)
			chosenNames = append(chosenNames, names[i])
		}
	}
	if len(chosen) > opt.MaxFaces {
		chosen, chosenNames = chosen[:opt.MaxFaces], chosenNames[:opt.MaxFaces]
	}
	fmt.Fprintf(stderr, "eval liveness: %d faces (%s split of %d; left out: %d turned more than %g°, %d with another face) in %v\n",
		len(chosen), opt.Split, len(faces), turned, th.MaxPose, crowded, time.Since(start).Round(time.Second))
	if len(chosen) < 2 {
		return fmt.Errorf("eval liveness: need at least 2 faces, found %d", len(chosen))
	}

	settings := []simulate.Setting{{Strength: opt.Strength, Sessions: opt.Sessions}}
	lightKinds := []simulate.Attack{}
	for _, k := range opt.Kinds {
		if k != simulate.AttackSwap && k != simulate.AttackNoFace {
			lightKinds = append(lightKinds, k)
		}
	}
	for _, s := range opt.Strengths {
		if s != opt.Strength && opt.Sweep > 0 {
			settings = append(settings, simulate.Setting{Strength: s, Sessions: opt.Sweep, Kinds: lightKinds})
		}
	}
	if opt.Sweep > 0 {
		settings = append(settings, simulate.Setting{Strength: opt.Strength, AWB: true, Sessions: opt.Sweep, Kinds: lightKinds})
	}
	start = time.Now()
	last := time.Now()
	var deadline time.Time
	if opt.Budget > 0 {
		deadline = start.Add(opt.Budget)
	}
	outs, err := simulate.Evaluate(ctx, simulate.EvalConfig{
		Faces: chosen, Observer: p, Sessions: opt.Sessions, Kinds: opt.Kinds, Settings: settings,
		Seed: opt.Seed, Workers: opt.Workers, Deadline: deadline, Snapshots: opt.Record != "", NearStart: opt.NearStart,
		VaryScenes: opt.VaryScenes, Glasses: opt.Glasses, ParallaxViews: opt.ParallaxDump != "",
		Progress: func(done, total int) {
			if time.Since(last) > 30*time.Second {
				last = time.Now()
				fmt.Fprintf(stderr, "eval liveness: %d/%d sessions, %v\n", done, total, time.Since(start).Round(time.Second))
			}
		},
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if opt.Record != "" {
		if err := recordOutcomes(opt.Record, outs); err != nil {
			return err
		}
	}
	if opt.Dump != "" {
		if err := dumpOutcomes(opt.Dump, outs, chosenNames); err != nil {
			return err
		}
	}
	if opt.ParallaxDump != "" {
		if err := writeParallaxViews(opt.ParallaxDump, outs); err != nil {
			return err
		}
	}
	table := livenessTable(outs, settings, opt.Kinds) + refusals(outs, opt.Strength) +
		fmt.Sprintf("\nPer bin of every varied factor, at %g%% (sessions drawn at random, so the bins hold different counts):\n\n", 100*opt.Strength) +
		binTable(outs, opt.Strength)
	var nu *textureResult
	if opt.NUAA != "" || opt.SilentFace != "" || opt.Video != "" {
		if nu, err = evalTexture(ctx, p, opt.NUAA, opt.SilentFace, opt.Video); err != nil {
			fmt.Fprintf(stderr, "eval liveness: NUAA: %v\n", err)
		}
	}
	fmt.Fprint(stdout, table)
	if nu != nil {
		fmt.Fprint(stdout, nu.markdown())
	}
	if opt.Markdown != "" {
		left := fmt.Sprintf("%d photos of a head turned more than %g° and %d with a second sizeable face were left out", turned, th.MaxPose, crowded)
		body := livenessMarkdown(table, nu, opt, len(chosen), len(faces), left, elapsed)
		if err := replaceSection(opt.Markdown, "liveness", body); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, summaryLiveness(outs, opt.Strength))
	return nil
}

// facePaths lists the face images: one per LFW person, the extra ones,
// and the sample photos of samplesDir.
func facePaths(lfw string, extra []string, samplesDir string) ([]string, error) {
	var out []string
	if lfw != "" {
		dirs, err := os.ReadDir(lfw)
		if err != nil {
			return nil, fmt.Errorf("eval liveness: %w", err)
		}
		for _, d := range dirs {
			if !d.IsDir() {
				continue
			}
			imgs, _ := filepath.Glob(filepath.Join(lfw, d.Name(), "*.jpg"))
			slices.Sort(imgs)
			if len(imgs) > 0 {
				out = append(out, imgs[0])
			}
		}
	}
	for _, e := range extra {
		if st, err := os.Stat(e); err == nil && st.IsDir() {
			imgs, _ := filepath.Glob(filepath.Join(e, "*.jp*g"))
			out = append(out, imgs...)
		} else {
			out = append(out, e)
		}
	}
	if samplesDir != "" {
		for i := 1; i <= 6; i++ {
			out = append(out, filepath.Join(samplesDir, fmt.Sprintf("sample%d.jpg", i)))
		}
	}
	return out, nil
}

type cell struct{ n, wrong, errs int }

func (c cell) rate() float64 {
	if c.n == 0 {
		return math.NaN()
	}
	return float64(c.wrong) / float64(c.n)
}

func settingName(s simulate.Setting) string {
	n := fmt.Sprintf("%g%%", s.Strength*100)
	if s.AWB {
		n += " + AE/AWB"
	}
	return n
}

func cells(outs []simulate.Outcome) map[string]map[simulate.Attack]*cell {
	m := map[string]map[simulate.Attack]*cell{}
	for _, o := range outs {
		k := settingName(o.Setting)
		if m[k] == nil {
			m[k] = map[simulate.Attack]*cell{}
		}
		c := m[k][o.Kind]
		if c == nil {
			c = &cell{}
			m[k][o.Kind] = c
		}
		c.n++
		if o.Err != nil {
			c.errs++
		}
		live := o.Err == nil && o.Result.IsLive
		if (o.Kind == simulate.AttackNone) != live {
			c.wrong++
		}
	}
	return m
}

// livenessTable prints BPCER (none) and APCER (attacks) per setting.
func livenessTable(outs []simulate.Outcome, settings []simulate.Setting, kinds []simulate.Attack) string {
	m := cells(outs)
	var b strings.Builder
	b.WriteString("| reflection | ")
	for _, k := range kinds {
		if k == simulate.AttackNone {
			b.WriteString("BPCER none | ")
		} else {
			fmt.Fprintf(&b, "APCER %s | ", k)
		}
	}
	b.WriteString("\n|---|")
	for range kinds {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, s := range settings {
		name := settingName(s)
		fmt.Fprintf(&b, "| %s | ", name)
		for _, k := range kinds {
			c := m[name][k]
			if c == nil {
				b.WriteString("– | ")
				continue
			}
			b.WriteString(rate(c.wrong, c.n) + " | ")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func summaryLiveness(outs []simulate.Outcome, def float64) string {
	m := cells(outs)[settingName(simulate.Setting{Strength: def})]
	parts := []string{fmt.Sprintf("liveness strength=%g", def)}
	for _, k := range simulate.Attacks {
		if c := m[k]; c != nil {
			name := "APCER(" + string(k) + ")"
			if k == simulate.AttackNone {
				name = "BPCER"
			}
			parts = append(parts, fmt.Sprintf("%s=%.4f", name, c.rate()))
		}
	}
	return strings.Join(parts, " ")
}

// recordedOutcome is one session of a --record file.
type recordedOutcome struct {
	Kind      simulate.Attack
	Setting   simulate.Setting
	Session   int
	Start     simulate.Start
	Snapshot  liveness.Snapshot
	Scene     simulate.Scene
	Source    int
	Skin      float64
	FaceWidth float64
}

// recordOutcomes writes the measurements of every analysed session (gob,
// gzip) for --rescore.
func recordOutcomes(path string, outs []simulate.Outcome) error {
	var rec []recordedOutcome
	for _, o := range outs {
		if o.Snapshot != nil {
			rec = append(rec, recordedOutcome{Kind: o.Kind, Setting: o.Setting, Session: o.Session, Start: o.Start, Snapshot: *o.Snapshot,
				Scene: o.Scene, Source: o.Source, Skin: o.Skin, FaceWidth: o.FaceWidth})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval liveness: record: %w", err)
	}
	zw := gzip.NewWriter(f)
	err = gob.NewEncoder(zw).Encode(rec)
	err = errors.Join(err, zw.Close(), f.Close())
	if err != nil {
		return fmt.Errorf("eval liveness: record %s: %w", path, err)
	}
	return nil
}

// rescoreOutcomes re-runs the fusion of the current build on recorded
// measurements; it returns the outcomes and the settings in recorded order.
func rescoreOutcomes(ctx context.Context, path string, cfg liveness.Config) ([]simulate.Outcome, []simulate.Setting, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("eval liveness: rescore: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("eval liveness: rescore %s: %w", path, err)
	}
	var rec []recordedOutcome
	if err := gob.NewDecoder(zr).Decode(&rec); err != nil {
		return nil, nil, fmt.Errorf("eval liveness: rescore %s (recorded by another build?): %w", path, err)
	}
	var outs []simulate.Outcome
	var settings []simulate.Setting
	seen := map[string]bool{}
	for _, r := range rec {
		st := simulate.Setting{Strength: r.Setting.Strength, AWB: r.Setting.AWB}
		if name := settingName(st); !seen[name] {
			seen[name] = true
			settings = append(settings, st)
		}
		res, err := liveness.RestoreRun(r.Snapshot, cfg).Finish(ctx)
		outs = append(outs, simulate.Outcome{Kind: r.Kind, Setting: st, Session: r.Session, Start: r.Start, Result: res, Err: err,
			Scene: r.Scene, Source: r.Source, Skin: r.Skin, FaceWidth: r.FaceWidth})
	}
	return outs, settings, nil
}

// dumpOutcomes writes one row per session with every signal, for
// calibration. sources names the photo of each face (session s shows
// sources[s%len]); nil leaves the column empty, as after --rescore, whose
// recording does not keep them.
func dumpOutcomes(path string, outs []simulate.Outcome, sources []string) error {
	keys := map[string]bool{}
	for _, o := range outs {
		for k := range o.Result.Signals {
			keys[k] = true
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	head := []string{"kind", "strength", "awb", "session", "start", "source", "status", "confidence", "reason", "err", "skin_ita", "face_width_iod"}
	for _, f := range simulate.Factors {
		head = append(head, "scene:"+f.Name)
	}
	_ = w.Write(append(head, names...))
	for _, o := range outs {
		src := ""
		if len(sources) > 0 {
			src = sources[o.Session%len(sources)]
		}
		row := []string{string(o.Kind), fmt.Sprint(o.Setting.Strength), fmt.Sprint(o.Setting.AWB), fmt.Sprint(o.Session), string(o.Start), src,
			string(o.Result.Status), fmt.Sprint(o.Result.Confidence), o.Result.Reason, fmt.Sprint(o.Err),
			strconv.FormatFloat(o.Skin, 'f', 1, 64), strconv.FormatFloat(o.FaceWidth, 'f', 3, 64)}
		for _, f := range simulate.Factors {
			row = append(row, f.Bin(o.Scene))
		}
		for _, k := range names {
			v, ok := o.Result.Signals[k]
			if ok {
				row = append(row, strconv.FormatFloat(v, 'g', 5, 64))
			} else {
				row = append(row, "")
			}
		}
		_ = w.Write(row)
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}

// writeParallaxViews writes each session's parallax views into dir as
// KIND-STRENGTH[-awb]-SESSION.{far,near}[N].{pgm,pts} (the farthest and
// the flash's view without N, then far1, far2) and the faces'
// widths in frame pixels as .widths, one "far|near N WIDTH" line per
// view: the --dump CSV's kind, strength, awb and session columns name the
// same capture.
func writeParallaxViews(dir string, outs []simulate.Outcome) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eval liveness: parallax dump: %w", err)
	}
	for _, o := range outs {
		if o.Parallax == nil {
			continue
		}
		base := fmt.Sprintf("%s-%g", o.Kind, o.Setting.Strength)
		if o.Setting.AWB {
			base += "-awb"
		}
		base = filepath.Join(dir, fmt.Sprintf("%s-%04d", base, o.Session))
		var widths bytes.Buffer
		for _, side := range []struct {
			name  string
			views []liveness.ParallaxView
		}{{"far", o.Parallax.Far}, {"near", []liveness.ParallaxView{o.Parallax.Near}}} {
			for i, v := range side.views {
				name := side.name
				if i > 0 {
					name += strconv.Itoa(i)
				}
				for ext, b := range map[string][]byte{".pgm": v.PGM, ".pts": v.Points} {
					if err := os.WriteFile(base+"."+name+ext, b, 0o644); err != nil {
						return fmt.Errorf("eval liveness: parallax dump: %w", err)
					}
				}
				fmt.Fprintf(&widths, "%s %d %g\n", side.name, i, v.Width)
			}
		}
		if err := os.WriteFile(base+".widths", widths.Bytes(), 0o644); err != nil {
			return fmt.Errorf("eval liveness: parallax dump: %w", err)
		}
	}
	return nil
}

// refusals lists why live captures at the default strength were refused,
// and splits them as ISO/IEC 30107-3 does: failures to acquire (bona fide
// presentation non-response, BPNRR) apart from captures classified as
// attacks (BPCER over the captures that were classified).
func refusals(outs []simulate.Outcome, def float64) string {
	why := map[string]int{}
	total, acq := 0, 0
	for _, o := range outs {
		if o.Kind != simulate.AttackNone || settingName(o.Setting) != settingName(simulate.Setting{Strength: def}) {
			continue
		}
		total++
		if o.Err != nil {
			why["error"]++
		} else if !o.Result.IsLive {
			why[o.Result.Reason]++
			if liveness.IsAcquisitionFailure(o.Result.Reason) {
				acq++
			}
		}
	}
	if len(why) == 0 {
		return ""
	}
	var parts []string
	refused := 0
	for _, k := range slices.Sorted(maps.Keys(why)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, why[k]))
		refused += why[k]
	}
	return fmt.Sprintf("\nLive captures refused at %g%%, by reason: %s. "+
		"Split as ISO/IEC 30107-3 does: failures to acquire (no face, several faces, lighting, blur, pose, frames missing during the colours) %s; "+
		"BPCER over the captures that were classified %s.\n",
		def*100, strings.Join(parts, ", "), rate(acq, total), rate(refused-acq, total-acq))
}

// rate formats k of n as a percentage with its counts.
func rate(k, n int) string {
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(k)/float64(max(1, n)), k, n)
}

func livenessMarkdown(table string, nu *textureResult, opt LivenessOptions, nFaces, nAll int, left string, elapsed time.Duration) string {
	split, def, sessions, sweep := opt.Split, opt.Strength, opt.Sessions, opt.Sweep
	var b strings.Builder
	b.WriteString(livenessIntro)
	b.WriteString(livenessSweepIntro)
	fmt.Fprintf(&b, "\n### Results\n\nGenerated by `livenessd eval liveness --split %s --seed %d --sessions %d --sweep-sessions %d --markdown docs/ACCURACY.md` on %s: %d faces (the %s half of %d usable faces: "+
		"one LFW image per person plus the sample photos; even positions calibrate, odd ones are held out; "+left+", as failures to acquire, not liveness errors: the simulator moves and lights a photo, it cannot turn a head or remove a bystander), "+
		"up to %d sessions per kind at the default reflection strength %g%%, up to %d per kind at the other settings (each cell gives its count); "+
		"BPCER = live captures refused, APCER = attacks accepted. Run time %v on 2 cores shared with other jobs.\n\n",
		split, opt.Seed, sessions, sweep, time.Now().UTC().Format("2006-01-02"), nFaces, split, nAll, sessions, def*100, sweep, elapsed.Round(time.Second))
	b.WriteString(table)
	b.WriteString("\nZero errors in n sessions bounds the rate below about 3/n (95%), not at zero.\n")
	if nu != nil {
		b.WriteString(nu.markdown())
	}
	b.WriteString(livenessThreats)
	return b.String()
}

const livenessIntro = `## Liveness

The method (package ` + "`internal/liveness`" + `; the challenge is drawn per session from crypto/rand and never chosen by the
client): the face must first fit a small start oval (someone who starts close is asked to move back), then move into
a random target oval (docs/PROTOCOL.md "In the oval"), then the screen shows 8-10 random colours of 250-600 ms.
Signals, each reported under ` + "`details.signals`" + ` with its threshold and what a failure means:

- **face and identity**: a face in at least 90% of the analysed frames, several in at most 10% (every third frame goes
  through the face pipeline; the frames in between are measured with interpolated landmarks); identity = the
  second-lowest embedding cosine of an analysed frame to the capture's medoid embedding (the one with the highest
  median cosine to the others; not the first frame, which is the worst when a user starts close), over the frames
  whose face is at least 60 px wide (a smaller face's embedding drifts), leaving out the frames before the face first
  fitted the start oval (a near start: perspective distorts the face and the frame may cut it; on dev seed 56 a near
  start at 0.71-0.73 of the frame's height had first frames at cosines 0.07-0.09 to its capture's medoid; they carry
  no evidence, which all comes after the start oval) (>= 0.425, the cosine where compare-faces
  has a false match rate of 1e-4 in the face calibration above: one odd frame is forgiven, two of another person are
  not).
- **movement**: growth of the face (jaw-line width) from where it was smallest before the oval to the oval (>= 1.2;
  the two-stage approach guarantees about 1.4 for a capture that reached the colours) and the change of inter-ocular
  distance relative to face width (` + "`perspective`" + `: central features of a 3-D face grow more than its contour when it
  comes closer). The landmark models smooth this change to a fraction of the geometric one, so its threshold (-0.10)
  only refuses contradictory movement; FaceMesh's own depth parallax (` + "`perspective3d`" + `) is reported, not graded (live
  captures show about 0.13 of the parallax their geometry implies).
- **light response**: skin patches placed from the landmarks give per frame two opponent chroma features and log
  luminance of the colour taken back to linear light, detrended by a quadratic over the colours. (1) ` + "`light_z`" + `:
  correlation with the challenge's colours at the best lag in 0-300 ms as a z-score against 200 random sequences on
  the same onsets (>= 2.5); (2) ` + "`light_matched`" + ` / ` + "`light_matched2`" + `: each colour interval's fitted response is
  compared with every palette colour; at least 75% of the intervals must be nearest to their own colour, 80% must
  have it among the two nearest; (3) ` + "`light_margin`" + `: the correlation must beat the same colours shifted one step
  late or early by 0.1. The client's colour times must be consistent with the challenge's durations (±200 ms).
- **shading against the face's shape** (` + "`light_shading`" + `): FaceMesh's 468 points are tracked on every analysed
  frame; 30-90 probes on its skin (60 typically) (every 0.14 inter-ocular distances, away from eyes, brows and lips, each a
  patch of radius 0.085 IOD) give each probe's chroma response to the expected signal, and the responses are fitted
  across the face as a = A(1 - K f) + gx x + gy y, where f is how much less of the screen's light the probe's place
  gets than the face's front on any face, not one face's shape: a face turns away towards its outline across and down,
  f = 1 - sqrt(1 - u² - w²) (u = the probe's distance from the midline over the mesh's half-width at that height and
  on that side, w = its distance from the middle of the mesh's height at that place over the half-height, so a
  narrow, broad or long face, or a turned head, is measured against its own outline), and its nose stands out, so
  the nose's flanks face sideways: f gains 3 d² exp(-d²), d = the distance from the nose ridge (FaceMesh's ridge
  points at that height) over 0.14 IOD (about 0.9 cm). A face that is broad or flat across its front still falls off
  above its brows, along its jaw and on its nose. The linear terms take up a tilted print's gradient and uneven room
  light. K = 1 is a face answering as predicted, K = 0 a surface answering evenly (a print, whatever face is printed
  on it). The statistic is K + 2 standard errors, the steepest fall-off the capture is consistent with: a capture
  is refused as flat only when its data show flatness, not when they are merely noisy (glasses, low resolution, a
  dim screen). It is graded with the parallax below: a fitted K itself >= 0.30 (` + "`shading3d_k`" + `, the estimate, not
  the bound: a noisy print's bound is high, its K is not) passes alone; a strong parallax passes without it;
  otherwise the statistic must reach 0.10 and the parallax must pass too.
  The surface normals of the mesh were tried as the prediction of f and do not predict the light in simulation
  (correlation about 0.1 against 0.7-0.8 for the outline; ` + "`shading3d_normals_k`" + ` is reported).
  ` + "`light_background_ratio`" + ` (the response beside the face over the skin's) is reported, not graded: it separates the
  simulated prints well, but the patches beside a real face at eye height often fall on hair, which answers like
  skin, and the simulator has no hair there.
- **parallax of the approach** (` + "`parallax_beta`" + `, internal/liveness/parallax.go): from each of the three farthest
  views of the face before the colours to the view at the flash (the medians of the three fits are the capture's: one
  pair of views is a fragile sample, whose t moved by up to 6 when only the camera's white balance changed), a
  print's image changes by a plane's perspective, while a face's front, standing centimetres before its outline,
  grows more than the outline. The views are cropped to the
  face's width (128 px); about 180 points of the far view (every other FaceMesh point) and a grid every 6 px over
  the face (about 150 more: FaceMesh has few points above the brows), inside the outline and except the temples
  (the ends of the eye band, where a pair of glasses' outer rims, hinges and arms stand at the front's depth), are
  tracked into the near one by Lucas-Kanade on their own pixels (FaceMesh only starts the search: its learned shape
  prior damps parallax), and the displacements are fitted by an affine map + β (p - c) h(p) + the shift a face off
  the camera's axis adds + κ (p - c) u(p) + λ (p - c) v(p), h the face's convexity (1 at its front, 0 at its
  outline, the nose standing out), u, v the position across and down the face (in half-widths): κ and λ are turns
  about the vertical and the horizontal axis during the approach (a person turning a little; a print held tilted
  back or forward, whose near edge grows faster), in two passes that drop the worst-fitting 10%. λ needs the grid:
  with FaceMesh's points alone it took the relief of the eye band and of glasses from β. Each track is first followed back into the far view, and one that does not
  come back to within 3 times the capture's median round trip (at least 0.25 px) is left out: an eye that blinks in
  one view, a moving highlight or hair. The share of tracks kept is reported (` + "`parallax_kept`" + `); a guard that
  treats a fit keeping less than two thirds as not measured exists (` + "`Thresholds.ParallaxKept`" + `) but is off: it refused a live
  capture of the browser test camera. β is the front's magnification beyond the outline, 0 for a print
  (>= 0.005; ` + "`parallax_t`" + ` is its t statistic). **3-D rule**: ` + "`shading3d_k`" + ` >= 0.30 alone (unless the parallax is as flat as a print's, ` + "`parallax_t`" + ` < 3), or
  ` + "`parallax_beta`" + ` >= 0.010 with ` + "`parallax_t`" + ` >= 8, or >= 0.008 with ` + "`parallax_t`" + ` >= 10, alone (the shading is then reported, not graded), or
  ` + "`light_shading`" + ` >= 0.10 and ` + "`parallax_beta`" + ` >= 0.005 with ` + "`parallax_t`" + ` >= 5: the parallax must stand out of its
  own noise (a print's β reaches 0.005 by chance).
- **passive texture**: median fr_liveness live score over the analysed frames (>= 0.5; its crop is 2.4 box widths,
  never shrunk at the frame's edge, its colour smoothed over 0.8 input pixels, its luma not; NUAA, Silent-Face and
  the real clips below).
- **quality**: median skin luminance 45-235 (else "Poor lighting conditions"), sharpness (mean |Laplacian| on a
  96-px grid of the face, >= 1.5), median |yaw|, |pitch| <= 45° during the colours, and ` + "`light_exposed`" + `: at least
  30% of the mesh probes inside the camera's range (no channel clipped or black) in every light frame, else the
  shading cannot be measured and the capture fails as "Poor lighting conditions", not as an attack; ` + "`light_gaps`" + `:
  at most one colour of the sequence without a frame of the face, else the answer cannot be judged and the capture
  fails as "Too few frames during the screen colours" (a stalled stream, a face out of view), not as a wrong answer.

Fusion: each signal maps to a score through a logistic that is exactly 0.9 at its threshold and about 0.99 one
"scale" past it; confidence = 100 x the lowest score, so at the default ` + "`isLive`" + ` threshold of 90
(` + "`LIVENESS_THRESHOLD`" + `) a capture is live when every signal passes; ` + "`details.failedSignals`" + ` lists the ones that did
not.

**The simulated world varies per session** (` + "`--scenes vary`" + `, internal/simulate/scene.go; the tables below are binned
by every factor): the 3-D shape behind the photo, in the perspective of its distance from the first frame to the last
(face depth 2-6 cm, its width 0.9-1.5 times the photo's own
outline, front profile from elliptic to flat, nose, glasses in 30% of sessions: dark rims standing just before the
nose's bridge, so that on a live face they magnify by their own depth as it comes closer, and lenses that mirror
0.5-5% of the screen's light, from anti-reflective coated to uncoated), the screen (laptop 30x19 cm or phone 7x14 cm below the camera, an area light with inverse-square
fall-off), room light (even, directional from a random side, or mixed) and a background that answers the screen up
to 0.15 of the face, the camera (field of view along the long side, 320x240 to 1280x720, half the phones held upright: 240x320 to 720x1280, 10-30 fps with jitter and dropped frames, JPEG
60-95, tone curve gamma 0.8-1.2 with an S-curve, white balance error, auto exposure and white balance, noise, exposure
time, 30-200 ms display-to-camera lag), and behaviour (approach speed, where the approach ends: 72-100% of the oval, so some people stop as soon as it
accepts them; the head turned up to 10° sideways and 5° up to 12° down while the colours play (looking at the screen
below the camera), turning by up to 5° in each during the approach and swaying by 0.2-1.2°; once the colours are seen (a reaction
time on), holding as still as they can: leaning back by up to 4% of the face's size a second or creeping closer by up
to 5%, the screen's light on the face following the square of the distance; sway, blinks 4-24 a minute, each closing the
eyes for 0.1-0.3 s; half the sessions start close to the camera and must move back first). Prints are flat, tilted up to 20° (seen in perspective: approaching, the near side grows faster) and extend 1-3 face widths. Skin tone is binned
by the photo's ITA°.

**Calibration** (dev half of the faces, 100 sessions each of none, photo, replay and delayed, scenes varied, one
recording re-scored with ` + "`--rescore`" + `; then 150 sessions each of none and photo over face shapes up to 1.5 times
the photo's outline, seed 3): ` + "`light_z`" + ` live minimum 3.18 against replay maximum 3.02 (98th percentile
2.88) and delayed maximum 2.65: the threshold was raised from 2 to 2.5 after a replay of another random sequence
reached 2.03 and matched 6 of 8 colours; ` + "`light_matched`" + ` live minimum 0.75 (2nd percentile 0.875) against replay
98th percentile 0.63; ` + "`light_margin`" + ` live minimum 0.25 against delayed maximum -0.29. ` + "`light_shading`" + ` over both
recordings (247 live captures, 246 prints): live minimum 0.08, 2nd percentile 0.16, 5th 0.20, median 0.45; prints
median 0.10, 90th percentile 0.18, maximum 0.58. The threshold, 0.16, is the largest that keeps the dev live captures
refused by the shading at 2% (5 of 247); 19% of the dev prints (47 of 246) pass it. At the same 2% of live captures,
the previous model (the fall-off across the face only, against the outline's width) let 97% of these prints through:
on broad and flat shapes it has nothing to measure. The nose's weight and width were chosen on the same data, on a
plateau (weights 3-4 and widths 0.12-0.16 IOD give 13-16% of prints at 3% of live); the forehead and jaw alone
(no nose) give 75%. The old probe contrast (centre against lateral probes on a fixed grid) was fitted to
one face shape and is gone. Perspective: live minimum -0.05 and print minimum -0.03, so its threshold moved from
-0.05 to -0.10. Dev result: first recording BPCER 1% (1 shading; 1 second face in the photo), APCER photo 18%, replay
and delayed 0; second BPCER 3.4% (4 shading, 1 light match; failures to acquire: a turned head, a second face, a
clipped face), APCER photo 18.7%. That was the shading alone at 0.16. The parallax and the 3-D rule were fixed on a
third dev recording (seed 3, 60 live captures and 60 prints, ` + "`--kinds none,photo`" + `) before any held-out capture
with the parallax was looked at: β of the live captures 0.0065 at least (median 0.032), of the prints 0.013 at most
(98th percentile 0.0066), so 0.005 lies below every dev live capture; 0.10 is a round value below the second-lowest
dev live shading (0.118); 0.30 lies above every dev print's shading (0.239 at most). On those captures the shading
alone let 33% of the prints through at 2% of live captures refused, β alone 1.7%. The strong parallax alone
(β >= 0.015 and t >= 8) lies beyond every print of that dev recording (β 0.0128 and t 5.1 at most); it was
written down after reading the refusals of earlier held-out seeds, so it was checked on a fourth dev recording
(seed 12, 200 sessions each of none and photo on the dev faces: no print reached t 8, the highest 6.2, one at
β 0.021; the route let 4 of the 6 live captures the 3-D rule refused through, and no print) and first measured on
held-out faces with seed 13.

`
const livenessSweepIntro = `### Reflection strength: why 3% by default

The simulator's reflection strength is the relative change of skin luminance, on the parts of the face that face the
screen, when the screen goes from black to full white (a primary colour changes only its own channel). Photometry:
a screen of luminance L and area A at distance d lights a face with about L·A/d²; a phone (500 cd/m², 7x15 cm) at
30 cm gives about 60 lux, a laptop (300 cd/m², 30x20 cm) at 50 cm about 70 lux. Typical illuminance is 300-1000
lux indoors, 1000-5000 lux in bright rooms or near a window and 10 000-100 000 lux outdoors (Microsoft's ambient
light sensor guide, "Understanding and Interpreting Lux Values"). So a white screen adds ~6-20% in an ordinary room,
1-6% in a bright one and well under 1% outdoors; the camera's auto exposure and white balance then take back part of
it. Published systems that rely on this effect work at arm's length indoors: Face Flashing (Tang et al., NDSS 2018:
98.8% accuracy, 97.3% in its worst setting) and FaceRevelio (Farrukh et al., MobiCom 2020: EER 1.4% against photos
with a 1 s light passcode on phones, evaluated under various indoor lighting). The default of 3% is the bright-room
case, well below the ordinary room; the table shows what happens from 1% (daylight near a window) to 10% (dim
room), and with the camera's compensation on (per-channel gains pulling the frame mean back with a 0.3 s time
constant, which is faster than most webcams).
`

const livenessThreats = `
### What the simulator cannot show (threat model)

- **The faces are photos made to behave.** A live capture here is a still photo painted on a drawn 3-D shape
  (scene.go) that approaches the camera; real skin has specular highlights and subsurface scattering, real hair sits
  beside the face at its depth, real heads turn, blink and move their lips, and beards and make-up change how skin
  answers. An independent renderer used a proxy 1.3-1.5 times broader than the photo's outline, so the simulator
  draws 0.9-1.5; the broad, shallow, flat-fronted shapes are where live captures still fail most. BPCER on real users
  will also come from a weak light response (bright rooms, outdoors, screens at low brightness), motion blur and
  strong auto exposure.
- **The shading does not stop prints on its own, and the parallax assumes a real approach.** With 8-10 colours at
  3% reflection a face's fall-off is measured with a large error, and a face that is broad and flat across its front
  answers almost evenly except on its nose, above its brows and along its jaw: keeping 98% of live captures, about
  one simulated print in three passes the shading alone. The parallax is the second, independent evidence; it needs
  the person to come closer (the two-stage start guarantees 1.41 times growth, and livenessd's own guidance asks
  for 2 times or a face filling the oval, for up to 4 s), and a renderer or camera path that
  scales a flat image as the face "approaches" shows none, as a print does. A replayed video of the victim
  approaching carries real parallax: the light challenge stands against it. A print bent around a face's shape has
  some parallax, which the simulator does not render (its prints are flat and tilted); a strong parallax passes
  without the shading, so such a print must still pass the light challenge and the texture model. A tilted flat
  print changes by a projective map as it approaches: the fit takes both turns (across the face and up and down),
  yet a few flat prints, tilted or square, keep a β of 0.005-0.02 at t 5-9 (1-2% of held-out prints pass with
  shading, rarely alone), not from the perspective's second order (an exact homography fitted them no better). One
  capture's parallax rests on one far and one near frame: an imperceptible change of the input (the white balance
  alone) moved a live capture's t between 2 and 8. In the simulation nothing
  else stops a print: the prints are perfect copies of the photo, which the texture model cannot tell from a live
  frame. On real prints the texture model is a further defence (NUAA above: AUC 1.0, but 1 of 96 prints scores
  0.96). ` + "`--liveness-parallax-threshold 0`" + ` makes the parallax a reported signal; then set
  ` + "`--liveness-shading-threshold`" + ` back to 0.16, the shading-only rule.
- **The attacks are the easy versions of each attack.** The print is a flat, matte copy of the same photo; the
  replayed video answers another random sequence; a **real-time injected deepfake that reads the challenge from the
  page and renders a shaded reflection of the right colours in time is not stopped by the light challenge**: the
  colours are sent to the client in the clear, as in every screen-light method. Against it, what remains is the
  timing (the response must lag by 0-300 ms and switch within a frame), the passive texture model, and the
  deployment (camera integrity on the client, rate limits, one capture per session).
- **Passive texture is not exercised by the simulation.** Frames rendered from good photos look live to fr_liveness
  whatever the attack, so the photo APCER above comes from the shading and the parallax alone; the real sets below are the evidence
  for the texture model, on few kinds of print and few cameras. The other way round, a few upscaled LFW photos look
  like recaptures to it in some scenes (about one live capture in 200 refused; per frame the score swings 0.01-0.99
  with the crop's scale, 1.6-4.0 box widths, and no mean over scales lifted the three known cases above 0.5, while
  the real clips and NUAA's live frames all score above 0.5 at every scale).
- **Landmark perspective is weak.** The landmark models smooth the perspective change of an approaching face, and
  FaceMesh's depths are a learned prior that barely follows the real parallax; ` + "`perspective`" + ` and
  ` + "`perspective3d`" + ` check that the face did approach, not that it is 3-D. The parallax tracks the face's pixels
  instead, which is why it is graded and they are not.
- **The numbers are simulated.** Faces come from LFW and the model samples (250x250 LFW crops upscaled into the
  frames, so sharper real webcams help); noise is Gaussian; the screen, the room and the camera are models with
  ranges taken from typical hardware, not measured webcams. The cameras are pinholes: a real wide-angle lens
  (barrel distortion) shrinks a face more towards the frame's edges, so a flat print that comes nearer and spreads
  outwards gains a little apparent relief, as a face does; the nearer approach now asked for adds to it. Unmeasured.
`
