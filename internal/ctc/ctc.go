// Package ctc decodes the output of a CTC text recogniser restricted to the
// MRZ alphabet: per time step (frame), the probability of the blank and of
// each character of mrz.Alphabet. Greedy decoding gives the characters the
// recogniser read; Align gives the most probable reading of exactly n
// characters, for a line whose length the MRZ layout fixes. It is pure Go.
package ctc

import (
	"math"

	"github.com/livenessd/livenessd/internal/mrz"
)

// classes is the blank (0) and then mrz.Alphabet.
const classes = 1 + len(mrz.Alphabet)

// Frames are a recogniser's outputs over one line: P[t*classes+0] is frame
// t's blank probability, P[t*classes+1+k] that of mrz.Alphabet[k].
type Frames struct {
	P []float32
}

// Len is the number of frames.
func (f Frames) Len() int { return len(f.P) / classes }

func (f Frames) row(t int) []float32 { return f.P[t*classes : (t+1)*classes] }

// Append adds a frame (blank's probability, then each character's).
func (f *Frames) Append(blank float32, chars *[len(mrz.Alphabet)]float32) {
	f.P = append(f.P, blank)
	f.P = append(f.P, chars[:]...)
}

// Concat joins the frames of a line read in parts.
func Concat(parts ...Frames) Frames {
	var out Frames
	for _, p := range parts {
		out.P = append(out.P, p.P...)
	}
	return out
}

// Certain turns text read without probabilities (another OCR) into frames:
// each character certain in its own frame, a certain blank between.
func Certain(gs []mrz.Glyph) Frames {
	var f Frames
	var blank [len(mrz.Alphabet)]float32
	for i := range gs {
		f.Append(0, (*[len(mrz.Alphabet)]float32)(&gs[i]))
		f.Append(1, &blank)
	}
	return f
}

// Greedy is best-path decoding: per frame the most probable class, repeats
// merged, blanks dropped. Each glyph holds every character's highest
// probability over the frames that emitted it.
func (f Frames) Greedy() []mrz.Glyph {
	var out []mrz.Glyph
	prev := 0
	for t := range f.Len() {
		r := f.row(t)
		best := 0
		for c := 1; c < classes; c++ {
			if r[c] > r[best] {
				best = c
			}
		}
		if best != 0 && best != prev {
			out = append(out, mrz.Glyph{})
		}
		if best != 0 {
			glyphMax(&out[len(out)-1], r)
		}
		prev = best
	}
	return out
}

func glyphMax(g *mrz.Glyph, r []float32) {
	for k := range g {
		g[k] = max(g[k], r[1+k])
	}
}

// Align is the most probable single path through the frames that reads
// exactly n characters (Viterbi over CTC's states: a blank or character k
// as class c, a repeated class needing a blank between). It decides where
// a character the greedy reading dropped was (a blank that narrowly won, a
// run of one class that held two) or which of two was one too many, by the
// recogniser's own probabilities. ok is false when no such path exists
// (too few frames, or zero probability wherever it would need one).
func (f Frames) Align(n int) (glyphs []mrz.Glyph, ok bool) {
	T := f.Len()
	if n <= 0 || T < n {
		return nil, false
	}
	const nc = classes - 1
	inf := math.Inf(-1)
	logp := make([]float64, len(f.P))
	for t := range T {
		r, lr := f.row(t), logp[t*classes:(t+1)*classes]
		empty := true
		for c, p := range r {
			lr[c] = inf
			if p > 0 {
				lr[c], empty = math.Log(float64(p)), false
			}
		}
		if empty {
			// No MRZ class at all (the model saw something else): a
			// blank, as Greedy takes it.
			lr[0] = 0
		}
	}
	// State k*(nc+1) is "k characters read, now in a blank"; state
	// k*(nc+1)+1+c is "reading character k (1-based) as class c". Before
	// the first frame the only state is the blank of k=0.
	width := (n + 1) * (nc + 1)
	score := make([]float64, width)
	next := make([]float64, width)
	back := make([]int32, T*width)
	for i := range score {
		score[i] = inf
	}
	score[0] = 0
	for t := range T {
		lp := logp[t*classes : (t+1)*classes]
		bk := back[t*width : (t+1)*width]
		for i := range next {
			next[i] = inf
		}
		// prev1/prev2: the best and second best character state of k-1
		// (different classes), to enter character k without a blank.
		prev1, prev2, pc1, pc2 := inf, inf, -1, -1
		for k := 0; k <= n; k++ {
			base := k * (nc + 1)
			b1, b2, c1, c2 := inf, inf, -1, -1
			for c := range nc {
				switch v := score[base+1+c]; {
				case v > b1:
					b1, b2, c1, c2 = v, b1, c, c1
				case v > b2:
					b2, c2 = v, c
				}
			}
			// The blank after k characters: from itself or from character k.
			from, v := base, score[base]
			if b1 > v {
				from, v = base+1+c1, b1
			}
			if v > inf && lp[0] > inf {
				next[base], bk[base] = v+lp[0], int32(from)
			}
			if k > 0 {
				pb := (k - 1) * (nc + 1)
				for c := range nc {
					if lp[1+c] == inf {
						continue
					}
					// Stay in character k, or enter it from the blank after
					// k-1, or from character k-1 read as another class.
					from, v := base+1+c, score[base+1+c]
					if w := score[pb]; w > v {
						from, v = pb, w
					}
					other, oc := prev1, pc1
					if pc1 == c {
						other, oc = prev2, pc2
					}
					if oc >= 0 && other > v {
						from, v = pb+1+oc, other
					}
					if v > inf {
						next[base+1+c], bk[base+1+c] = v+lp[1+c], int32(from)
					}
				}
			}
			prev1, prev2, pc1, pc2 = b1, b2, c1, c2
		}
		score, next = next, score
	}
	// The end: n characters read, in the blank after them or in the last.
	base := n * (nc + 1)
	end, best := base, score[base]
	for c := range nc {
		if score[base+1+c] > best {
			end, best = base+1+c, score[base+1+c]
		}
	}
	if best == inf {
		return nil, false
	}
	glyphs = make([]mrz.Glyph, n)
	s := end
	for t := T - 1; t >= 0; t-- {
		if k, c := s/(nc+1), s%(nc+1); c != 0 {
			glyphMax(&glyphs[k-1], f.row(t))
		}
		s = int(back[t*width+s])
	}
	return glyphs, true
}
