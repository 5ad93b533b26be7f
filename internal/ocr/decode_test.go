package ocr

import (
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/mrz"
)

// A small dictionary in PaddleOCR's key file order with a non-MRZ class
// ('a') that decoding must never emit.
func testDictionary(t *testing.T) dictionary {
	t.Helper()
	keys := "a\n" + strings.Join(strings.Split(mrz.Alphabet, ""), "\n") + "\n"
	d, err := readDictionary(strings.NewReader(keys))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// frames builds a [1, T, C] output: each frame gives the listed classes
// their probabilities ("" is the blank).
func frames(d dictionary, rows ...map[string]float32) infer.Tensor {
	C := len(d.chars)
	o := infer.Tensor{Shape: []int64{1, int64(len(rows)), int64(C)}, Data: make([]float32, len(rows)*C)}
	for t, row := range rows {
		for k, p := range row {
			c := 0
			switch k {
			case "":
			case "a":
				c = 1
			default:
				c = d.class[strings.IndexByte(mrz.Alphabet, k[0])]
			}
			o.Data[t*C+c] = p
		}
	}
	return o
}

func TestDictionary_Frames(t *testing.T) {
	d := testDictionary(t)
	out := frames(d,
		map[string]float32{"0": 0.6, "O": 0.3},
		map[string]float32{"0": 0.5, "O": 0.45}, // same character: O's best over both frames
		map[string]float32{"": 0.9},
		map[string]float32{"a": 0.9, "<": 0.05}, // a non-MRZ class never wins
		map[string]float32{"": 0.9},
		map[string]float32{"<": 0.8},
	)
	f, err := d.frames(out)
	if err != nil {
		t.Fatal(err)
	}
	gs := f.Greedy()
	if got := mrz.Text(gs); got != "0<<" {
		t.Fatalf("decoded %q, want %q", got, "0<<")
	}
	if o := gs[0][strings.IndexByte(mrz.Alphabet, 'O')]; o != 0.45 {
		t.Errorf("glyph 0's score for O = %v, want 0.45 (its best over the frames that emitted it)", o)
	}
	if z := gs[0][strings.IndexByte(mrz.Alphabet, '0')]; z != 0.6 {
		t.Errorf("glyph 0's score for 0 = %v, want 0.6", z)
	}
}
