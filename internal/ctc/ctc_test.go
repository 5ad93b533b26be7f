package ctc_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/ctc"
	"github.com/livenessd/livenessd/internal/mrz"
)

// frames builds frames from a compact spec: one frame per entry, each
// "c=p c=p" ('_' is the blank); unlisted classes get 0.001.
func frames(tb testing.TB, spec ...string) ctc.Frames {
	tb.Helper()
	var f ctc.Frames
	for _, fr := range spec {
		blank := float32(0.001)
		var chars [len(mrz.Alphabet)]float32
		for i := range chars {
			chars[i] = 0.001
		}
		for _, kv := range strings.Fields(fr) {
			v, err := strconv.ParseFloat(kv[2:], 32)
			if err != nil {
				tb.Fatal(err)
			}
			p := float32(v)
			if kv[0] == '_' {
				blank = p
			} else {
				chars[strings.IndexByte(mrz.Alphabet, kv[0])] = p
			}
		}
		f.Append(blank, &chars)
	}
	return f
}

func TestFrames_Greedy(t *testing.T) {
	f := frames(t, "P=.9", "P=.8", "_=.9", "<=.7", "<=.8", "_=.6 <=.3", "<=.9", "0=.6 O=.35", "0=.5 O=.45")
	g := f.Greedy()
	if got := mrz.Text(g); got != "P<<0" {
		t.Fatalf("greedy %q, want P<<0", got)
	}
	if o := g[3][strings.IndexByte(mrz.Alphabet, 'O')]; o != float32(0.45) {
		t.Errorf("O's score %v, want 0.45 (its best over the character's frames)", o)
	}
}

func TestFrames_Align(t *testing.T) {
	for _, test := range []struct {
		name   string
		frames []string
		n      int
		want   string
		ok     bool
	}{
		{"as greedy when the length is right", []string{"A=.9", "_=.9", "B=.8", "_=.9"}, 2, "AB", true},
		{"a final digit a blank narrowly beat", []string{"<=.9", "_=.9", "<=.9", "_=.55 1=.4"}, 3, "<<1", true},
		{"two fillers read as one run", []string{"<=.9", "<=.7 _=.25", "<=.9", "_=.9", "7=.9"}, 3, "<<7", true},
		{"one too many: the weakest character goes", []string{"A=.9", "_=.9", "K=.3 _=.6", "B=.9"}, 2, "AB", true},
		{"too few frames", []string{"A=.9"}, 2, "", false},
	} {
		t.Run(test.name, func(t *testing.T) {
			g, ok := frames(t, test.frames...).Align(test.n)
			if ok != test.ok {
				t.Fatalf("ok = %v, want %v", ok, test.ok)
			}
			if ok && mrz.Text(g) != test.want {
				t.Errorf("aligned %q, want %q", mrz.Text(g), test.want)
			}
		})
	}
}

// Text read without probabilities cannot be re-aligned to another length:
// nothing is invented.
func TestCertain(t *testing.T) {
	gs, err := mrz.Glyphs("AB<<1")
	if err != nil {
		t.Fatal(err)
	}
	f := ctc.Certain(gs)
	if got := mrz.Text(f.Greedy()); got != "AB<<1" {
		t.Fatalf("greedy %q", got)
	}
	if g, ok := f.Align(5); !ok || mrz.Text(g) != "AB<<1" {
		t.Errorf("Align(5) = %q %v", mrz.Text(g), ok)
	}
	if _, ok := f.Align(6); ok {
		t.Error("Align(6) invented a character")
	}
	if _, ok := f.Align(4); ok {
		t.Error("Align(4) dropped a certain character")
	}
}

// FuzzAlign runs Align on arbitrary frames: it may not panic, gives exactly
// n glyphs when ok, and always succeeds at the greedy reading's length
// (the greedy path is one of that length).
func FuzzAlign(f *testing.F) {
	f.Add([]byte{200, 10, 10, 250, 5, 200, 9}, uint8(2))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(1))
	f.Add(append(append([]byte{0, 200}, make([]byte, 2*(1+len(mrz.Alphabet)))...), 0, 0, 200), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		const classes = 1 + len(mrz.Alphabet)
		if len(data) > 64*classes {
			return
		}
		var fr ctc.Frames
		for t := 0; t+classes <= len(data)+classes-1 && t < len(data); t += classes {
			var chars [len(mrz.Alphabet)]float32
			for k := range chars {
				chars[k] = float32(data[(t+1+k)%len(data)]) / 255
			}
			fr.Append(float32(data[t])/255, &chars)
		}
		if g, ok := fr.Align(int(n)); ok && len(g) != int(n) {
			t.Fatalf("Align(%d) gave %d glyphs", n, len(g))
		}
		greedy := fr.Greedy()
		if len(greedy) > 0 {
			if _, ok := fr.Align(len(greedy)); !ok {
				t.Fatalf("Align(%d) failed where the greedy path has that length", len(greedy))
			}
		}
	})
}

// BenchmarkAlign re-decodes a TD3 line (44 characters, 3 frames each, one
// character a blank narrowly beat) to its length, as a scan does for a
// line read one character short; frames=5 is a line read 1.6x wider.
func BenchmarkAlign(b *testing.B) {
	for _, per := range []int{3, 5} {
		b.Run("frames="+strconv.Itoa(per), func(b *testing.B) {
			line := "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
			var spec []string
			for i := range len(line) {
				c := string(line[i])
				if i == 40 {
					spec = append(spec, "_=.6 "+c+"=.35", "_=.9")
					continue
				}
				spec = append(spec, c+"=.9", c+"=.6 _=.3")
				for range per - 2 {
					spec = append(spec, "_=.9")
				}
			}
			f := frames(b, spec...)
			if n := len(f.Greedy()); n != 43 {
				b.Fatalf("greedy reads %d characters, want 43", n)
			}
			b.ReportAllocs()
			for b.Loop() {
				if g, ok := f.Align(44); !ok || mrz.Text(g) != line {
					b.Fatalf("aligned %q", mrz.Text(g))
				}
			}
		})
	}
}
