package mrz_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/mrz"
)

// FuzzRead feeds arbitrary OCR text to Read and Parse. Neither may panic;
// a parsed zone has its format's line count and length, Read never
// changes a character a check does not confirm (every correction is one
// of the confusion pairs), and a zone Read returns parses again to the
// same fields.
func FuzzRead(f *testing.F) {
	for _, test := range icao {
		f.Add(test.text)
	}
	f.Add("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8989O2C36UTO74O8122F12O4I59ZE184226B<<<<<1O")
	f.Add("I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 512 {
			return
		}
		lines := strings.Split(text, "\n")
		m, err := mrz.Read(lines)
		if err == nil {
			checkShape(t, m)
			pairs := map[[2]byte]bool{}
			for _, p := range []string{"O0", "I1", "S5", "B8", "Z2"} {
				pairs[[2]byte{p[0], p[1]}], pairs[[2]byte{p[1], p[0]}] = true, true
			}
			for _, c := range m.Corrections {
				if !pairs[[2]byte{c.From, c.To}] {
					t.Fatalf("correction %q -> %q is no confusion pair", c.From, c.To)
				}
				if m.Lines[c.Line][c.Pos] != c.To {
					t.Fatalf("correction at %d:%d not in the lines", c.Line, c.Pos)
				}
			}
			again, err := mrz.Parse(strings.Join(m.Lines, "\n"))
			if err != nil {
				t.Fatalf("Read's lines do not parse: %v", err)
			}
			if again.DocumentNumber != m.DocumentNumber || again.Surname != m.Surname || again.Valid() != m.Valid() {
				t.Fatalf("re-parse differs: %+v vs %+v", again, m)
			}
		}
		if m, err := mrz.Parse(text); err == nil {
			checkShape(t, m)
		}
	})
}

func checkShape(t *testing.T, m *mrz.MRZ) {
	t.Helper()
	want := map[mrz.Format][2]int{mrz.TD1: {3, 30}, mrz.TD2: {2, 36}, mrz.TD3: {2, 44}, mrz.MRVA: {2, 44}, mrz.MRVB: {2, 36}}[m.Format]
	if len(m.Lines) != want[0] {
		t.Fatalf("%s with %d lines", m.Format, len(m.Lines))
	}
	for _, l := range m.Lines {
		if len(l) != want[1] {
			t.Fatalf("%s line of %d characters", m.Format, len(l))
		}
	}
	if len(m.Checks) == 0 {
		t.Fatal("no checks")
	}
}

// FuzzReadGlyphs feeds OCR readings with alternatives to ReadGlyphs: each
// byte pair is a character read and a second choice. It may not panic; a
// parsed zone has its format's shape, every change it reports is in its
// lines, a change where no check digit covers the position never puts a
// digit in a name or country code, and the lines parse again to the same
// verdict.
func FuzzReadGlyphs(f *testing.F) {
	for _, test := range icao {
		f.Add([]byte(strings.ReplaceAll(test.text, "\n", "\n\n")), []byte("0O1I"))
	}
	f.Add([]byte("P<UT0ERIKSS0N<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UT07408122F1204159ZE184226B<<<<<10"), []byte("O0I1"))
	f.Fuzz(func(t *testing.T, text, alt []byte) {
		if len(text) > 512 || len(alt) == 0 {
			return
		}
		var lines [][]mrz.Glyph
		var cur []mrz.Glyph
		for i, c := range text {
			if c == '\n' {
				lines = append(lines, cur)
				cur = nil
				continue
			}
			c = mrz.Alphabet[int(c)%len(mrz.Alphabet)]
			a := mrz.Alphabet[int(alt[i%len(alt)])%len(mrz.Alphabet)]
			var g mrz.Glyph
			g[strings.IndexByte(mrz.Alphabet, a)] = 0.3
			g[strings.IndexByte(mrz.Alphabet, c)] = 0.6
			cur = append(cur, g)
		}
		lines = append(lines, cur)
		m, err := mrz.ReadGlyphs(lines)
		if err != nil {
			return
		}
		checkShape(t, m)
		for _, c := range append(slices.Clone(m.Corrections), m.Restricted...) {
			if m.Lines[c.Line][c.Pos] != c.To {
				t.Fatalf("change at %d:%d not in the lines", c.Line, c.Pos)
			}
		}
		for _, c := range m.Restricted {
			if c.To >= '0' && c.To <= '9' && c.From >= 'A' && c.From <= 'Z' {
				t.Fatalf("letter %q replaced by digit %q where no check digit covers it", c.From, c.To)
			}
		}
		again, err := mrz.Parse(strings.Join(m.Lines, "\n"))
		if err != nil {
			t.Fatalf("ReadGlyphs' lines do not parse: %v", err)
		}
		if again.Valid() != m.Valid() || again.Surname != m.Surname || again.Nationality != m.Nationality {
			t.Fatalf("re-parse differs: %+v vs %+v", again, m)
		}
	})
}
