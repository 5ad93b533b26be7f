package simulate

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// EvalConfig describes a batch of simulated sessions analysed in process
// through the same liveness.Run the capture WebSocket uses.
type EvalConfig struct {
	Faces    []Source // the people; session s shows Faces[s%len] (swap: the next one)
	Observer liveness.Observer
	Analysis liveness.Config
	Sessions int      // sessions per kind and setting
	Kinds    []Attack // kinds to play
	Settings []Setting
	Seed     uint64
	Workers  int
	// Progress is called after each session (optional).
	Progress func(done, total int)
	// Deadline stops starting new sessions (zero: none); sessions already
	// started finish, and the outcomes say how many ran.
	Deadline time.Time
	// Snapshots keeps each session's measurements in its Outcome, for
	// re-running the fusion without the face models (calibration).
	Snapshots bool
	// ParallaxViews keeps each session's parallax views in its Outcome,
	// for diagnosing the parallax fit offline.
	ParallaxViews bool
	// NearStart is the fraction of sessions whose person starts close to
	// the camera (StartNear: asked to move back first); drawn per session
	// from the seed, the same for every kind and setting of a session.
	NearStart float64
	// VaryScenes draws a new Scene for every session index (DrawScene
	// from the seed): face shape, light, camera, timing. Off: DefaultScene.
	VaryScenes bool
	// Glasses, when set, replaces the drawn scenes' glasses (paired
	// measurements: the same captures with and without them).
	Glasses *GlassesOverride
}

// GlassesOverride puts glasses on a share of the sessions (drawn per
// session from the seed) and, when LensReflect >= 0, sets their lenses'
// reflection; every other factor of a scene stays as drawn.
type GlassesOverride struct {
	Share       float64
	LensReflect float64
}

// Setting is one reflection strength / camera behaviour combination.
type Setting struct {
	Strength float64
	AWB      bool
	// Kinds restricts the kinds played at this setting (nil: all).
	Kinds []Attack
	// Sessions overrides EvalConfig.Sessions when > 0.
	Sessions int
}

// Outcome is one analysed session.
type Outcome struct {
	Kind    Attack
	Setting Setting
	Session int
	Start   Start
	Result  livenessd.Result
	Err     error
	// Scene is the world the session was played in.
	Scene Scene
	// Source is the index of the face in EvalConfig.Faces, Skin its ITA°
	// and FaceWidth its outline width in eye distances.
	Source    int
	Skin      float64
	FaceWidth float64
	// Snapshot is the session's measurements (EvalConfig.Snapshots).
	Snapshot *liveness.Snapshot
	// Parallax is the session's parallax views (EvalConfig.ParallaxViews;
	// nil when the capture kept none).
	Parallax *liveness.ParallaxViews
}

// Evaluate plays the sessions. Captures of one session index share the
// challenge, the source and the seed, so the kinds whose geometry is the
// same (none, replay, delayed: a live face moving; they differ only in the
// light) share one rendering of the geometry and one set of face
// observations per frame: the observer runs once per frame and geometry,
// not once per variant. Light, exposure, noise and JPEG are applied per
// variant, and every variant's colour patches are measured on its own
// pixels.
func Evaluate(ctx context.Context, cfg EvalConfig) ([]Outcome, error) {
	if len(cfg.Faces) < 2 {
		return nil, fmt.Errorf("simulate: evaluate needs at least 2 faces")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	maxSessions := cfg.Sessions
	for _, s := range cfg.Settings {
		maxSessions = max(maxSessions, s.Sessions)
	}
	total := 0
	for _, st := range cfg.Settings {
		n := cfg.Sessions
		if st.Sessions > 0 {
			n = st.Sessions
		}
		total += n * len(kindsOf(cfg, st))
	}
	jobs := make(chan int)
	var mu sync.Mutex
	var out []Outcome
	var firstErr error
	var wg sync.WaitGroup
	done := 0
	for range cfg.Workers {
		wg.Go(func() {
			for s := range jobs {
				res, err := evalSession(ctx, cfg, s)
				mu.Lock()
				out = append(out, res...)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				done += len(res)
				if cfg.Progress != nil {
					cfg.Progress(done, total)
				}
				mu.Unlock()
			}
		})
	}
	for s := range maxSessions {
		if ctx.Err() != nil || (!cfg.Deadline.IsZero() && time.Now().After(cfg.Deadline)) {
			break
		}
		jobs <- s
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return out, firstErr
	}
	return out, ctx.Err()
}

func kindsOf(cfg EvalConfig, st Setting) []Attack {
	if st.Kinds != nil {
		return st.Kinds
	}
	return cfg.Kinds
}

func geometryOf(a Attack) Attack {
	switch a {
	case AttackReplay, AttackDelayed:
		return AttackNone
	}
	return a
}

// scene is the world of the session with this seed.
func (cfg EvalConfig) scene(seed uint64) Scene {
	scene := DefaultScene()
	if cfg.VaryScenes {
		scene = DrawScene(rand.New(rand.NewPCG(seed, 0x5ce7e)))
	}
	if g := cfg.Glasses; g != nil {
		scene.Glasses = rand.New(rand.NewPCG(seed, 0x676c61)).Float64() < g.Share
		if g.LensReflect >= 0 {
			scene.LensReflect = g.LensReflect
		}
	}
	return scene
}

func evalSession(ctx context.Context, cfg EvalConfig, s int) ([]Outcome, error) {
	src := cfg.Faces[s%len(cfg.Faces)]
	other := cfg.Faces[(s+1)%len(cfg.Faces)]
	seed := cfg.Seed*1_000_003 + uint64(s)
	ch, err := liveness.NewChallengeFrom(seededSource(seed, "evaluation challenge"), livenessd.ChallengeMovementAndLight)
	if err != nil {
		return nil, err
	}
	start := StartFar
	if rand.New(rand.NewPCG(seed, 0x73746172)).Float64() < cfg.NearStart {
		start = StartNear
	}
	scene := cfg.scene(seed)
	bases := map[Attack]*BaseCache{}
	obsCache := map[Attack]*cachingObserver{}
	var out []Outcome
	for _, st := range cfg.Settings {
		n := cfg.Sessions
		if st.Sessions > 0 {
			n = st.Sessions
		}
		if s >= n {
			continue
		}
		for _, kind := range kindsOf(cfg, st) {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			g := geometryOf(kind)
			if kind == AttackSwap {
				g = kind
			}
			if bases[g] == nil {
				bases[g] = NewBaseCache()
				obsCache[g] = &cachingObserver{obs: cfg.Observer, m: map[int][]livenessd.FaceObservation{}}
			}
			var cache *BaseCache
			if kind != AttackSwap { // the swap's moment depends on the flash; keep it uncached
				cache = bases[g]
			}
			p, err := NewPlayer(src, ch, Options{Attack: kind, Strength: st.Strength, AWB: st.AWB, Seed: seed, Other: &other, Cache: cache, Start: start, Scene: &scene})
			if err != nil {
				return out, err
			}
			co := obsCache[g]
			run := liveness.NewRun(co, ch, livenessd.Settings{}, cfg.Analysis)
			tgt := &cachingTarget{RunTarget: &RunTarget{Run: run}, co: co}
			err = Play(ctx, p, tgt, PlayOptions{})
			var res livenessd.Result
			if err == nil || err == ErrNeverFlashed {
				res, err = run.Finish(ctx)
			}
			o := Outcome{Kind: kind, Setting: st, Session: s, Start: start, Result: res, Err: err, Scene: p.scene, Source: s % len(cfg.Faces), Skin: src.Skin, FaceWidth: src.widthIOD()}
			if cfg.Snapshots && err == nil {
				snap := run.Snapshot()
				o.Snapshot = &snap
			}
			if cfg.ParallaxViews {
				if v, ok := run.ParallaxViews(); ok {
					o.Parallax = &v
				}
			}
			out = append(out, o)
			if err != nil && ctx.Err() != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// cachingObserver answers for frame index i from its cache when the same
// geometry was observed before.
type cachingObserver struct {
	obs liveness.Observer
	mu  sync.Mutex
	m   map[int][]livenessd.FaceObservation
	cur int
}

func (c *cachingObserver) ObserveFrame(ctx context.Context, img image.Image) ([]livenessd.FaceObservation, error) {
	c.mu.Lock()
	f, ok := c.m[c.cur]
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := c.obs.ObserveFrame(ctx, img)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.m[c.cur] = f
	c.mu.Unlock()
	return f, nil
}

type cachingTarget struct {
	*RunTarget
	co *cachingObserver
}

func (t *cachingTarget) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	t.co.cur = int(at / time.Millisecond)
	return t.RunTarget.Frame(ctx, at, jpg)
}

// widthIOD is the face outline's width in eye distances (NaN unknown).
func (s Source) widthIOD() float64 {
	el, er := s.eyes()
	iod := math.Hypot(er.X-el.X, er.Y-el.Y)
	if iod <= 0 || s.Contour <= 0 {
		return math.NaN()
	}
	return s.Contour / iod
}
