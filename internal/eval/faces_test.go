package eval

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
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
			got, err := ReadPairs(p)
			if (err == nil) != test.ok || len(got) != test.want {
				t.Fatalf("ReadPairs = %d pairs, %v; want %d, ok=%v", len(got), err, test.want, test.ok)
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
		ps, err := ReadPairs(p)
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
		s.pairs = append(s.pairs, Pair{})
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

// TestFaces scores a small pairs file with the real pipeline: the same
// photo twice matches at 100, a blank image counts as a missing face.
func TestFaces(t *testing.T) {
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
	pairs := filepath.Join(dir, "pairs.csv")
	csv := "img_a,img_b,same\na.jpg,a2.jpg,1\na.jpg,b.jpg,0\nb.jpg,blank.png,1\n"
	if err := os.WriteFile(pairs, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func() (*face.Pipeline, error) {
		return face.NewPipeline(testutil.Runtime(t), cache, face.DefaultConfig())
	}
	var out, errb bytes.Buffer
	if err := Faces(t.Context(), open, FacesOptions{Pairs: []string{pairs}, Scores: true}, &out, &errb); err != nil {
		t.Fatalf("Faces: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 3 pair lines and the summary:\n%s", len(lines), out.String())
	}
	if !strings.HasPrefix(lines[0], "a.jpg,a2.jpg,1,1.0000,100.0") || !strings.HasSuffix(lines[2], ",0.0") {
		t.Errorf("pair lines:\n%s", strings.Join(lines[:3], "\n"))
	}
	re := regexp.MustCompile(`^pairs=3 TAR@FMR1e-3=[0-9.]+ AUC=[0-9.]+ FMR@90=[0-9.]+ FNMR@90=0\.5000$`)
	if !re.MatchString(lines[3]) {
		t.Errorf("summary %q does not match %v", lines[3], re)
	}
	if !strings.Contains(errb.String(), "no face") {
		t.Errorf("stderr %q should report the image without a face", errb.String())
	}

	// The central face and the Markdown section: sample1's central face
	// is not its largest, so the same-photo pair still matches at 100 but
	// the different-photo pair scores another cosine.
	md := filepath.Join(dir, "ACCURACY.md")
	out.Reset()
	if err := Faces(t.Context(), open, FacesOptions{Pairs: []string{pairs}, Scores: true, Markdown: md, Selection: livenessd.SelectCentral}, &out, &errb); err != nil {
		t.Fatalf("Faces central: %v", err)
	}
	central := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(central[0], "a.jpg,a2.jpg,1,1.0000,100.0") || central[1] == lines[1] {
		t.Errorf("central selection: pair lines\n%s\nwant the same photo at 100 and another cosine than\n%s", strings.Join(central[:2], "\n"), lines[1])
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--face-selection central", "accuracy (10-fold)", "<!-- faces:begin -->"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
