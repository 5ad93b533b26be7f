package liveness

import (
	"maps"
	"math"
	"time"

	"github.com/livenessd/livenessd"
)

// Snapshot is what Finish reads of a Run: the per-frame measurements (no
// pixels, no embeddings), the colour onsets and the identity cosines. It
// lets calibration re-run the fusion and the light analysis on recorded
// captures without the face models (livenessd eval liveness --record /
// --rescore). A Snapshot only restores into the build that recorded it:
// the patch and probe sets are part of its shape.
type Snapshot struct {
	Challenge livenessd.Challenge
	Colors    map[int]time.Duration
	EndAt     time.Duration
	Ended     bool
	Flashed   bool
	FlashRec  int
	Cosines   []float64
	Width     int
	Height    int
	Frames    []SnapshotFrame
	// MeshIdx and MeshNbr are the capture's mesh probes (mesh.go).
	MeshIdx []int
	MeshNbr [][]int
	// Parallax is the fitted parallax of the approach (parallax.go): the
	// views it is measured on are pixels, which a Snapshot does not hold.
	Parallax ParallaxFit
}

// ParallaxFit is the parallax fit of a capture (NaN when not measured).
type ParallaxFit struct {
	Beta, T, Points, Growth float64
	Dropped                 float64 // tracks that did not come back (older recordings: 0)
}

// SnapshotFrame is one frame's measurements.
type SnapshotFrame struct {
	At        time.Duration
	Observed  bool
	Faces     int
	Box       livenessd.Rect
	Pose      livenessd.Pose
	LiveScore float64
	Landmarks []livenessd.Point // observed frames
	Keypoints []livenessd.Point
	HasLayout bool
	Centre    [nPatch]livenessd.Point
	Radius    float64
	IOD       float64
	Width     float64
	EyeL      livenessd.Point
	EyeR      livenessd.Point
	Patch     [nPatch][3]float64
	PatchOK   [nPatch]bool
	Sharp     float64
	// The mesh probes: places (HasLayout), mean RGB, whether measured, and
	// on observed frames their normals (x, y, z).
	Mesh     []livenessd.Point
	MeshRGB  [][3]float32
	MeshOK   []bool
	MeshNorm [][3]float64
	// MeshFull is the whole mesh of an observed frame (the parallax).
	MeshFull []livenessd.Point3
}

// Snapshot copies the Run's measurements. Call it after Finish (or instead
// of it): pending frames are measured first.
func (r *Run) Snapshot() Snapshot {
	r.flushPending(-1)
	r.mu.Lock()
	s := Snapshot{
		Challenge: r.ch, Colors: maps.Clone(r.colors), EndAt: r.endAt, Ended: r.ended,
		Flashed: r.flashed, FlashRec: r.flashRec, Width: r.width, Height: r.height,
		Cosines: r.identityCosines(),
	}
	p := r.parallax()
	s.Parallax = ParallaxFit{Beta: p.beta, T: p.t, Points: float64(p.points), Growth: p.growth, Dropped: float64(p.dropped)}
	if r.meshOK {
		s.MeshIdx, s.MeshNbr = r.mesh.idx, r.mesh.nbr
	}
	r.mu.Unlock()
	s.Frames = make([]SnapshotFrame, len(r.recs))
	for i, rec := range r.recs {
		s.Frames[i] = SnapshotFrame{
			At: rec.at, Observed: rec.observed, Faces: rec.faces,
			Box: rec.face.Box, Pose: rec.face.Pose, LiveScore: rec.face.LiveScore,
			Landmarks: rec.face.Landmarks, Keypoints: rec.face.Keypoints,
			HasLayout: rec.hasLay, Centre: rec.lay.centre,
			Radius: rec.lay.radius, IOD: rec.lay.iod, Width: rec.lay.width, EyeL: rec.lay.eyeL, EyeR: rec.lay.eyeR,
			Patch: rec.s.patch, PatchOK: rec.s.ok,
			Sharp: rec.sharp,
			Mesh:  rec.lay.mesh, MeshRGB: rec.s.mesh, MeshOK: rec.s.mok,
			MeshFull: rec.face.Mesh,
		}
		for _, n := range rec.norms {
			s.Frames[i].MeshNorm = append(s.Frames[i].MeshNorm, n.arr())
		}
	}
	return s
}

// RestoreRun rebuilds a Run from a Snapshot so that Finish can fuse its
// measurements under cfg. The restored Run has no reference or audit
// images and takes no frames.
func RestoreRun(s Snapshot, cfg Config) *Run {
	r := NewRun(nil, s.Challenge, livenessd.Settings{}, cfg)
	r.colors = maps.Clone(s.Colors)
	if r.colors == nil {
		r.colors = map[int]time.Duration{}
	}
	r.endAt, r.ended = s.EndAt, s.Ended
	r.flashed, r.flashRec = s.Flashed, s.FlashRec
	if r.flashRec < 0 || r.flashRec >= len(s.Frames) {
		// A frame index the snapshot does not hold: no flash frame
		// (Snapshot files are read back from disk).
		r.flashed, r.flashRec = false, -1
	}
	r.width, r.height = s.Width, s.Height
	r.cosines = append([]float64(nil), s.Cosines...)
	r.par = &parallaxResult{beta: math.NaN(), t: math.NaN()}
	if s.Parallax.Points >= 1 && s.Parallax.Points <= meshPoints { // older recordings have none
		r.par = &parallaxResult{beta: s.Parallax.Beta, t: s.Parallax.T, points: int(s.Parallax.Points), growth: s.Parallax.Growth, dropped: int(s.Parallax.Dropped)}
	}
	if len(s.MeshIdx) > 0 && len(s.MeshNbr) == len(s.MeshIdx) {
		r.mesh, r.meshOK = meshSet{idx: s.MeshIdx, nbr: s.MeshNbr}, true
	}
	r.recs = make([]record, len(s.Frames))
	for i, f := range s.Frames {
		r.recs[i] = record{
			at: f.At, observed: f.Observed, faces: f.Faces,
			face: livenessd.FaceObservation{Box: f.Box, Pose: f.Pose, LiveScore: f.LiveScore,
				Landmarks: f.Landmarks, Keypoints: f.Keypoints, Mesh: f.MeshFull},
			hasLay: f.HasLayout,
			lay: layout{centre: f.Centre, radius: f.Radius, iod: f.IOD, width: f.Width, box: f.Box,
				eyeL: f.EyeL, eyeR: f.EyeR},
			s:     sample{patch: f.Patch, ok: f.PatchOK},
			sharp: f.Sharp,
		}
		// Mesh probe data only when it is whole: a file read back from
		// disk may hold anything.
		if n := len(f.Mesh); n > 0 && n == len(f.MeshRGB) && n == len(f.MeshOK) && n == len(s.MeshIdx) {
			r.recs[i].lay.mesh, r.recs[i].s.mesh, r.recs[i].s.mok = f.Mesh, f.MeshRGB, f.MeshOK
			if len(f.MeshNorm) == n {
				for _, v := range f.MeshNorm {
					r.recs[i].norms = append(r.recs[i].norms, vecOf(v))
				}
			}
		}
	}
	r.cfg.MaxFrames = len(r.recs) // no more frames
	return r
}
