package mrz

import (
	"fmt"
	"strings"
)

// Alphabet is every character an MRZ may hold, in the order of a Glyph's
// scores.
const Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

// Glyph is one character as an OCR read it: the recogniser's score for
// each character of Alphabet where it read that character (for a CTC
// recogniser, each class's highest probability over the frames that
// emitted the character). The character read is the highest score; the
// others say what else the glyph could be, which decides the character
// where ICAO 9303 allows only some (letters in names, digits in dates).
type Glyph [len(Alphabet)]float32

// alphabetIndex maps a byte to its index in Alphabet, -1 for others.
var alphabetIndex = func() [256]int8 {
	var a [256]int8
	for i := range a {
		a[i] = -1
	}
	for i := range len(Alphabet) {
		a[Alphabet[i]] = int8(i)
	}
	return a
}()

// Char is the character read: the highest score (the first on ties).
func (g *Glyph) Char() byte {
	best := 0
	for i, p := range g {
		if p > g[best] {
			best = i
		}
	}
	return Alphabet[best]
}

// best is the highest-scoring character set allows. When the recogniser
// gave none of them any score (a reader without alternatives), the
// character read is kept: nothing is invented.
func (g *Glyph) best(set charSet) byte {
	bi, bp := -1, float32(0)
	for i, p := range g {
		if set.has(i) && p > bp {
			bi, bp = i, p
		}
	}
	if bi < 0 {
		return g.Char()
	}
	return Alphabet[bi]
}

// CertainGlyph is c read with certainty (no alternatives).
func CertainGlyph(c byte) Glyph {
	var g Glyph
	if i := alphabetIndex[c]; i >= 0 {
		g[i] = 1
	}
	return g
}

// Glyphs turns text without alternatives into glyphs; spaces are
// ignored and letters upper-cased. Errors: ErrCharacter.
func Glyphs(text string) ([]Glyph, error) {
	text = strings.ToUpper(strings.Join(strings.Fields(text), ""))
	out := make([]Glyph, len(text))
	for i := range len(text) {
		if alphabetIndex[text[i]] < 0 {
			return nil, fmt.Errorf("%w: %q at %d", ErrCharacter, text[i], i)
		}
		out[i] = CertainGlyph(text[i])
	}
	return out, nil
}

// Text is the characters read.
func Text(gs []Glyph) string {
	b := make([]byte, len(gs))
	for i := range gs {
		b[i] = gs[i].Char()
	}
	return string(b)
}

// charSet is a set of Alphabet indices.
type charSet uint64

func (s charSet) has(i int) bool { return s&(1<<uint(i)) != 0 }

func setOf(chars string) charSet {
	var s charSet
	for i := range len(chars) {
		s |= 1 << uint(alphabetIndex[chars[i]])
	}
	return s
}

// The alphabets ICAO 9303 (Part 3 §4.3-4.4, Parts 4-7 "data structure")
// allows at each kind of position.
var (
	letters     = setOf("ABCDEFGHIJKLMNOPQRSTUVWXYZ<") // names, codes, nationality (fillers pad them)
	firstLetter = setOf("ABCDEFGHIJKLMNOPQRSTUVWXYZ")  // the document code's first character
	digits      = setOf("0123456789")                  // check digits
	digitsOr    = setOf("0123456789<")                 // dates (unknown parts are fillers), a check digit that may be a filler
	sexes       = setOf("FM<")                         // F, M, or '<' unspecified
	anyChar     = setOf(Alphabet)                      // document numbers, optional data
)

// template is the alphabet of every position of every line of format f.
func template(f Format) [][]charSet {
	n := lineLength(f)
	line := func(n int, set charSet) []charSet {
		l := make([]charSet, n)
		for i := range l {
			l[i] = set
		}
		return l
	}
	// fill sets [from, to) of l to set.
	fill := func(l []charSet, from, to int, set charSet) {
		for i := from; i < to; i++ {
			l[i] = set
		}
	}
	// The first line of every layout starts with the document code and
	// the issuing state; TD2, TD3 and visas go on with the name. The code's
	// second character is at the issuing State's discretion (Parts 4-7,
	// "document code"), and issuers use digits there (the US passport
	// card's "C1"), so it is not restricted.
	first := line(n, letters)
	first[0] = firstLetter
	first[1] = anyChar
	if f == TD1 {
		// Part 5: number 5-13, its check digit 14 ('<' for a long
		// number), optional data 15-29.
		fill(first, 5, 14, anyChar)
		first[14] = digitsOr
		fill(first, 15, 30, anyChar)
		// Birth date 0-5, check 6, sex 7, expiry 8-13, check 14,
		// nationality 15-17, optional data 18-28, composite 29.
		second := line(n, anyChar)
		fill(second, 0, 6, digitsOr)
		second[6] = digits
		second[7] = sexes
		fill(second, 8, 14, digitsOr)
		second[14] = digits
		fill(second, 15, 18, letters)
		second[29] = digits
		return [][]charSet{first, second, line(n, letters)}
	}
	// Parts 4, 6, 7: number 0-8, check 9, nationality 10-12, birth date
	// 13-18, check 19, sex 20, expiry 21-26, check 27, optional data from
	// 28; TD3 ends with the optional data's check 42 ('<' when the data
	// is empty) and the composite 43, TD2 with the composite 35.
	second := line(n, anyChar)
	second[9] = digits
	if f == TD2 {
		second[9] = digitsOr // long document number (Part 6 §4.2.2)
	}
	fill(second, 10, 13, letters)
	fill(second, 13, 19, digitsOr)
	second[19] = digits
	second[20] = sexes
	fill(second, 21, 27, digitsOr)
	second[27] = digits
	switch f {
	case TD3:
		second[42] = digitsOr
		second[43] = digits
	case TD2:
		second[35] = digits
	}
	return [][]charSet{first, second}
}
