package face_test

import (
	"path/filepath"
	"testing"

	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/testutil"
)

// nuaaScores runs ObserveFrame on every step-th NUAA frame and returns the
// live score of the largest face (live = Same).
func nuaaScores(t *testing.T, p *face.Pipeline, dir string, step int) []face.Scored {
	t.Helper()
	recs := testutil.ReadCSV(t, filepath.Join(dir, "labels.csv"))
	var out []face.Scored
	for i, rec := range recs[1:] {
		if i%step != 0 {
			continue
		}
		obs, err := p.ObserveFrame(t.Context(), MustDecode(t, filepath.Join(dir, rec[0])))
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		if len(obs) > 0 {
			s = obs[0].LiveScore
		}
		out = append(out, face.Scored{Score: s, Same: rec[1] == "live"})
	}
	return out
}

// fr_liveness on NUAA print attacks. Measured on all 192 frames (live
// index 0): BGR input AUC 1.0000, RGB 0.9932; the other outputs are the
// attack classes (index 1 AUC 0.0000, index 2 0.17). The test runs every
// fourth frame to stay fast under -race.
func TestPipeline_ObserveFrame_NUAA(t *testing.T) {
	dir := testutil.SharedData(t, "presentation-attack/nuaa")
	sc := nuaaScores(t, MustPipeline(t), dir, 4)
	if auc := face.AUC(sc); auc < 0.98 {
		t.Errorf("NUAA live-vs-print AUC = %.4f on %d frames, want >= 0.98", auc, len(sc))
	}
}
