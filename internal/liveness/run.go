package liveness

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/livenessd/livenessd"
)

// ErrTooManyFrames is returned by AddFrame past Config.MaxFrames.
var ErrTooManyFrames = errors.New("liveness: too many frames")

// record is what the Run keeps of one frame: no pixels, only measurements.
type record struct {
	at       time.Duration
	observed bool
	faces    int // observed frames: faces counted; others: -1
	face     livenessd.FaceObservation
	lay      layout
	hasLay   bool
	s        sample
	sharp    float64
	norms    []vec3 // observed frames: the mesh probes' normals
}

type pendingFrame struct {
	rec int // index into Run.recs
	img image.Image
}

// Run analyses one capture incrementally: AddFrame measures each frame as it
// arrives (observer, colour patches, texture), ColorShown records the
// client's colour onsets, and Finish fuses the signals. AddFrame and Finish
// must be called from one goroutine at a time; ColorShown and End may be
// called from any goroutine. The Run keeps the images of at most a few
// frames (pending interpolation, reference and audit candidates); callers
// must not modify a Frame's image after passing it.
type Run struct {
	obs      Observer
	ch       livenessd.Challenge
	settings livenessd.Settings
	cfg      Config
	th       Thresholds

	recs     []record
	pending  []pendingFrame
	lastObs  int // index of the last observed record with one face, -1
	sinceObs int
	width    int
	height   int

	guide     Guidance
	pos       Position
	inOval    bool
	holdCount int
	flashed   bool
	flashRec  int
	prevBox   *livenessd.Rect
	// inSince is the time of the first observation in the target oval
	// (-1 before): more approach is asked for from then on for at most
	// Fit.GrowthWait.
	inSince time.Duration

	// embs are the embeddings of the frames that take part in the
	// identity check; cosines are theirs to the medoid, computed once at
	// the end (identityCosines) or restored from a Snapshot.
	embs    [][]float32
	cosines []float64

	mesh   meshSet // the mesh probes, chosen on the first face with a mesh
	meshOK bool
	// The parFarViews farthest views of the face before the colours
	// (farthest first) and the view at the flash (parallax.go).
	parFar  []*faceCrop
	parNear *faceCrop
	par     *parallaxResult // once measured (or restored)

	best     candidate
	audit    []livenessd.AuditImage
	auditMid candidateImage
	auditEnd candidateImage
	auditAt  map[string]bool

	mu     sync.Mutex
	colors map[int]time.Duration
	endAt  time.Duration
	ended  bool
}

type candidate struct {
	score float64
	jpeg  []byte
	box   livenessd.BoundingBox
}

type candidateImage struct {
	img image.Image
	box livenessd.Rect
	ok  bool
}

// NewRun starts the analysis of one capture of challenge ch.
func NewRun(obs Observer, ch livenessd.Challenge, settings livenessd.Settings, cfg Config) *Run {
	cfg = cfg.withDefaults()
	return &Run{
		obs: obs, ch: ch, settings: settings, cfg: cfg, th: *cfg.Thresholds,
		lastObs: -1, flashRec: -1, inSince: -1, guide: GuideNoFace, pos: Position{Stage: StageStart},
		colors: map[int]time.Duration{}, auditAt: map[string]bool{},
	}
}

// Flashed reports whether the face has reached the oval and the colours
// were requested.
func (r *Run) Flashed() bool { return r.flashed }

// Position is the latest observed face's stage of the approach and how
// much of the target oval it fills (as of the last AddFrame).
func (r *Run) Position() Position { return r.pos }

// ColorShown records that Challenge.Colors[c.Index] became visible at c.At.
// Out-of-range indices are ignored; a repeated index keeps the first time.
func (r *Run) ColorShown(c ColorShown) {
	if c.Index < 0 || c.Index >= len(r.ch.Colors) || c.At < 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.colors[c.Index]; !ok {
		r.colors[c.Index] = c.At
	}
}

// End records the client's end of capture time.
func (r *Run) End(at time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endAt, r.ended = at, true
}

// AddFrame measures one frame: every Config.ObserveEvery-th frame goes
// through the observer (faces, landmarks, embedding, live score); the colour
// patches of the frames in between are measured with the landmarks
// interpolated once the next observation arrives. It returns the current
// guidance, whether the face is in the target oval, and flash = true
// exactly once, when the face, after fitting the start oval, has held in
// the target and the colours should start (Position tells the stage and
// the fill). Errors:
// ErrTooManyFrames, livenessd.ErrInvalidImage for an empty image, the
// observer's errors (wrapped) except livenessd.ErrNoFace, which counts as
// a frame without a face.
func (r *Run) AddFrame(ctx context.Context, f Frame) (g Guidance, inOval, flash bool, err error) {
	if f.Image == nil || f.Image.Bounds().Empty() {
		return r.guide, r.inOval, false, fmt.Errorf("liveness: frame %d: %w", f.Index, livenessd.ErrInvalidImage)
	}
	if len(r.recs) >= r.cfg.MaxFrames {
		return r.guide, r.inOval, false, fmt.Errorf("liveness: frame %d: %w", f.Index, ErrTooManyFrames)
	}
	// The latest frame's size: a client that switches cameras may change it.
	b := f.Image.Bounds()
	r.width, r.height = b.Dx(), b.Dy()
	r.recs = append(r.recs, record{at: f.At, faces: -1})
	idx := len(r.recs) - 1
	if r.sinceObs > 0 && r.sinceObs < r.cfg.ObserveEvery {
		r.sinceObs++
		r.pending = append(r.pending, pendingFrame{rec: idx, img: f.Image})
		return r.guide, r.inOval, false, nil
	}
	if err := ctx.Err(); err != nil {
		return r.guide, r.inOval, false, fmt.Errorf("liveness: frame %d: %w", f.Index, err)
	}
	faces, err := r.obs.ObserveFrame(ctx, f.Image)
	if err != nil && !errors.Is(err, livenessd.ErrNoFace) {
		return r.guide, r.inOval, false, fmt.Errorf("liveness: observe frame %d: %w", f.Index, err)
	}
	r.sinceObs = 1
	rec := &r.recs[idx]
	rec.observed = true
	rec.faces = countFaces(faces)
	px := newPixels(f.Image)
	var view *faceCrop // this frame's parallax view, if kept among the farthest
	if len(faces) > 0 {
		rec.face = largest(faces)
		rec.lay = faceLayout(rec.face)
		rec.hasLay = true
		r.observeMesh(rec)
		view = r.observeViews(px, rec)
		rec.s = measure(px, rec.lay)
		rec.sharp = sharpness(px, rec.face.Box)
	}
	r.flushPending(idx)
	if rec.faces == 1 {
		r.observeIdentity(rec)
		r.lastObs = idx
	}
	g, inOval = r.guidance(rec)
	r.guide, r.inOval = g, inOval
	if inOval {
		r.holdCount++
	} else {
		r.holdCount = 0
	}
	if !r.flashed && r.holdCount >= r.cfg.HoldObservations {
		r.flashed, r.flashRec, flash = true, idx, true
		if rec.faces == 1 {
			if view == nil { // not among the farthest: cropped now
				view, _ = newFaceCrop(px, rec.face.Mesh)
			}
			r.parNear, r.par = view, nil // measured again from the new view
		}
	}
	if rec.faces == 1 {
		r.keepImages(idx, f.Image)
	}
	return g, inOval, flash, nil
}

// flushPending measures the frames waiting between the previous observation
// and record upto (exclusive; upto < 0 measures them with the previous one).
func (r *Run) flushPending(upto int) {
	for _, p := range r.pending {
		var l layout
		ok := false
		prev := r.lastObs
		switch {
		case prev >= 0 && upto >= 0 && r.recs[upto].faces == 1:
			a, b := r.recs[prev], r.recs[upto]
			w := float64(p.rec-prev) / float64(upto-prev)
			l, ok = lerpLayout(a.lay, b.lay, w), true
		case prev >= 0:
			l, ok = r.recs[prev].lay, true
		case upto >= 0 && r.recs[upto].faces == 1:
			l, ok = r.recs[upto].lay, true
		}
		if ok {
			r.recs[p.rec].lay, r.recs[p.rec].hasLay = l, true
			r.recs[p.rec].s = measure(newPixels(p.img), l)
		}
	}
	clear(r.pending)
	r.pending = r.pending[:0]
}

// countFaces counts faces of at least a fifth of the largest one's area, so
// a distant bystander far behind the user does not count.
func countFaces(faces []livenessd.FaceObservation) int {
	if len(faces) == 0 {
		return 0
	}
	big := largest(faces).Box.Area()
	n := 0
	for _, f := range faces {
		if f.Box.Area() >= 0.2*big {
			n++
		}
	}
	return n
}

func largest(faces []livenessd.FaceObservation) livenessd.FaceObservation {
	best := faces[0]
	for _, f := range faces[1:] {
		if f.Box.Area() > best.Box.Area() {
			best = f
		}
	}
	return best
}

// observeMesh places the mesh probes of an observed face (choosing them on
// the capture's first face with a mesh) and fits their normals.
func (r *Run) observeMesh(rec *record) {
	m := rec.face.Mesh
	if len(m) != meshPoints {
		return
	}
	if !r.meshOK {
		if rec.faces != 1 {
			return
		}
		if r.mesh, r.meshOK = selectMeshSet(rec.face); !r.meshOK {
			return
		}
	}
	rec.lay.mesh = make([]livenessd.Point, len(r.mesh.idx))
	for k, i := range r.mesh.idx {
		rec.lay.mesh[k] = pt(m[i].X, m[i].Y)
	}
	rec.norms = r.mesh.normals(m)
}

// observeViews keeps the view of a lone face before the colours if it is
// among the parFarViews farthest, and returns it (nil when it keeps none;
// the flash takes the view it kept rather than a copy, so that a view is
// never fitted against itself).
func (r *Run) observeViews(px pixels, rec *record) *faceCrop {
	m := rec.face.Mesh
	if r.flashed || rec.faces != 1 || len(m) != meshPoints {
		return nil
	}
	// Whether the view is kept depends only on its width: the crop (64 KB)
	// is made only for a view that is.
	if lo, hi, _, _ := meshBounds(m); farSlot(r.parFar, hi-lo) >= parFarViews {
		return nil
	}
	c, ok := newFaceCrop(px, m)
	if !ok {
		return nil
	}
	r.parFar, r.par = keepFarthest(r.parFar, c, parFarViews), nil
	return c
}

// farSlot is where a view of a face width wide goes among views (narrowest
// face first; of equal widths the earlier view first); n or more when it
// is not among the n narrowest.
func farSlot(views []*faceCrop, width float64) int {
	i := len(views)
	for i > 0 && width < views[i-1].width {
		i--
	}
	return i
}

// keepFarthest inserts c into views at its farSlot and keeps the n
// narrowest.
func keepFarthest(views []*faceCrop, c *faceCrop, n int) []*faceCrop {
	i := farSlot(views, c.width)
	if i >= n {
		return views
	}
	views = slices.Insert(views, i, c)
	if len(views) > n {
		views = views[:n]
	}
	return views
}

// identityMinWidth is the smallest face box, in frame pixels, whose
// embedding takes part in the identity check (the embedding model sees
// 112 px; a face much smaller is no evidence of who it is).
const identityMinWidth = 60

// tooClose reports whether rec's face was seen before the face first
// fitted the start oval: a face too close to be evidence of who it is.
// Some 20 cm from the camera a face is distorted by perspective and cut by
// the frame's edges, and such frames are not needed: the approach and the
// colours come after the start oval was fitted. Until 2026-12-07 only
// faces at least 0.75 of the frame's height wide were left out (on the dev
// recording of seed 12, 6 of the 239 identity frames that wide had a
// cosine below the identity threshold to their capture's medoid, and 4 of
// the 15,467 others); near starts at 0.71-0.73 of the frame's height then
// still failed the identity check with two first frames at cosines 0.07
// and 0.09 (dev seed 56), as did one at 0.68 (docs/ACCURACY.md).
func (r *Run) tooClose(rec *record) bool {
	return r.pos.Stage == StageStart && !place(rec.face, r.ch, r.width, r.height).fitsStart(*r.cfg.Fit)
}

func (r *Run) observeIdentity(rec *record) {
	e := rec.face.Embedding
	if len(e) == 0 || rec.face.Box.W < identityMinWidth || r.tooClose(rec) {
		return
	}
	r.embs = append(r.embs, e)
	r.cosines = nil // the medoid may move
}

// identityCosines are the cosines of the capture's embeddings to their
// medoid (a copy), measured once for the frames in so far.
func (r *Run) identityCosines() []float64 {
	if r.cosines == nil {
		r.cosines = medoidCosines(r.embs)
	}
	return slices.Clone(r.cosines)
}

// medoidCosines are the cosines of embs to their medoid: the one with the
// highest median cosine to the others (empty for fewer than two). The
// reference used to be the first frame, and one odd first frame (likely a
// face so close that the frame's edge cuts it) then made every cosine low
// and refused live captures as "face changed" (held-out runs: cosines to
// the first frame 0.06-0.35 throughout). A swap is still caught from
// either side: whichever person the medoid shows, the other's frames are
// far from it.
func medoidCosines(embs [][]float32) []float64 {
	n := len(embs)
	if n < 2 {
		return []float64{}
	}
	m := make([]float64, n*n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			c := cosine(embs[i], embs[j])
			m[i*n+j], m[j*n+i] = c, c
		}
	}
	best, bestMed := 0, math.Inf(-1)
	row := make([]float64, 0, n-1)
	for i := range n {
		row = row[:0]
		for j := range n {
			if j != i {
				row = append(row, m[i*n+j])
			}
		}
		if med := median(row); med > bestMed {
			best, bestMed = i, med
		}
	}
	out := make([]float64, 0, n-1)
	for j := range n {
		if j != best {
			out = append(out, m[best*n+j])
		}
	}
	return out
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// guidance is the instruction for the latest observation and whether the
// face is in the target oval. Until the face has fitted inside the start
// oval once, a larger face is asked to move back (a face that already
// fills the target has not shown an approach); from then on it is guided
// into the target, and closer within it while it has grown less than
// Fit.Growth times since the far views (placement.need), for at most
// Fit.GrowthWait from its first observation in the oval: a person who
// cannot come closer (or whose growth the mesh measures short) then gets
// the colours rather than a timeout.
func (r *Run) guidance(rec *record) (Guidance, bool) {
	defer func() {
		if rec.faces == 1 {
			b := rec.face.Box
			r.prevBox = &b
		} else {
			r.prevBox = nil
		}
	}()
	r.pos.Fill, r.pos.Need = 0, 0
	switch {
	case rec.faces == 0:
		return GuideNoFace, false
	case rec.faces > 1:
		return GuideMultipleFaces, false
	}
	p := place(rec.face, r.ch, r.width, r.height)
	r.pos.Fill = p.fill
	if skin, ok := rec.s.skin(); ok {
		switch l := luma(skin); {
		case l < r.th.MinBrightness:
			return GuideTooDark, false
		case l > r.th.MaxBrightness:
			return GuideTooBright, false
		}
	}
	if r.pos.Stage == StageStart {
		if !p.fitsStart(*r.cfg.Fit) {
			return GuideMoveBack, false
		}
		r.pos.Stage = StageTarget
	}
	g, in := p.target(*r.cfg.Fit)
	if in && r.inSince < 0 {
		r.inSince = rec.at
	}
	grown := 0.0 // unknown, as after the wait: need is then Fit.Min
	if r.inSince < 0 || rec.at-r.inSince < r.cfg.Fit.GrowthWait {
		grown = r.grown(rec)
	}
	r.pos.Need = p.need(*r.cfg.Fit, grown)
	if !in {
		return g, false
	}
	// In the oval, but too little approach for the parallax: closer.
	if p.fill < r.pos.Need {
		return GuideMoveCloser, false
	}
	// The colours wait for a head that faces the screen: a capture taken
	// with it turned past the pose gate would be refused after them.
	if p := rec.face.Pose; math.Max(math.Abs(p.Yaw), math.Abs(p.Pitch)) > r.th.MaxPose {
		return GuideFaceCamera, false
	}
	if p := r.prevBox; p != nil && dist(p.Center(), rec.face.Box.Center()) > holdMaxMove*rec.face.Box.W {
		return GuideHoldStill, true
	}
	return GuideOK, true
}

// grown is how many times the face's mesh is wider than in the capture's
// middle far view: the growth the parallax will measure if this view is
// the near one (0 when unknown: no far view or no mesh).
func (r *Run) grown(rec *record) float64 {
	m := rec.face.Mesh
	if len(r.parFar) == 0 || len(m) != meshPoints {
		return 0
	}
	far := r.parFar[len(r.parFar)/2].width
	if far <= 0 {
		return 0
	}
	lo, hi, _, _ := meshBounds(m)
	return (hi - lo) / far
}

// Frame score for the reference image: sharp, frontal, in the oval.
func frameScore(rec *record, inOval bool) float64 {
	s := rec.sharp * math.Max(0, 1-(math.Abs(rec.face.Pose.Yaw)+math.Abs(rec.face.Pose.Pitch))/90)
	if inOval {
		s *= 2
	}
	return s
}
