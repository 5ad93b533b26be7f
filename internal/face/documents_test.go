package face_test

import (
	"path/filepath"
	"testing"

	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/testutil"
)

// documentResult runs the detector on every passporteye specimen and
// returns how many labelled portraits were found (at least one face) and
// how many portrait-free images (backs, MRZ pages) got a face anyway.
func documentResult(t *testing.T, p *face.Pipeline) (found, portraits, falsePos, empty int, missed []string) {
	t.Helper()
	dir := testutil.SharedData(t, "id-documents/passporteye-specimens")
	recs := testutil.ReadCSV(t, filepath.Join(dir, "labels.csv"))
	for _, rec := range recs[1:] {
		img := MustDecode(t, filepath.Join(dir, rec[0]))
		obs, err := p.Analyze(t.Context(), img)
		if err != nil {
			t.Fatal(err)
		}
		if rec[4] == "yes" {
			portraits++
			if len(obs) > 0 {
				found++
			} else {
				missed = append(missed, rec[0])
			}
		} else {
			empty++
			if len(obs) > 0 {
				falsePos++
			}
		}
	}
	return found, portraits, falsePos, empty, missed
}

// The portrait on a photographed or scanned ID document is found.
// Measured with the default detector: see docs/ACCURACY.md.
func TestPipeline_Analyze_Documents(t *testing.T) {
	p := MustPipeline(t)
	found, portraits, fp, empty, missed := documentResult(t, p)
	t.Logf("portraits found %d/%d (missed %v); faces on %d/%d portrait-free images", found, portraits, missed, fp, empty)
	if found < portraits-1 {
		t.Errorf("portraits found %d of %d, want at least %d", found, portraits, portraits-1)
	}
	// iDenfy: each specimen passport against a photo of its holder.
	dir := testutil.SharedData(t, "id-documents/idenfy-dummy-docs")
	for _, pair := range [][2]string{[2]string{"BarackHusseinObama", "BarackObama"}, {"BasanavicieneBirute", "BasanavicieneBirute"}, {"TheresaMay", "TheresaMay"}} {
		c, err := p.Compare(t.Context(), MustDecode(t, filepath.Join(dir, pair[0]+".jpg")), MustDecode(t, filepath.Join(dir, pair[1]+"Face.jpg")), 0)
		if err != nil {
			t.Errorf("%s: %v", pair[0], err)
			continue
		}
		t.Logf("%s: document faces %d, similarity %.1f (cosine %.3f)", pair[0], c.SourceFaces, c.Similarity, c.Cosine)
	}
}
