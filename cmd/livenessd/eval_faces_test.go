package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/testutil"
)

func TestReadPairs(t *testing.T) {
	dir := t.TempDir()
	for _, test := range []struct {
		name, csv string
		want      int
		ok        bool
	}{
		{"OK", "img_a,img_b,same\na.jpg,b.jpg,1\nx/c.jpg,d.jpg,0\n", 2, true},
		{"ExtraColumns", "img_a,img_b,same,label_source\na.jpg,b.jpg,1,filename\n", 1, true},
		{"ReorderedColumns", "same,img_b,img_a\n0,b.jpg,a.jpg\n", 1, true},
		{"MissingColumn", "img_a,img_b\na.jpg,b.jpg\n", 0, false},
		{"BadSame", "img_a,img_b,same\na.jpg,b.jpg,yes\n", 0, false},
		{"ShortRow", "img_a,img_b,same\na.jpg\n", 0, false},
		{"NoPairs", "img_a,img_b,same\n", 0, false},
		{"Empty", "", 0, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			p := filepath.Join(dir, test.name+".csv")
			if err := os.WriteFile(p, []byte(test.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readPairs(p)
			if (err == nil) != test.ok || len(got) != test.want {
				t.Fatalf("readPairs = %d pairs, %v; want %d, ok=%v", len(got), err, test.want, test.ok)
			}
			if test.name == "OK" && (got[1].A != filepath.Join(dir, "x/c.jpg") || got[1].Same || !got[0].Same) {
				t.Errorf("pairs %+v: paths must be relative to the CSV", got)
			}
		})
	}
}

func FuzzReadPairs(f *testing.F) {
	f.Add([]byte("img_a,img_b,same\na.jpg,b.jpg,1\n"))
	f.Add([]byte("same,img_a,img_b\n0,\"a,b.jpg\",c.jpg\n"))
	f.Add([]byte("img_a,img_b,same\n\"unterminated,b,1\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		p := filepath.Join(dir, "pairs.csv")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ps, err := readPairs(p)
		if err == nil && len(ps) == 0 {
			t.Fatal("no error and no pairs")
		}
	})
}

func TestReplaceSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ACCURACY.md")
	if err := replaceSection(p, "faces", "one\n"); err != nil {
		t.Fatal(err)
	}
	other := "\n<!-- liveness:begin -->\nkeep me\n<!-- liveness:end -->\n"
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, append([]byte("# Title\n\n"+string(b)), other...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(p, "faces", "two"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	want := "# Title\n\n<!-- faces:begin -->\ntwo\n<!-- faces:end -->\n" + other
	if string(b) != want {
		t.Errorf("file (-want +got):\n-%q\n+%q", want, b)
	}
	if err := os.WriteFile(p, []byte("<!-- faces:begin -->\nno end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(p, "faces", "x"); err == nil {
		t.Error("unbalanced markers: want an error")
	}
}

func TestFitCalibration(t *testing.T) {
	// 10,000 impostor cosines spread uniformly over [-0.3, 0.5).
	s := &faceSet{}
	for i := range 10000 {
		s.pairs = append(s.pairs, pair{})
		s.cos = append(s.cos, -0.3+0.8*float64(i)/10000)
	}
	knots := fitCalibration([]*faceSet{s})
	c := face.Calibration{Knots: knots}
	if err := c.Validate(); err != nil {
		t.Fatalf("%v: %+v", err, knots)
	}
	if got := c.Cosine(90); got < 0.49 || got > 0.5 { // 10 of 10,000 above
		t.Errorf("cosine at 90 = %v, want about 0.499", got)
	}
}

// runCLI runs the command line in-process and returns the exit status and outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCompareAndEvalFaces(t *testing.T) {
	cache := testutil.Cache(t)
	dir := t.TempDir()
	// Two copies of sample1 (the same faces) and sample2; a blank image.
	for _, c := range []struct{ src, dst string }{{"1", "a.jpg"}, {"1", "a2.jpg"}, {"2", "b.jpg"}} {
		b, err := os.ReadFile(testutil.Sample(t, int(c.src[0]-'0')))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	var buf bytes.Buffer
	if err := png.Encode(&buf, blank); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blank.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("Compare", func(t *testing.T) {
		code, out, errs := runCLI(t, "compare", "-dir", cache.Dir, filepath.Join(dir, "a.jpg"), filepath.Join(dir, "a2.jpg"))
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
		code, _, errs := runCLI(t, "compare", "-dir", cache.Dir, filepath.Join(dir, "a.jpg"), filepath.Join(dir, "blank.png"))
		if code != 1 || !strings.Contains(errs, "target image: no face detected") {
			t.Fatalf("exit %d, stderr %q; want 1 and the target's no-face error", code, errs)
		}
	})
	t.Run("Usage", func(t *testing.T) {
		if code, _, _ := runCLI(t, "compare", filepath.Join(dir, "a.jpg")); code != 2 {
			t.Fatalf("one image: exit %d, want 2", code)
		}
	})
	t.Run("EvalFaces", func(t *testing.T) {
		pairs := filepath.Join(dir, "pairs.csv")
		csv := "img_a,img_b,same\na.jpg,a2.jpg,1\na.jpg,b.jpg,0\nb.jpg,blank.png,1\n"
		if err := os.WriteFile(pairs, []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCLI(t, "eval", "faces", "-dir", cache.Dir, "--pairs", pairs, "--scores")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 {
			t.Fatalf("%d lines, want 3 pair lines and the summary:\n%s", len(lines), out)
		}
		if !strings.HasPrefix(lines[0], "a.jpg,a2.jpg,1,1.0000,100.0") || !strings.HasSuffix(lines[2], ",0.0") {
			t.Errorf("pair lines:\n%s", strings.Join(lines[:3], "\n"))
		}
		re := regexp.MustCompile(`^pairs=3 TAR@FMR1e-3=[0-9.]+ AUC=[0-9.]+ FMR@90=[0-9.]+ FNMR@90=0\.5000$`)
		if !re.MatchString(lines[3]) {
			t.Errorf("summary %q does not match %v", lines[3], re)
		}
		if !strings.Contains(errs, "no face") {
			t.Errorf("stderr %q should report the image without a face", errs)
		}
	})
}
