package liveness

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/livenessd/livenessd"
)

// lightResult is the light-response analysis of one capture.
type lightResult struct {
	timingOK bool
	frames   int
	// gaps is how many colour intervals had no frame with the face's skin
	// measured (at the fitted lag, or 0 when none was fitted): a stream
	// that stalled, or a face that left the view, not a wrong answer.
	gaps      int
	corr      float64 // correlation of skin colour with the true sequence at the best lag
	lag       time.Duration
	z         float64 // (corr - mean of alternatives) / their spread
	margin    float64 // corr minus the best one-step-shifted sequence's
	matched   float64 // fraction of colour intervals whose response is nearest to their own colour
	matched2  float64 // ... whose own colour is among the two nearest
	amplitude float64 // skin response in log units per unit of screen colour
	bgRatio   float64 // background response / skin response
	// exposed is the share of the mesh probes that stayed inside the
	// camera's range in every light frame (1 without a mesh series).
	exposed float64
	// The response of the mesh probes against their normals (shading.go),
	// on chroma and on chroma and luminance.
	mesh, meshAll, meshNormals meshShadingResult
}

// lightSeries is the measured side of the correlation: detrended log RGB of
// the skin (mean of the mesh probes or of the skin patches, skinProbes) and
// of each patch, per frame.
type lightSeries struct {
	t     []time.Duration
	skin  [3][]float64
	raw   [3][]float64 // skin features before detrending
	patch [nPatch][3][]float64
	pok   [nPatch]bool
	// Mesh probes: per probe the features per frame, whether every frame
	// measured it, its mean normal and mean place on the face (IODs).
	mesh        [][3][]float64
	mok         []bool
	mnorm       []vec3
	mpos        []pointSum
	mfall       []float64  // faceFall of each probe
	mclipped    []bool     // a channel of the probe left the camera's range on some frame
	mframes     []int      // the frames (indices into t) the mesh series hold
	mfull       []pointSum // the whole mesh in face coordinates, summed
	meshMissing bool
}

// colourOnsets checks the client's colour times against the challenge: all
// present, in order, each gap within tolerance of the colour's duration.
func (r *Run) colourOnsets() ([]time.Duration, time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.ch.Colors)
	on := make([]time.Duration, n)
	for i := range n {
		at, ok := r.colors[i]
		if !ok {
			return nil, 0, false
		}
		on[i] = at
		if i > 0 {
			gap := on[i] - on[i-1]
			d := r.ch.Colors[i-1].Duration
			if gap < d-r.cfg.TimingTolerance || gap > d+r.cfg.TimingTolerance {
				return nil, 0, false
			}
		}
	}
	return on, on[n-1] + r.ch.Colors[n-1].Duration, true
}

func (r *Run) analyseLight() (res lightResult) {
	on, end, ok := r.colourOnsets()
	if !ok {
		return res
	}
	res.timingOK = true
	// The correlation uses frames from MaxLag after the first colour, so
	// every lag tried maps them into the colours; the per-interval match
	// uses every frame from the first colour on.
	// One choice of probes for both series, so the correlation and the
	// per-interval match read the same skin.
	probes := r.skinProbes(on[0], end)
	ser := r.lightSeries(on[0]+r.cfg.MaxLag, end, probes)
	all := r.lightSeries(on[0], end, probes)
	res.frames = len(all.t)
	res.exposed = ser.exposedShare()
	// Once, on every return: at the lag fitted below, or at 0 when too few
	// frames left none to fit.
	defer func() { res.gaps = colourGaps(all.t, on, res.lag) }()
	if len(ser.t) < 8 {
		return res
	}
	seq := make([]livenessd.RGB, len(r.ch.Colors))
	for i, c := range r.ch.Colors {
		seq[i] = c.Color
	}
	lags := make([]time.Duration, 0, 64)
	for l := time.Duration(0); l <= r.cfg.MaxLag; l += r.cfg.LagStep {
		lags = append(lags, l)
	}
	ts := make([]float64, len(ser.t))
	for i, t := range ser.t {
		ts[i] = t.Seconds()
	}
	ex := newExpecter(ser.t, ts, on, lags)
	ex.prepare(&ser.skin)
	corr, best := ex.bestCorr(seq)
	res.corr, res.lag = corr, lags[best]

	// Null distribution: the same onsets with random colours.
	h := fnv.New64a()
	h.Write([]byte(r.ch.ID))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(len(seq))))
	alts := make([]float64, 0, r.cfg.Alternatives)
	for range r.cfg.Alternatives {
		alt := randomSequence(rng, len(seq), seq)
		c, _ := ex.bestCorr(alt)
		alts = append(alts, c)
	}
	mean, sd := meanSD(alts)
	res.z = (corr - mean) / math.Max(sd, 0.02)

	late := make([]livenessd.RGB, len(seq))
	early := make([]livenessd.RGB, len(seq))
	for i := range seq {
		late[i] = seq[max(i-1, 0)]
		early[i] = seq[min(i+1, len(seq)-1)]
	}
	late[0] = seq[1%len(seq)]
	early[len(seq)-1] = seq[max(len(seq)-2, 0)]
	cl, _ := ex.bestCorr(late)
	ce, _ := ex.bestCorr(early)
	res.margin = corr - math.Max(cl, ce)

	exAll := newExpecter(all.t, nil, on, lags)
	res.matched, res.matched2 = exAll.matched(seq, best, &all.raw, on)

	// Response amplitudes at the fitted lag, per patch.
	e := ex.expected(seq, best)
	ee := dot3(&e, &e)
	if ee <= 0 {
		return res
	}
	res.amplitude = dot3(&e, &ser.skin) / ee
	em := ser.atMeshFrames(&e)
	res.mesh = meshShading(em, &ser, [3]bool{true, true, false}, outlineModel)
	res.meshAll = meshShading(em, &ser, [3]bool{true, true, true}, outlineModel)
	res.meshNormals = meshShading(em, &ser, [3]bool{true, true, true}, normalsModel)
	if ser.pok[patchBgL] && ser.pok[patchBgR] && res.amplitude > 0 {
		bg := (dot3(&e, &ser.patch[patchBgL]) + dot3(&e, &ser.patch[patchBgR])) / 2 / ee
		res.bgRatio = bg / res.amplitude
	}
	return res
}

// intervalGuard keeps the frames at a colour's edges out of its interval:
// the camera may have caught the change mid-exposure.
const intervalGuard = 40 * time.Millisecond

// colourInterval is the k-th colour's interval in camera time at lag:
// from its onset plus the guard to the next onset less half the guard
// (the last colour's runs on).
func colourInterval(on []time.Duration, k int, lag time.Duration) (lo, hi time.Duration) {
	lo = on[k] + lag + intervalGuard
	hi = time.Duration(math.MaxInt64)
	if k+1 < len(on) {
		hi = on[k+1] + lag - intervalGuard/2
	}
	return lo, hi
}

// colourGaps counts the colour intervals at lag in which no frame of ts
// (sorted) falls.
func colourGaps(ts []time.Duration, on []time.Duration, lag time.Duration) int {
	gaps := 0
	for k := range on {
		lo, hi := colourInterval(on, k, lag)
		i, _ := slices.BinarySearch(ts, lo)
		if i == len(ts) || ts[i] >= hi {
			gaps++
		}
	}
	return gaps
}

// lightSeries collects the detrended features of the frames in [from, to],
// the skin read over probes (skinProbes; nil: the five skin patches).
func (r *Run) lightSeries(from, to time.Duration, probes []bool) lightSeries {
	var ser lightSeries
	for i := range ser.pok {
		ser.pok[i] = true
	}
	for _, rec := range r.recs {
		if !rec.hasLay || rec.at < from || rec.at > to {
			continue
		}
		var sk [3]float64
		if probes != nil {
			if len(rec.s.mesh) != len(probes) {
				continue // the mesh was lost on this frame
			}
			sk = probeMean(rec.s.mesh, probes)
		} else {
			var ok bool
			if sk, ok = rec.s.skin(); !ok {
				continue
			}
		}
		ser.t = append(ser.t, rec.at)
		f := features(sk)
		for c := range 3 {
			ser.skin[c] = append(ser.skin[c], f[c])
			ser.raw[c] = append(ser.raw[c], f[c])
		}
		for p := range nPatch {
			f := features(rec.s.patch[p])
			for c := range 3 {
				ser.patch[p][c] = append(ser.patch[p][c], f[c])
			}
			ser.pok[p] = ser.pok[p] && rec.s.ok[p]
		}
		ser.addMesh(&rec)
	}
	ts := make([]float64, len(ser.t))
	for i, t := range ser.t {
		ts[i] = t.Seconds()
	}
	for c := range 3 {
		detrend(ts, ser.skin[c])
		for p := range nPatch {
			detrend(ts, ser.patch[p][c])
		}
	}
	ser.finishMesh(ts)
	return ser
}

// minSkinProbes is the least number of mesh probes the skin colour is
// averaged over; with fewer the five skin patches are read instead.
const minSkinProbes = 8

// skinProbes chooses where the skin colour of the frames in [from, to] is
// read: the mesh probes measured on every one of those frames that has a
// mesh (a mask over the capture's probe set), or nil for the five skin
// patches. The probes cover the face's skin with about six times the
// patches' pixels, so JPEG blocks, chroma subsampling and sensor noise
// weigh less in each frame's colour: with a face 130 pixels wide (a
// 320x240 camera) a patch is 11 pixels across. A fixed set keeps a probe
// leaving the image from showing up as a step in the colour, and a face
// partly out of the frame (its chin below the image's edge as it comes
// close) keeps its frames: the five patches need all five in view. The
// patches are the fallback when the mesh was missing on more than
// meshMinFrames of the frames or too few probes stayed in view.
func (r *Run) skinProbes(from, to time.Duration) []bool {
	// A frame's probes are the capture's probe set, or none where the
	// mesh was lost.
	use := make([]bool, len(r.mesh.idx))
	for i := range use {
		use[i] = true
	}
	frames, meshFrames := 0, 0
	for _, rec := range r.recs {
		if !rec.hasLay || rec.at < from || rec.at > to {
			continue
		}
		frames++
		if len(rec.s.mesh) != len(use) || len(use) == 0 {
			continue
		}
		meshFrames++
		for i, ok := range rec.s.mok {
			use[i] = use[i] && ok
		}
	}
	if meshFrames == 0 || float64(meshFrames) < meshMinFrames*float64(frames) {
		return nil
	}
	n := 0
	for _, ok := range use {
		if ok {
			n++
		}
	}
	if n < minSkinProbes {
		return nil
	}
	return use
}

// probeMean is the mean colour of the probes use selects.
func probeMean(mesh [][3]float32, use []bool) [3]float64 {
	var m [3]float64
	n := 0
	for i, c := range mesh {
		if !use[i] {
			continue
		}
		for k := range 3 {
			m[k] += float64(c[k])
		}
		n++
	}
	for k := range m {
		m[k] /= float64(n)
	}
	return m
}

// expecter builds the expected colour signal of a sequence at each lag.
type expecter struct {
	t    []time.Duration
	ts   []float64
	on   []time.Duration
	lags []time.Duration
	// idx[l][j] is the interval shown at t[j]-lags[l].
	idx [][]int
	// Sufficient statistics of the measured series (prepare).
	st     []lagStats
	xx     float64
	nbasis int
}

func newExpecter(t []time.Duration, ts []float64, on []time.Duration, lags []time.Duration) *expecter {
	ex := &expecter{t: t, ts: ts, on: on, lags: lags, idx: make([][]int, len(lags))}
	for l, lag := range lags {
		ex.idx[l] = make([]int, len(t))
		for j, tj := range t {
			k := 0
			for k+1 < len(on) && on[k+1] <= tj-lag {
				k++
			}
			ex.idx[l][j] = k
		}
	}
	return ex
}

func (ex *expecter) expected(seq []livenessd.RGB, l int) [3][]float64 {
	var e [3][]float64
	for c := range 3 {
		e[c] = make([]float64, len(ex.t))
	}
	for j, k := range ex.idx[l] {
		f := colourFeatures(seq[k])
		for c := range 3 {
			e[c][j] = f[c]
		}
	}
	for c := range 3 {
		detrend(ex.ts, e[c])
	}
	return e
}

// prepare computes, for each lag and colour interval, the sums of the
// measured series and of the detrending basis over the frames the interval
// covers at that lag: then the correlation of any colour sequence at any
// lag costs O(intervals), not O(frames), which keeps the null distribution
// of a few hundred random sequences within milliseconds.
func (ex *expecter) prepare(x *[3][]float64) {
	basis := quadBasis(ex.ts) // as detrend uses
	K := len(ex.on)
	ex.xx = dot3(x, x)
	ex.st = make([]lagStats, len(ex.lags))
	for l := range ex.lags {
		st := lagStats{cnt: make([]float64, K), sx: make([][3]float64, K), sq: make([][3]float64, K)}
		for j, k := range ex.idx[l] {
			st.cnt[k]++
			for c := range 3 {
				st.sx[k][c] += x[c][j]
			}
			for b, q := range basis {
				st.sq[k][b] += q[j]
			}
		}
		ex.st[l] = st
	}
	ex.nbasis = len(basis)
}

type lagStats struct {
	cnt []float64    // frames per interval
	sx  [][3]float64 // per interval: sum of each measured feature
	sq  [][3]float64 // per interval: sum of each basis vector
}

// bestCorr is the highest correlation of the prepared series with seq over
// the lags, and the lag's index. The expected signal is each interval's
// colour features, detrended like the series; since the series is already
// orthogonal to the basis, only the expected signal's norm needs it.
func (ex *expecter) bestCorr(seq []livenessd.RGB) (float64, int) {
	best, bi := math.Inf(-1), 0
	f := make([][3]float64, len(seq))
	for k, c := range seq {
		f[k] = colourFeatures(c)
	}
	for l, st := range ex.st {
		var ex2, exy float64
		for c := range 3 {
			var ee, proj [3]float64
			var xy float64
			for k := range f {
				v := f[k][c]
				ee[0] += st.cnt[k] * v * v
				xy += v * st.sx[k][c]
				for b := range ex.nbasis {
					proj[b] += v * st.sq[k][b]
				}
			}
			e2 := ee[0]
			for b := range ex.nbasis {
				e2 -= proj[b] * proj[b]
			}
			ex2 += e2
			exy += xy
		}
		c := 0.0
		if ex2 > 1e-12 && ex.xx > 0 {
			c = exy / math.Sqrt(ex2*ex.xx)
		}
		if c > best {
			best, bi = c, l
		}
	}
	return best, bi
}

// matched classifies each colour interval's mean response (frames well
// inside the interval at lag l) against the palette and returns the
// fraction of intervals whose own colour is the nearest palette colour to
// the response (top1) and among the two nearest (top2; JPEG's chroma
// subsampling and exposure drift make neighbours such as white and yellow
// trade places in a weak response). The interval means of the raw
// features are fitted jointly: the two chroma features share one gain
// (the screen adds light to each channel in proportion) and each has its
// own offset and linear drift; luminance has its own gain, offset and
// linear drift (auto exposure). Fitting the drift together with the response,
// rather than detrending first, keeps the sequence's own slow component
// from being taken for drift. A response to another sequence matches an
// interval only when the two sequences happen to share its colour or a
// neighbour of it, so these fractions separate far more sharply than a
// correlation over 8-10 steps.
func (ex *expecter) matched(seq []livenessd.RGB, l int, x *[3][]float64, on []time.Duration) (top1, top2 float64) {
	lag := ex.lags[l]
	var m [][3]float64
	var tm []float64
	var cols []livenessd.RGB
	for k := range seq {
		lo, hi := colourInterval(on, k, lag)
		var sum [3]float64
		var st float64
		n := 0
		for j, t := range ex.t {
			if t >= lo && t < hi {
				for c := range 3 {
					sum[c] += x[c][j]
				}
				st += t.Seconds()
				n++
			}
		}
		if n == 0 {
			continue
		}
		for c := range 3 {
			sum[c] /= float64(n)
		}
		m = append(m, sum)
		tm = append(tm, st/float64(n))
		cols = append(cols, seq[k])
	}
	K := len(m)
	if K < 5 || K < len(seq)-1 {
		return 0, 0
	}
	var t0 float64
	for _, t := range tm {
		t0 += t / float64(K)
	}
	e := make([][3]float64, K)
	for k, c := range cols {
		e[k] = colourFeatures(c)
	}
	// Chroma: unknowns offset0, drift0, offset1, drift1, gain.
	var ca [][]float64
	var cb []float64
	for k := range K {
		t := tm[k] - t0
		ca = append(ca, []float64{1, t, 0, 0, e[k][0]}, []float64{0, 0, 1, t, e[k][1]})
		cb = append(cb, m[k][0], m[k][1])
	}
	cs, fitC := leastSquares(ca, cb)
	// Luminance: offset, drift, gain. (A quadratic drift over 8-10 means
	// leaves too few degrees of freedom: it absorbs other sequences too.)
	// A sequence of primaries only, or of secondaries only, does not vary
	// the luminance at all: then luminance has no gain to fit and the
	// intervals are told apart by chroma alone.
	lumaVaries := false
	for k := range K {
		lumaVaries = lumaVaries || math.Abs(e[k][2]-e[0][2]) > 1e-9
	}
	var la [][]float64
	var lb []float64
	for k := range K {
		if lumaVaries {
			la = append(la, []float64{1, tm[k] - t0, e[k][2]})
		} else {
			la = append(la, []float64{1, tm[k] - t0})
		}
		lb = append(lb, m[k][2])
	}
	ls, fitL := leastSquares(la, lb)
	if !fitC || !fitL || cs[4] <= 0 {
		return 0, 0
	}
	if !lumaVaries {
		ls = append(ls, 0)
	}
	gain := [3]float64{cs[4], cs[4], ls[2]}
	resp := make([][3]float64, K)
	for k := range K {
		t := tm[k] - t0
		resp[k] = [3]float64{m[k][0] - cs[0] - cs[1]*t, m[k][1] - cs[2] - cs[3]*t, m[k][2] - ls[0] - ls[1]*t}
	}
	// Residual degrees of freedom per feature: the chroma pair shares five
	// parameters, luminance has three.
	dof := [3]float64{float64(K) - 2.5, float64(K) - 2.5, float64(K) - 3}
	// Weigh each feature by its residual noise under the fit (luminance
	// carries exposure drift, chroma little), floored at 5% of the gain;
	// unbiased by the degrees of freedom, or a feature the fit nearly
	// interpolates would get all the weight.
	var w [3]float64
	for f := range 3 {
		var r2 float64
		for k := range K {
			d := resp[k][f] - gain[f]*e[k][f]
			r2 += d * d / math.Max(dof[f], 1)
		}
		g := math.Abs(gain[f])
		w[f] = 1 / math.Max(r2, math.Max(1e-12, 0.05*g*0.05*g))
	}
	if !lumaVaries {
		w[2] = 0
	}
	ok, ok2 := 0, 0
	dists := make([]float64, 0, len(Palette))
	for k := range K {
		// Rank of the interval's own colour among the palette by distance.
		own := math.Inf(1)
		dists = dists[:0]
		for _, p := range Palette {
			pf := colourFeatures(p)
			d := 0.0
			for f := range 3 {
				diff := resp[k][f] - gain[f]*pf[f]
				d += w[f] * diff * diff
			}
			dists = append(dists, d)
			if p == cols[k] {
				own = d
			}
		}
		closer := 0
		for _, d := range dists {
			if d < own {
				closer++
			}
		}
		if closer == 0 {
			ok++
		}
		if closer <= 1 {
			ok2++
		}
	}
	return float64(ok) / float64(K), float64(ok2) / float64(K)
}

// leastSquares solves min |A x - b| by the normal equations (A is small
// and well conditioned here: a handful of columns over tens of rows); ok is
// false when A'A is singular.
func leastSquares(a [][]float64, b []float64) ([]float64, bool) {
	w := make([]float64, len(a))
	for i := range w {
		w[i] = 1
	}
	x, _, ok := weightedLeastSquares(a, b, w)
	return x, ok
}

func dot3(a, b *[3][]float64) float64 {
	var s float64
	for c := range 3 {
		for j := range a[c] {
			s += a[c][j] * b[c][j]
		}
	}
	return s
}

// features turns a mean RGB into the three series the light analysis
// correlates: two opponent chroma channels of log RGB (red-green,
// yellow-blue), which a common change of brightness (exposure drift, auto
// exposure) leaves untouched, and log luminance.
func features(rgb [3]float64) [3]float64 {
	r, g, b := math.Log1p(rgb[0]), math.Log1p(rgb[1]), math.Log1p(rgb[2])
	return [3]float64{r - g, (r+g)/2 - b, (r + g + b) / 3}
}

// colourFeatures is the expected response of features to a screen colour:
// the screen adds light in proportion to each channel.
func colourFeatures(c livenessd.RGB) [3]float64 {
	r, g, b := float64(c[0])/255, float64(c[1])/255, float64(c[2])/255
	return [3]float64{r - g, (r+g)/2 - b, (r + g + b) / 3}
}

// detrend removes the least-squares quadratic over ts from v in place, so
// slow exposure drift does not count as a response.
func detrend(ts, v []float64) {
	if len(v) < 4 {
		return
	}
	for _, q := range quadBasis(ts) {
		d := dot(v, q)
		for i := range v {
			v[i] -= d * q[i]
		}
	}
}

// quadBasis is an orthonormal basis of {1, t, t^2} over the samples ts
// (Gram-Schmidt on t centred at its mean); degenerate directions, as with
// fewer than three distinct times, are left out.
func quadBasis(ts []float64) [][]float64 {
	n := len(ts)
	var mt float64
	for _, t := range ts {
		mt += t / float64(n)
	}
	basis := make([][]float64, 0, 3)
	for deg := range 3 {
		b := make([]float64, n)
		for i, t := range ts {
			b[i] = math.Pow(t-mt, float64(deg))
		}
		for _, q := range basis {
			d := dot(b, q)
			for i := range b {
				b[i] -= d * q[i]
			}
		}
		if nb := math.Sqrt(dot(b, b)); nb > 1e-12 {
			for i := range b {
				b[i] /= nb
			}
			basis = append(basis, b)
		}
	}
	return basis
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// randomSequence draws a colour sequence of length n from the palette with
// consecutive colours different and different from not.
func randomSequence(rng *rand.Rand, n int, not []livenessd.RGB) []livenessd.RGB {
	for {
		s := make([]livenessd.RGB, n)
		same := true
		for i := range s {
			for {
				s[i] = Palette[rng.IntN(len(Palette))]
				if i == 0 || s[i] != s[i-1] {
					break
				}
			}
			same = same && i < len(not) && s[i] == not[i]
		}
		if !same {
			return s
		}
	}
}

func meanSD(v []float64) (mean, sd float64) {
	if len(v) == 0 {
		return 0, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}
