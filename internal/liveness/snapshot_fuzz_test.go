package liveness

import (
	"bytes"
	"encoding/gob"
	"math"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
)

// FuzzRestoreRun feeds arbitrary bytes to the Snapshot decoder that
// eval liveness --rescore uses; whatever decodes must restore and fuse
// without a panic into a well-formed verdict.
func FuzzRestoreRun(f *testing.F) {
	seed := Snapshot{
		Challenge: livenessd.Challenge{ID: "c", Colors: []livenessd.ColorStep{
			{Color: Palette[0], Duration: 300 * time.Millisecond}, {Color: Palette[2], Duration: 400 * time.Millisecond}}},
		Colors:  map[int]time.Duration{0: time.Second, 1: 1300 * time.Millisecond, 7: time.Second},
		Flashed: true, FlashRec: 1, Width: 640, Height: 480, Cosines: []float64{0.9, 0.2},
	}
	for i := range 30 {
		fr := SnapshotFrame{At: time.Duration(i) * 66 * time.Millisecond, Observed: i%3 == 0, Faces: 1, HasLayout: true,
			Box: livenessd.Rect{X: 200, Y: 150, W: 200, H: 240}, IOD: 80, Width: 190, Sharp: 5}
		for p := range fr.Patch {
			fr.Patch[p] = [3]float64{130, 95, 85 + float64(i%5)}
			fr.PatchOK[p] = true
		}
		seed.Frames = append(seed.Frames, fr)
	}
	beyond := seed
	beyond.FlashRec = len(seed.Frames) + 3 // an index the frames do not reach
	for _, s := range []Snapshot{seed, beyond, {FlashRec: 99, Flashed: true}, {FlashRec: -5}} {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(s); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		var s Snapshot
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
			return
		}
		if len(s.Frames) > 2000 || len(s.Challenge.Colors) > 64 || len(s.Cosines) > 4096 {
			return // the fusion's cost, not its correctness, grows with these
		}
		res, err := RestoreRun(s, Config{}).Finish(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(res.Confidence) || res.Confidence < 0 || res.Confidence > 100 {
			t.Fatalf("confidence %v", res.Confidence)
		}
		if res.IsLive != (res.Status == livenessd.StatusSucceeded) {
			t.Fatalf("isLive %v with status %s", res.IsLive, res.Status)
		}
	})
}
