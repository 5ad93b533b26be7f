package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/testutil"
)

// runCLI runs the command line in-process and returns the exit status and outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCompare(t *testing.T) {
	cache := testutil.Cache(t)
	sample1 := testutil.Sample(t, 1)
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 200, 200))); err != nil {
		t.Fatal(err)
	}
	blank := filepath.Join(t.TempDir(), "blank.png")
	if err := os.WriteFile(blank, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("Compare", func(t *testing.T) {
		code, out, errs := runCLI(t, "compare", "-dir", cache.Dir, sample1, sample1)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{`"similarity": 100`, `"isMatch": true`, `"threshold": 90`, `"sourceFaceCount": 3`, `"boundingBox"`} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
	})
	t.Run("ErrNoTargetFace", func(t *testing.T) {
		code, _, errs := runCLI(t, "compare", "-dir", cache.Dir, sample1, blank)
		if code != 1 || !strings.Contains(errs, "target image: no face detected") {
			t.Fatalf("exit %d, stderr %q; want 1 and the target's no-face error", code, errs)
		}
	})
	t.Run("FaceIndex", func(t *testing.T) {
		code, out, errs := runCLI(t, "compare", "-dir", cache.Dir, "--source-face", "1", "--target-face", "central", sample1, sample1)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{`"sourceFaceIndex": 1`, `"sourceFaces": [`} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
		code, _, errs = runCLI(t, "compare", "-dir", cache.Dir, "--target-face", "9", sample1, sample1)
		if code != 1 || !strings.Contains(errs, "face index 9, but 3 faces were found") {
			t.Fatalf("index beyond the faces: exit %d, stderr %q", code, errs)
		}
	})
	t.Run("Usage", func(t *testing.T) {
		if code, _, _ := runCLI(t, "compare", sample1); code != 2 {
			t.Fatalf("one image: exit %d, want 2", code)
		}
		if code, _, _ := runCLI(t, "compare", "--source-face", "smallest", sample1, sample1); code != 2 {
			t.Fatalf("bad --source-face: exit %d, want 2", code)
		}
	})
}

// TestEvalUsage checks the eval wiring refuses bad command lines with
// exit status 2 before loading any model.
func TestEvalUsage(t *testing.T) {
	for _, args := range [][]string{
		{"eval"},
		{"eval", "nosuch"},
		{"eval", "faces"},
		{"eval", "faces", "--pairs", "x.csv", "extra"},
		{"eval", "faces", "--pairs", "x.csv", "--face-selection", "smallest"},
		{"eval", "liveness", "--split", "half"},
		{"eval", "liveness", "--kinds", "none,bogus"},
		{"eval", "liveness", "--strengths", "0.03,2"},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errs)
		}
	}
}
