package eval

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
	"github.com/livenessd/livenessd/internal/testutil"
)

// TestRecordRescore checks that recorded measurements come back with their
// kind and setting and are fused by the current build, and that a file
// that is not a recording is refused with a clear error.
func TestRecordRescore(t *testing.T) {
	ch := livenessd.Challenge{ID: "c", Colors: []livenessd.ColorStep{{Color: livenessd.RGB{255, 0, 0}, Duration: 300 * time.Millisecond}}}
	snap := liveness.Snapshot{Challenge: ch, FlashRec: -1, Width: 640, Height: 480,
		Frames: []liveness.SnapshotFrame{{At: 0, Observed: true, Faces: 0}, {At: 66 * time.Millisecond, Observed: true, Faces: 0}}}
	outs := []simulate.Outcome{
		{Kind: simulate.AttackNoFace, Setting: simulate.Setting{Strength: 0.03}, Session: 4, Snapshot: &snap},
		{Kind: simulate.AttackPhoto, Setting: simulate.Setting{Strength: 0.03, AWB: true}, Session: 5, Snapshot: &snap},
		{Kind: simulate.AttackNone, Setting: simulate.Setting{Strength: 0.03}, Session: 6}, // no snapshot: not recorded
	}
	path := filepath.Join(t.TempDir(), "rec.gob")
	if err := recordOutcomes(path, outs); err != nil {
		t.Fatal(err)
	}
	got, settings, err := rescoreOutcomes(t.Context(), path, liveness.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(settings) != 2 {
		t.Fatalf("rescored %d outcomes in %d settings, want 2 in 2", len(got), len(settings))
	}
	for i, o := range got {
		if o.Kind != outs[i].Kind || o.Session != outs[i].Session || settingName(o.Setting) != settingName(outs[i].Setting) {
			t.Errorf("outcome %d = %s/%d/%s, want %s/%d/%s", i, o.Kind, o.Session, settingName(o.Setting), outs[i].Kind, outs[i].Session, settingName(outs[i].Setting))
		}
		if o.Err != nil || o.Result.IsLive || o.Result.Reason != liveness.ReasonNoFace {
			t.Errorf("outcome %d: %v live=%v reason=%q, want a refusal for no face", i, o.Err, o.Result.IsLive, o.Result.Reason)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.gob")
	if err := os.WriteFile(bad, []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rescoreOutcomes(t.Context(), bad, liveness.Config{}); err == nil || !strings.Contains(err.Error(), "bad.gob") {
		t.Errorf("bad file: err = %v, want one naming the file", err)
	}
}

func TestRefusals(t *testing.T) {
	s := simulate.Setting{Strength: 0.03}
	outs := []simulate.Outcome{
		{Kind: simulate.AttackNone, Setting: s, Result: livenessd.Result{IsLive: true}},
		{Kind: simulate.AttackNone, Setting: s, Result: livenessd.Result{Reason: liveness.ReasonPose}},
		{Kind: simulate.AttackNone, Setting: s, Result: livenessd.Result{Reason: liveness.ReasonPose}},
		{Kind: simulate.AttackNone, Setting: s, Result: livenessd.Result{Reason: liveness.ReasonMovement}},
		{Kind: simulate.AttackNone, Setting: simulate.Setting{Strength: 0.01}, Result: livenessd.Result{Reason: liveness.ReasonLight}},
		{Kind: simulate.AttackPhoto, Setting: s, Result: livenessd.Result{Reason: liveness.ReasonSpoof}},
	}
	got := refusals(outs, 0.03)
	for _, want := range []string{
		liveness.ReasonPose + " 2", liveness.ReasonMovement + " 1",
		"failures to acquire (no face, several faces, lighting, blur, pose, frames missing during the colours) 50.0% (2/4)",
		"BPCER over the captures that were classified 50.0% (1/2)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("refusals = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, liveness.ReasonLight) || strings.Contains(got, liveness.ReasonSpoof) {
		t.Errorf("refusals = %q, want only the refusals of live captures at 3%%", got)
	}
}

func TestDumpOutcomes(t *testing.T) {
	s := simulate.Setting{Strength: 0.03}
	outs := []simulate.Outcome{
		{Kind: simulate.AttackNone, Setting: s, Session: 0, Result: livenessd.Result{Status: livenessd.StatusSucceeded, Signals: map[string]float64{"texture": 0.99}}},
		{Kind: simulate.AttackPhoto, Setting: s, Session: 3, Result: livenessd.Result{Status: livenessd.StatusFailed, Reason: liveness.ReasonSpoof, Signals: map[string]float64{"light_shading": 0.01}}},
	}
	for _, test := range []struct {
		name    string
		sources []string
		want    []string // source column per row
	}{
		{"Sources", []string{"a.jpg", "b.jpg"}, []string{"a.jpg", "b.jpg"}},
		{"Rescored", nil, []string{"", ""}},
	} {
		t.Run(test.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dump.csv")
			if err := dumpOutcomes(path, outs, test.sources); err != nil {
				t.Fatal(err)
			}
			rows := testutil.ReadCSV(t, path)
			if len(rows) != 3 {
				t.Fatalf("%d rows, want a header and 2", len(rows))
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			for i, want := range test.want {
				row := rows[i+1]
				if got := row[col["source"]]; got != want {
					t.Errorf("row %d source = %q, want %q", i, got, want)
				}
			}
			if got := rows[1][col["texture"]]; got != "0.99" {
				t.Errorf("texture = %q, want 0.99", got)
			}
			if got := rows[2][col["reason"]]; got != liveness.ReasonSpoof {
				t.Errorf("reason = %q, want %q", got, liveness.ReasonSpoof)
			}
			if got := rows[2][col["texture"]]; got != "" {
				t.Errorf("missing signal = %q, want empty", got)
			}
		})
	}
}

func TestTextureMarkdown(t *testing.T) {
	r := &textureResult{threshold: 0.5, sets: []textureSet{
		{name: "a", live: []float64{0.9, 0.3}, spoof: []float64{0.6, 0.1}},
		{name: "b", live: []float64{0.8}, noFace: 2},
	}}
	got := r.markdown()
	// AUC: live 0.9 beats both attacks, 0.3 beats one: 3/4.
	for _, want := range []string{
		"| a | 2 | 2 | 50.0% (1/2) | 50.0% (1/2) | 0.300 | 0.600 | 0.7500 | 0 |",
		"| b | 1 | 0 | 0.0% (0/1) | 0.0% (0/0) | 0.800 | – | – | 2 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown = %q, want the row %q", got, want)
		}
	}
}

// The parallax views are written under the names the --dump CSV's
// columns give (kind, strength, AE/AWB, session); a capture without views
// writes none.
func TestWriteParallaxViews(t *testing.T) {
	v := &liveness.ParallaxViews{
		Far:  []liveness.ParallaxView{{PGM: []byte("far"), Points: []byte("1 2\n"), Width: 90}, {PGM: []byte("far1"), Points: []byte("5 6\n"), Width: 95.5}},
		Near: liveness.ParallaxView{PGM: []byte("near"), Points: []byte("3 4\n"), Width: 200},
	}
	outs := []simulate.Outcome{
		{Kind: simulate.AttackNone, Setting: simulate.Setting{Strength: 0.03}, Session: 7, Parallax: v},
		{Kind: simulate.AttackPhoto, Setting: simulate.Setting{Strength: 0.05, AWB: true}, Session: 12, Parallax: v},
		{Kind: simulate.AttackNone, Setting: simulate.Setting{Strength: 0.03}, Session: 8},
	}
	dir := filepath.Join(t.TempDir(), "views")
	if err := writeParallaxViews(dir, outs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"none-0.03-0007.far.pgm": "far", "none-0.03-0007.near.pts": "3 4\n", "none-0.03-0007.far1.pts": "5 6\n",
		"photo-0.05-awb-0012.near.pgm": "near", "photo-0.05-awb-0012.far.pts": "1 2\n", "photo-0.05-awb-0012.far1.pgm": "far1",
		"none-0.03-0007.widths": "far 0 90\nfar 1 95.5\nnear 0 200\n",
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != content {
			t.Errorf("%s: %q, %v; want %q", name, b, err, content)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 14 {
		t.Errorf("%d files, want 14 (two captures' three views and widths)", len(files))
	}
}

// The measured factors' bins, with a bin for a value not measured.
func TestBinFactors_Measured(t *testing.T) {
	bin := map[string]func(simulate.Outcome) string{}
	for _, f := range binFactors() {
		bin[f.name] = f.bin
	}
	for _, test := range []struct {
		factor string
		o      simulate.Outcome
		want   string
	}{
		{"face width (outline of the photo)", simulate.Outcome{FaceWidth: 2.0}, "narrow (< 2.15 eye distances)"},
		{"face width (outline of the photo)", simulate.Outcome{FaceWidth: 2.15}, "medium (2.15-2.35)"},
		{"face width (outline of the photo)", simulate.Outcome{FaceWidth: 2.5}, "broad (>= 2.35)"},
		{"face width (outline of the photo)", simulate.Outcome{}, "unknown"},
		{"face width (outline of the photo)", simulate.Outcome{FaceWidth: math.NaN()}, "unknown"},
		{"approach growth (measured)", simulate.Outcome{Result: livenessd.Result{Signals: map[string]float64{"growth": 1.5}}}, "< 1.6"},
		{"approach growth (measured)", simulate.Outcome{Result: livenessd.Result{Signals: map[string]float64{"growth": 1.6}}}, "1.6-2.0"},
		{"approach growth (measured)", simulate.Outcome{Result: livenessd.Result{Signals: map[string]float64{"growth": 2.4}}}, ">= 2.0"},
		{"approach growth (measured)", simulate.Outcome{Result: livenessd.Result{Signals: map[string]float64{"growth": math.NaN()}}}, "not measured"},
		{"approach growth (measured)", simulate.Outcome{}, "not measured"},
	} {
		if got := bin[test.factor](test.o); got != test.want {
			t.Errorf("%s: %q, want %q (face width %v, signals %v)", test.factor, got, test.want, test.o.FaceWidth, test.o.Result.Signals)
		}
	}
}
