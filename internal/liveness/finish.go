package liveness

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/livenessd/livenessd"
)

// Validation names reported in Result.Validations.
const (
	ValidFaceDetected      = "face_detected"
	ValidQuality           = "quality_check"
	ValidAntiSpoofing      = "anti_spoofing"
	ValidChallengeResponse = "challenge_response"
)

// Validations are every validation a verdict may report as passed.
var Validations = []string{ValidFaceDetected, ValidQuality, ValidAntiSpoofing, ValidChallengeResponse}

// Failure reasons, most basic first.
const (
	ReasonNoFace        = "No face detected"
	ReasonMultipleFaces = "Multiple faces detected"
	ReasonLighting      = "Poor lighting conditions"
	ReasonBlurry        = "Image too blurry"
	ReasonPose          = "Face not facing the camera"
	// ReasonIncomplete: the frames stopped (a stalled stream, a face out
	// of view) for more than one of the screen's colours, so the light
	// challenge could not be judged either way.
	ReasonIncomplete  = "Too few frames during the screen colours"
	ReasonFaceChanged = "Face changed during the capture"
	ReasonMovement    = "Face did not move into the oval as a real face"
	ReasonLight       = "Screen light challenge not matched"
	ReasonSpoof       = "Presentation attack suspected"
)

// IsAcquisitionFailure reports whether reason is a failure to acquire a
// usable capture (no face, several faces, poor lighting, blur, head turned)
// rather than a verdict on liveness. ISO/IEC 30107-3 counts such bona fide
// captures as non-responses (BPNRR), apart from classification errors
// (BPCER).
func IsAcquisitionFailure(reason string) bool {
	switch reason {
	case ReasonNoFace, ReasonMultipleFaces, ReasonLighting, ReasonBlurry, ReasonPose, ReasonIncomplete:
		return true
	}
	return false
}

// check is one graded signal: value against threshold, mapped to a score of
// exactly 0.9 at the threshold; scale is the distance over which the score
// moves from 0.9 to about 0.99.
type check struct {
	name      string
	value     float64
	threshold float64
	scale     float64
	upper     bool // passes when value <= threshold
	reason    string
	group     string
}

var logit09 = math.Log(0.9 / 0.1)

func (c check) score() float64 {
	if math.IsInf(c.threshold, -1) {
		return 1 // reported only (Config.SkipTexture, SkipShading)
	}
	if math.IsNaN(c.value) || math.IsInf(c.value, 0) {
		return 0
	}
	d := c.value - c.threshold
	if c.upper {
		d = -d
	}
	if d == 0 {
		return 0.9 // exactly: the logistic's rounding would fail a value at its threshold
	}
	return 1 / (1 + math.Exp(-(logit09 + 2.4*d/c.scale)))
}

// summary holds the per-capture measurements the checks read.
type summary struct {
	observed, faceFrames, multiFrames int
	brightness, sharp, pose           float64
	identity                          float64
	reached                           bool
	growth, perspective               float64
	parallax                          float64 // meshParallax
	texture                           float64
	light                             lightResult
	hasLight                          bool
}

// Finish fuses the measurements into the verdict. Only the fusion runs here
// (the frames were measured in AddFrame), so it returns within milliseconds
// of the last frame. Errors: the context's.
func (r *Run) Finish(ctx context.Context) (livenessd.Result, error) {
	if err := ctx.Err(); err != nil {
		return livenessd.Result{}, fmt.Errorf("liveness: finish: %w", err)
	}
	r.flushPending(-1)
	s := r.summarise()
	checks := r.checks(s)
	res := livenessd.Result{Signals: map[string]float64{}}
	conf := 1.0
	failed := map[string]bool{}
	for _, c := range checks {
		sc := c.score()
		conf = math.Min(conf, sc)
		if sc < 0.9 {
			failed[c.group] = true
			if res.Reason == "" {
				res.Reason = c.reason
			}
		}
		finite := !math.IsNaN(c.value) && !math.IsInf(c.value, 0)
		if finite {
			res.Signals[c.name] = round(c.value, 4)
		}
		if !math.IsInf(c.threshold, 0) { // a reported-only check has no threshold
			v := c.value
			if !finite {
				v = 0 // not measured: JSON has no NaN; Passed says it failed
			}
			res.Checks = append(res.Checks, livenessd.SignalCheck{Name: c.name, Value: round(v, 4),
				Threshold: c.threshold, Max: c.upper, Passed: sc >= 0.9, Kind: checkKind(c)})
		}
	}
	extra := map[string]float64{
		"observed_frames": float64(s.observed), "frames": float64(len(r.recs)),
		"perspective3d": s.parallax,
	}
	par := r.parallax()
	extra["parallax_beta"], extra["parallax_t"] = par.beta, par.t
	extra["parallax_points"], extra["parallax_growth"] = float64(par.points), par.growth
	extra["parallax_dropped"] = float64(par.dropped)
	extra["parallax_kept"] = par.kept()
	if s.hasLight {
		extra["light_correlation"] = s.light.corr
		extra["light_lag_ms"] = float64(s.light.lag.Milliseconds())
		extra["light_amplitude"] = s.light.amplitude
		extra["light_frames"] = float64(s.light.frames)
		extra["light_background_ratio"] = s.light.bgRatio
		extra["shading3d_k"] = s.light.mesh.k
		extra["shading3d_t"] = s.light.mesh.t
		extra["shading3d_probes"] = float64(s.light.mesh.probes)
		extra["shading3d_spread"] = s.light.mesh.spread
		extra["shading3d_all_k"] = s.light.meshAll.k
		extra["shading3d_all_t"] = s.light.meshAll.t
		extra["shading3d_normals_k"] = s.light.meshNormals.k
		extra["shading3d_normals_t"] = s.light.meshNormals.t
	}
	for k, v := range extra {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			res.Signals[k] = round(v, 4)
		}
	}
	res.Confidence = round(100*conf, 2)
	res.IsLive = res.Confidence >= r.cfg.Threshold
	if res.IsLive {
		res.Status = livenessd.StatusSucceeded
		res.Reason = ""
		res.Message = fmt.Sprintf("Liveness verified with %.2f%% confidence", res.Confidence)
	} else {
		res.Status = livenessd.StatusFailed
		if res.Reason == "" {
			res.Reason = ReasonSpoof
		}
		res.Message = fmt.Sprintf("Liveness confidence %.2f%% is below required threshold %.2f%%", res.Confidence, r.cfg.Threshold)
	}
	for _, v := range []string{ValidFaceDetected, ValidQuality, ValidAntiSpoofing, ValidChallengeResponse} {
		if !failed[v] {
			res.Validations = append(res.Validations, v)
		}
	}
	res.ReferenceImage, res.ReferenceBox = r.best.jpeg, r.best.box
	res.AuditImages = r.finishAudit()
	now := time.Now
	if r.cfg.Now != nil {
		now = r.cfg.Now
	}
	res.Timestamp = now().UTC()
	return res, nil
}

// checkKind says what a failing check means for the integrator.
func checkKind(c check) string {
	switch {
	case IsAcquisitionFailure(c.reason):
		return "acquisition"
	case c.reason == ReasonSpoof || c.reason == ReasonFaceChanged:
		return "attack"
	}
	return "challenge"
}

func (r *Run) checks(s summary) []check {
	th := r.th
	nan := math.NaN()
	or := func(ok bool, v float64) float64 {
		if ok {
			return v
		}
		return nan
	}
	faceFrac, multiFrac := 0.0, 1.0
	if s.observed > 0 {
		faceFrac = float64(s.faceFrames+s.multiFrames) / float64(s.observed)
		multiFrac = float64(s.multiFrames) / float64(s.observed)
	}
	hasFace := s.faceFrames > 0
	lightDist := math.Min(s.brightness-th.MinBrightness, th.MaxBrightness-s.brightness)
	reached := 0.0
	if s.reached {
		reached = 1
	}
	cs := []check{
		{"face_frames", faceFrac, th.FaceFrames, 0.05, false, ReasonNoFace, ValidFaceDetected},
		{"multiple_face_frames", multiFrac, th.MultipleFrames, 0.05, true, ReasonMultipleFaces, ValidFaceDetected},
		{"brightness_margin", or(hasFace, lightDist), 0, 15, false, ReasonLighting, ValidQuality},
		{"sharpness", or(hasFace, s.sharp), th.Sharpness, 1, false, ReasonBlurry, ValidQuality},
		{"pose", or(hasFace, s.pose), th.MaxPose, 8, true, ReasonPose, ValidQuality},
		// A capture that never reached the oval is refused for that first:
		// its faces may all precede the start oval's fit, when none votes
		// on who it is (Run.tooClose), and "face changed" would mislead.
		{"reached_oval", reached, 0.5, 0.1, false, ReasonMovement, ValidChallengeResponse},
		{"identity", s.identity, th.Identity, 0.15, false, ReasonFaceChanged, ValidAntiSpoofing},
		{"growth", s.growth, th.Growth, 0.1, false, ReasonMovement, ValidChallengeResponse},
		{"perspective", s.perspective, th.Perspective, 0.02, false, ReasonMovement, ValidChallengeResponse},
	}
	if s.hasLight {
		timing := 0.0
		if s.light.timingOK {
			timing = 1
		}
		lok := s.light.timingOK && s.light.frames >= 8
		// More than one colour without a frame: the answer cannot be
		// judged, and the capture fails as incomplete (retry), not as a
		// wrong answer (light_matched forgives one such colour, so one
		// passes: the threshold between the counts 1 and 2 and the short
		// scale score one gap 0.999, not near the 0.9 edge: about 2% of
		// simulated live captures have one). Counted only once the timing
		// is right: without onsets there are no intervals, and
		// light_timing fails.
		cs = append(cs,
			check{"light_gaps", float64(s.light.gaps), 1.5, 0.25, true, ReasonIncomplete, ValidQuality},
			check{"light_timing", timing, 0.5, 0.1, false, ReasonLight, ValidChallengeResponse},
			check{"light_z", or(lok, s.light.z), th.LightZ, 2, false, ReasonLight, ValidChallengeResponse},
			check{"light_matched", or(lok, s.light.matched), th.LightMatched, 0.1, false, ReasonLight, ValidChallengeResponse},
			check{"light_matched2", or(lok, s.light.matched2), th.LightMatched2, 0.1, false, ReasonLight, ValidChallengeResponse},
			check{"light_margin", or(lok, s.light.margin), th.LightMargin, 0.1, false, ReasonLight, ValidChallengeResponse},
		)
		// A face whose skin the camera clips (overexposed, or a channel
		// black) cannot show its shading: a lighting problem the user can
		// fix, not evidence of an attack.
		cs = append(cs, check{"light_exposed", or(lok, s.light.exposed), th.Exposed, 0.1, false, ReasonLighting, ValidQuality})
		// The 3-D evidence: strong shading alone (unless the parallax
		// measured a flat surface), strong parallax alone, or shading and
		// parallax together (Thresholds.Parallax, ShadingAlone,
		// ShadingAloneParallaxT, ParallaxAlone). light_shading is the fall-off's
		// upper bound, which refuses only captures whose data show
		// flatness; on its own, the shading must show depth, so the
		// alone route reads the fitted fall-off itself: a noisy print's
		// bound is high, its fall-off is not.
		par := r.parallax()
		if !par.trusted(th) {
			par.beta, par.t = nan, nan
		}
		// A parallax measured as flat (t below ShadingAloneParallaxT)
		// contradicts the shading: then both must show depth. NaN (no
		// parallax measured) compares false and does not contradict.
		flatParallax := th.ShadingAloneParallaxT > 0 && par.t < th.ShadingAloneParallaxT
		strongShading := th.ShadingAlone > 0 && lok && s.light.mesh.k >= th.ShadingAlone && !flatParallax
		aloneBeta, aloneT := parallaxAlone(th, par)
		strongParallax := !strongShading && th.Parallax > 0 && aloneT > 0
		shading := check{"light_shading", or(lok, s.light.mesh.upper), th.Shading, 0.15, false, ReasonSpoof, ValidAntiSpoofing}
		if r.cfg.SkipShading || strongParallax {
			shading.threshold = math.Inf(-1) // reported, never failing
		}
		cs = append(cs, shading)
		switch {
		case strongParallax:
			cs = append(cs,
				check{"parallax", par.beta, aloneBeta, 0.01, false, ReasonSpoof, ValidAntiSpoofing},
				check{"parallax_t", par.t, aloneT, 4, false, ReasonSpoof, ValidAntiSpoofing})
		case th.Parallax > 0 && !strongShading:
			pc := check{"parallax", par.beta, th.Parallax, 0.01, false, ReasonSpoof, ValidAntiSpoofing}
			if r.cfg.SkipShading {
				pc.threshold = math.Inf(-1) // reported, never failing
			}
			cs = append(cs, pc)
			if th.ParallaxT > 0 {
				// The magnitude says the relief is a face's; the t statistic
				// says it is not the fit's noise (a print's β reaches the
				// floor by chance).
				pt := check{"parallax_t", par.t, th.ParallaxT, 2, false, ReasonSpoof, ValidAntiSpoofing}
				if r.cfg.SkipShading {
					pt.threshold = math.Inf(-1)
				}
				cs = append(cs, pt)
			}
		}
	}
	tex := check{"texture", s.texture, th.Texture, 0.15, false, ReasonSpoof, ValidAntiSpoofing}
	if r.cfg.SkipTexture {
		tex.threshold = math.Inf(-1) // reported, never failing
	}
	cs = append(cs, tex)
	return cs
}

// parallaxAlone returns the thresholds of the route by which the parallax
// alone is evidence of a 3-D face (Thresholds.ParallaxAlone, and
// PreciseParallaxAlone for a smaller relief measured more surely), or
// zeros when par takes neither.
func parallaxAlone(th Thresholds, par parallaxResult) (beta, t float64) {
	switch {
	case th.ParallaxAlone > 0 && par.beta >= th.ParallaxAlone && par.t >= th.ParallaxAloneT:
		return th.ParallaxAlone, th.ParallaxAloneT
	case th.PreciseParallaxAlone > 0 && par.beta >= th.PreciseParallaxAlone && par.t >= th.PreciseParallaxAloneT:
		return th.PreciseParallaxAlone, th.PreciseParallaxAloneT
	}
	return 0, 0
}

func (r *Run) summarise() summary {
	s := summary{hasLight: len(r.ch.Colors) > 0, reached: r.flashed}
	var lumas, sharps, poses, lives []float64
	var one []*record
	for i := range r.recs {
		rec := &r.recs[i]
		if !rec.observed {
			continue
		}
		s.observed++
		switch {
		case rec.faces == 1:
			s.faceFrames++
			one = append(one, rec)
		case rec.faces > 1:
			s.multiFrames++
		}
		if rec.faces < 1 {
			continue
		}
		if sk, ok := rec.s.skin(); ok {
			lumas = append(lumas, luma(sk))
		}
		if r.flashRec < 0 || i >= r.flashRec {
			sharps = append(sharps, rec.sharp)
			poses = append(poses, math.Max(math.Abs(rec.face.Pose.Yaw), math.Abs(rec.face.Pose.Pitch)))
		}
		if rec.faces == 1 {
			lives = append(lives, rec.face.LiveScore)
		}
	}
	s.brightness = median(lumas)
	s.sharp = median(sharps)
	s.pose = median(poses)
	s.texture = median(lives)
	s.identity = math.NaN()
	if c := r.identityCosines(); len(c) > 0 {
		// The second-lowest cosine: one odd frame (blur, a hand) is
		// forgiven, any two frames of another person are not. A quantile
		// would forgive a short swap whose frames the detector mostly
		// missed.
		slices.Sort(c)
		s.identity = c[min(1, len(c)-1)]
	}
	s.growth, s.perspective, s.parallax = r.movement(one)
	if s.hasLight {
		s.light = r.analyseLight()
	}
	return s
}

// movement compares the observations where the approach began with the
// ones where the face reached the oval (or the last ones): the growth of
// the face and the change of inter-ocular distance relative to face width.
// Coming closer, the central features of a 3-D face grow more than its
// contour; a flat photo scales rigidly. The approach begins where the face
// was smallest before the oval was reached, not at the first frame: a user
// who started close and was asked to move back is measured from where the
// guidance let them start, so the growth the guidance demanded (FitMin
// over the start oval's bound) is the growth measured. Growth is in contour
// widths (faceFit), the measure the guidance uses.
func (r *Run) movement(one []*record) (growth, perspective, parallax float64) {
	if len(one) < 4 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	end := len(one)
	if r.flashRec >= 0 {
		end = 0
		for i, rec := range one {
			if rec == &r.recs[r.flashRec] {
				end = i + 1
			}
		}
		if end < 4 {
			end = len(one)
		}
	}
	const k = 2
	first, last := r.approachStart(one[:end-k], k), one[end-k:end]
	w := func(rs []*record) (width, ratio float64) {
		var ws, rs2 []float64
		for _, rec := range rs {
			fw, _ := faceFit(rec.face)
			ws = append(ws, fw)
			if rec.lay.width > 0 {
				rs2 = append(rs2, rec.lay.iod/rec.lay.width)
			}
		}
		return median(ws), median(rs2)
	}
	w0, r0 := w(first)
	w1, r1 := w(last)
	m := min(3, end/2)
	parallax = meshParallax(r.approachStart(one[:end-m], m), one[end-m:end], r.width)
	if w0 <= 0 || r0 <= 0 {
		return math.NaN(), math.NaN(), parallax
	}
	return w1 / w0, r1/r0 - 1, parallax
}

// approachStart returns the k observations of before with the smallest
// face: where the approach began. The colours start only after the face
// fitted the start oval, so the smallest face before them is at most the
// start oval's bound.
func (r *Run) approachStart(before []*record, k int) []*record {
	s := slices.Clone(before)
	slices.SortStableFunc(s, func(a, b *record) int {
		wa, _ := faceFit(a.face)
		wb, _ := faceFit(b.face)
		return cmp.Compare(wa, wb)
	})
	return s[:min(k, len(s))]
}

func median(v []float64) float64 { return quantile(v, 0.5) }

// quantile is the q-quantile of v (linear interpolation), NaN when empty.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (s[i+1]-s[i])*(pos-float64(i))
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
