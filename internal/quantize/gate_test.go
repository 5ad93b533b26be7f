package quantize_test

import (
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/livenessd/livenessd/internal/eval"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/quant"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/quantize"
	"github.com/livenessd/livenessd/internal/testutil"
)

// gateAll runs the LFW gate on fr_feature before it is adopted: a model
// enters quant.Adopted only when its gate passes, so the gate must run on
// it first.
var gateAll = flag.Bool("gate.all", false, "gate every int8-buildable embedding model, adopted or not")

// heldOutAgreement builds the named models' int8 builds in a temporary
// cache and returns, per model, the cosine of int8 and float outputs
// (largest output) on every held-out input.
func heldOutAgreement(t *testing.T, names, samples []string) map[string][]float64 {
	cache := tempCache(t)
	rt := testutil.Runtime(t)
	res, err := quantize.Build(t.Context(), rt, cache, names, quantize.Options{Samples: samples})
	if err != nil {
		t.Fatal(err)
	}
	held, err := quantize.HeldOutInputs(t.Context(), rt, cache, samples)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, r := range res {
		spec := quantize.Specs()[r.Name]
		src, err := quantize.Float(cache, spec)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := rt.Load(spec, src)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := rt.LoadFile(spec, cache.Path(r.File))
		if err != nil {
			t.Fatal(err)
		}
		out[r.Name], _ = agreement(t, fs, qs, held[r.Name])
		fs.Close()
		qs.Close()
		if len(out[r.Name]) == 0 {
			t.Fatalf("%s: no held-out input", r.Name)
		}
	}
	return out
}

// TestInt8_HeldOut is the gate every adopted model's int8 build passes: on
// inputs calibration never saw (quantize.HeldOutInputs), the cosine of its
// largest output with the float model's is 0.995 on average and never
// below 0.98. fr_feature's build, for one, does not pass (mean 0.976), so
// it is not adopted.
func TestInt8_HeldOut(t *testing.T) {
	if len(quant.Adopted) == 0 {
		t.Skip("no model adopted in int8 (quant.Adopted); TestInt8_BuildRuns covers the build")
	}
	for name, cos := range heldOutAgreement(t, quant.Adopted, quant.Samples) {
		m, low := mean(cos), slices.Min(cos)
		t.Logf("%s: %d held-out inputs, output cosine int8 vs float: mean %.4f, lowest %.4f", name, len(cos), m, low)
		if m < 0.995 || low < 0.98 {
			t.Errorf("%s: int8 outputs drift from the float model's: mean cosine %.4f (want >= 0.995), lowest %.4f (want >= 0.98)", name, m, low)
		}
	}
}

// TestInt8_BuildRuns builds fr_landmark (small) from a clean cache as
// `make models` would, calibrated on two of the sample photos to keep the
// test quick, loads it, and requires its 68 points to agree with the float
// model's on held-out faces (cosine >= 0.999; 0.9996 measured with all six
// photos); and that the service would not load a build of a model it has
// not adopted.
func TestInt8_BuildRuns(t *testing.T) {
	name := infer.FRLandmark.Name
	for _, c := range heldOutAgreement(t, []string{name}, quant.Samples[:2])[name] {
		if c < 0.999 {
			t.Fatalf("fr_landmark int8 output cosine %.4f with the float model on a held-out face, want >= 0.999", c)
		}
	}
	if !quant.IsAdopted(name) {
		if p, ok := quant.Int8Path(testutil.Cache(t), quantize.Specs()[name]); ok {
			t.Errorf("Int8Path gives %s for a model that is not adopted", p)
		}
	}
}

// TestInt8_LFWGate is the accuracy gate of an int8 embedder: on LFW fold 1
// (../shared/data, skipped without it) the face pipeline with the int8
// fr_feature must keep AUC and TAR at FMR 1e-3 within 0.1 point of the
// float pipeline. Adopted embedders are always gated; -gate.all gates
// fr_feature before adoption.
func TestInt8_LFWGate(t *testing.T) {
	if !quant.IsAdopted(infer.FRFeature.Name) && !*gateAll {
		t.Skip("fr_feature's int8 build is not adopted (quant.Adopted); -gate.all measures it anyway")
	}
	if testing.Short() {
		t.Skip("LFW fold 1 takes minutes")
	}
	pairs := testutil.SharedData(t, "face-verification/lfw/pairs.csv")
	ps, err := eval.ReadPairs(pairs)
	if err != nil {
		t.Fatal(err)
	}
	cache := tempCache(t)
	rt := testutil.Runtime(t)
	res, err := quantize.Build(t.Context(), rt, cache, []string{infer.FRFeature.Name}, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := face.DefaultConfig()
	cfg.Liveness.Disabled = true
	scores := func(embedder string) []face.Scored {
		load := func(spec infer.Spec, path string) face.Inferencer {
			s, err := rt.LoadFile(spec, path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		p, err := face.New(face.Models{
			Detector:  load(cfg.Detector.Spec, cache.Path(cfg.Detector.Spec.File)),
			Landmarks: load(cfg.Landmarks.Spec, cache.Path(cfg.Landmarks.Spec.File)),
			Embedder:  load(cfg.Embedder.Spec, embedder),
		}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		return lfwScores(t, t.Context(), p, ps)
	}
	fp, q := scores(cache.Path(cfg.Embedder.Spec.File)), scores(cache.Path(res[0].File))
	for _, m := range []struct {
		name string
		f    func([]face.Scored) float64
	}{
		{"AUC", face.AUC},
		{"TAR@FMR1e-3", func(s []face.Scored) float64 { return face.TARAtFMR(s, 1e-3) }},
	} {
		a, b := m.f(fp), m.f(q)
		t.Logf("LFW fold 1, %d pairs: %s float %.4f, int8 %.4f", len(ps), m.name, a, b)
		if math.Abs(a-b) > 0.001 {
			t.Errorf("%s: int8 %.4f vs float %.4f, more than 0.1 point apart", m.name, b, a)
		}
	}
}

// lfwScores is the cosine of every pair's largest faces; a pair with no
// face scores -1.
func lfwScores(t *testing.T, ctx context.Context, p *face.Pipeline, ps []eval.Pair) []face.Scored {
	emb := map[string][]float32{}
	get := func(path string) []float32 {
		if e, ok := emb[path]; ok {
			return e
		}
		img, err := imageio.ReadFile(path, imageio.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		o, n, err := p.Largest(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			emb[path] = nil
			return nil
		}
		emb[path] = o.Embedding
		return o.Embedding
	}
	var out []face.Scored
	for _, pr := range ps {
		a, b := get(pr.A), get(pr.B)
		s := -1.0
		if a != nil && b != nil {
			s = face.Cosine(a, b)
		}
		out = append(out, face.Scored{Score: s, Same: pr.Same})
	}
	return out
}

// tempCache is a model cache whose pinned files are the test cache's
// (linked) and whose derived directories (int8 builds, translations) are
// empty and private to the test.
func tempCache(t *testing.T) *models.Cache {
	src := testutil.Cache(t)
	dir := t.TempDir()
	entries, err := os.ReadDir(src.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == quant.Int8Dir || e.Name() == face.TranslatedDir {
			continue
		}
		if err := os.Symlink(filepath.Join(src.Dir, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return models.NewCache(dir)
}
