package face_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"image"

	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/testutil"
)

// candidateDetectors are the detectors compared in docs/ACCURACY.md.
func candidateDetectors() map[string]face.DetectorConfig {
	fr := face.DefaultDetector()
	full := face.DefaultDetector()
	full.Spec = tfjs.FaceMeshDetectionFull.Clone()
	full.BoxFormat = face.BoxBlaze
	full.AnchorStrides, full.AnchorsPerCell = []int{4}, []int{1}
	full.ScoreThreshold, full.TileScoreThreshold = 0.5, 0.8
	full.BlazeOutput = 1
	back := full
	back.Spec = tfjs.BlazeFaceBack.Clone()
	back.AnchorStrides, back.AnchorsPerCell = []int{16, 32}, []int{2, 6}
	return map[string]face.DetectorConfig{"fr_detect": fr, "facemesh-detection-full": full, "blazeface-back": back}
}

// pasteSmallFace puts sample 3's largest face, scaled to a 40 px box, on a
// 1920x1080 noise canvas at (1333, 611).
func pasteSmallFace(t *testing.T) *image.NRGBA {
	img, obs := MustAnalyze(t, 3)
	b := obs[0].Box
	k := 40 / math.Max(b.W, b.H)
	canvas := image.NewNRGBA(image.Rect(0, 0, 1920, 1080))
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(canvas.Pix); i += 4 {
		v := uint8(90 + r.IntN(30))
		canvas.Pix[i], canvas.Pix[i+1], canvas.Pix[i+2], canvas.Pix[i+3] = v, v, v+10, 255
	}
	cx, cy := b.X+b.W/2, b.Y+b.H/2
	const px, py = 1333, 611
	for y := py - 40; y < py+40; y++ {
		for x := px - 40; x < px+40; x++ {
			sx, sy := cx+(float64(x-px)+0.5)/k, cy+(float64(y-py)+0.5)/k
			canvas.SetNRGBA(x, y, img.NRGBAAt(int(sx), int(sy)))
		}
	}
	return canvas
}

// TestDetectorComparison measures each candidate detector on the sample
// photos, the ID document specimens, the 40 px face and the NUAA frames
// (every 4th). Run with -v; it needs ../shared/data and takes a minute, so
// it only runs when LIVENESS_DETECTOR_COMPARISON=1.
func TestDetectorComparison(t *testing.T) {
	if os.Getenv("LIVENESS_DETECTOR_COMPARISON") != "1" {
		t.Skip("set LIVENESS_DETECTOR_COMPARISON=1 to compare detectors")
	}
	docs := testutil.SharedData(t, "id-documents/passporteye-specimens")
	nuaa := testutil.SharedData(t, "presentation-attack/nuaa")
	read := func(p string) [][]string { return testutil.ReadCSV(t, p)[1:] }
	docRecs, nuaaRecs := read(filepath.Join(docs, "labels.csv")), read(filepath.Join(nuaa, "labels.csv"))
	small := pasteSmallFace(t)
	var table strings.Builder
	table.WriteString("| detector | sample photos: faces (pinned 22) / exact images | portraits found (of 28) | faces on portrait-free documents (of 8) | 40 px face in 1920x1080 | NUAA frames with a face (of 48) | detection ms per 640x480 frame (single pass) |\n|---|---|---|---|---|---|---|\n")
	for _, name := range []string{"fr_detect", "facemesh-detection-full", "blazeface-back"} {
		cfg := face.DefaultConfig()
		cfg.Detector = candidateDetectors()[name]
		p, err := face.NewPipeline(testutil.Runtime(t), testutil.Cache(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		total, exact := 0, 0
		for n := 1; n <= 6; n++ {
			img, _ := MustAnalyze(t, n)
			obs, err := p.Analyze(t.Context(), img)
			if err != nil {
				t.Fatal(err)
			}
			total += len(obs)
			if len(obs) == sampleFaces[n] {
				exact++
			}
		}
		found, fp := 0, 0
		for _, rec := range docRecs {
			obs, err := p.Analyze(t.Context(), MustDecode(t, filepath.Join(docs, rec[0])))
			if err != nil {
				t.Fatal(err)
			}
			if rec[4] == "yes" && len(obs) > 0 {
				found++
			}
			if rec[4] != "yes" && len(obs) > 0 {
				fp++
			}
		}
		obs, err := p.Analyze(t.Context(), small)
		if err != nil {
			t.Fatal(err)
		}
		smallOK := false
		for _, o := range obs {
			c := o.Box.Center()
			smallOK = smallOK || math.Hypot(c.X-1333, c.Y-611) < 15
		}
		nf, frames := 0, 0
		var dt time.Duration
		for i, rec := range nuaaRecs {
			if i%4 != 0 {
				continue
			}
			img := MustDecode(t, filepath.Join(nuaa, rec[0]))
			t0 := time.Now()
			obs, err := p.ObserveFrame(t.Context(), img)
			dt += time.Since(t0)
			if err != nil {
				t.Fatal(err)
			}
			frames++
			if len(obs) > 0 {
				nf++
			}
		}
		fmt.Fprintf(&table, "| %s | %d / %d of 6 | %d | %d | %v (%d faces) | %d | %.1f (whole ObserveFrame) |\n", name, total, exact, found, fp, smallOK, len(obs), nf,
			float64(dt.Microseconds())/1000/float64(frames))
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}
	t.Log("\n" + table.String())
}
