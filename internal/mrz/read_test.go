package mrz_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/mrz"
)

// glyphs builds an OCR reading: plain characters are read with certainty;
// "[0=.62 O=.31]" is one character read as '0' (score .62) that the
// recogniser also saw as 'O' (.31).
func glyphs(tb testing.TB, s string) []mrz.Glyph {
	tb.Helper()
	var out []mrz.Glyph
	for len(s) > 0 {
		if s[0] != '[' {
			out = append(out, mrz.CertainGlyph(s[0]))
			s = s[1:]
			continue
		}
		end := strings.IndexByte(s, ']')
		var g mrz.Glyph
		for _, kv := range strings.Fields(s[1:end]) {
			p, err := strconv.ParseFloat(kv[2:], 32)
			if err != nil || kv[1] != '=' {
				tb.Fatalf("bad glyph %q", kv)
			}
			g[strings.IndexByte(mrz.Alphabet, kv[0])] = float32(p)
		}
		out = append(out, g)
		s = s[end+1:]
	}
	return out
}

// mustReadGlyphs reads lines in glyphs' notation.
func mustReadGlyphs(tb testing.TB, lines []string) *mrz.MRZ {
	tb.Helper()
	var in [][]mrz.Glyph
	for _, l := range lines {
		in = append(in, glyphs(tb, l))
	}
	m, err := mrz.ReadGlyphs(in)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// ReadGlyphs decides each character by the alphabet ICAO 9303 allows at
// its position: uncovered positions take the best allowed character,
// covered ones only when their check digit confirms it.
func TestReadGlyphs(t *testing.T) {
	td3 := strings.Split(icao[0].text, "\n")
	td1 := strings.Split(icao[2].text, "\n")
	for _, test := range []struct {
		name           string
		lines          []string
		want           []string // nil: as the lines' first choices would be correct (td3)
		restricted     int
		corrections    int
		invalid        []string // checks that stay invalid
		unlisted       []string
		wantNationalty string
	}{
		{
			name:       "O read as 0 in the nationality and the issuing state (no check digit)",
			lines:      []string{"P<UT[0=.7 O=.2]ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UT[0=.55 O=.4]7408122F1204159ZE184226B<<<<<10"},
			restricted: 2,
			unlisted:   []string{"issuingState", "nationality"}, // UTO is 9303's fictitious state
		},
		{
			name:       "I read as 1 and O as 0 in names",
			lines:      []string{"P<UTOER[1=.8 I=.15]KSS[0=.6 O=.39]N<<ANNA<MAR[1=.5 I=.45]A<<<<<<<<<<<<<<<<<<<", td3[1]},
			restricted: 3,
			unlisted:   []string{"issuingState", "nationality"},
		},
		{
			name:        "a letter in a date becomes the recogniser's best digit when the check digit confirms it",
			lines:       []string{td3[0], "L898902C36UTO74[D=.5 0=.3 8=.1]8122F1204159ZE184226B<<<<<10"},
			corrections: 1,
			unlisted:    []string{"issuingState", "nationality"},
		},
		{
			name:     "a best digit the check digit refuses is not taken",
			lines:    []string{td3[0], "L898902C36UTO74[D=.5 6=.3 0=.1]8122F1204159ZE184226B<<<<<10"},
			want:     []string{td3[0], "L898902C36UTO74D8122F1204159ZE184226B<<<<<10"},
			invalid:  []string{"dateOfBirth", "composite"},
			unlisted: []string{"issuingState", "nationality"},
		},
		{
			name:     "a digit in a name without a letter among its alternatives stays (nothing invented)",
			lines:    []string{"P<UTOERIKSS0N<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", td3[1]},
			want:     []string{"P<UTOERIKSS0N<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", td3[1]},
			unlisted: []string{"issuingState", "nationality"},
		},
		{
			name:     "the document number's letters and digits are both allowed: only the check digit decides",
			lines:    []string{td3[0], "L8989[0=.6 O=.4]2C36UTO7408122F1204159ZE184226B<<<<<10"},
			unlisted: []string{"issuingState", "nationality"},
		},
		{
			name:        "sex is F, M or '<'",
			lines:       []string{td3[0], "L898902C36UTO7408122[E=.6 F=.3]1204159ZE184226B<<<<<10"},
			restricted:  1,
			unlisted:    []string{"issuingState", "nationality"},
			corrections: 0,
		},
		{
			name:           "a misread letter is kept and the code flagged when not on ICAO's list",
			lines:          []string{"P<D<<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTQ7408122F1204159ZE184226B<<<<<10"},
			want:           []string{"P<D<<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTQ7408122F1204159ZE184226B<<<<<10"},
			unlisted:       []string{"nationality"},
			wantNationalty: "UTQ",
		},
		{
			name:       "TD1: the third line is the name, the second line's nationality letters",
			lines:      []string{td1[0], "7408122F1204159UT[0=.9 O=.05]<<<<<<<<<<<6", "ER[1=.7 I=.2]KSSON<<ANNA<MARIA<<<<<<<<<<"},
			want:       td1,
			restricted: 2,
			unlisted:   []string{"issuingState", "nationality"},
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := mustReadGlyphs(t, test.lines)
			want := test.want
			if want == nil {
				want = td3
			}
			if !slices.Equal(m.Lines, want) {
				t.Errorf("lines\n got %q\nwant %q", m.Lines, want)
			}
			if len(m.Restricted) != test.restricted {
				t.Errorf("%d restricted %+v, want %d", len(m.Restricted), m.Restricted, test.restricted)
			}
			if len(m.Corrections) != test.corrections {
				t.Errorf("%d corrections %+v, want %d", len(m.Corrections), m.Corrections, test.corrections)
			}
			var invalid []string
			for _, c := range m.Checks {
				if !c.Valid {
					invalid = append(invalid, c.Name)
				}
			}
			if !slices.Equal(invalid, test.invalid) {
				t.Errorf("invalid checks %v, want %v", invalid, test.invalid)
			}
			if got := m.UnlistedCodes(); !slices.Equal(got, test.unlisted) {
				t.Errorf("unlisted codes %v, want %v", got, test.unlisted)
			}
			if test.wantNationalty != "" && m.Nationality != test.wantNationalty {
				t.Errorf("nationality %q, want %q", m.Nationality, test.wantNationalty)
			}
		})
	}
}

// Misreads recorded on the specimens (../shared/data/id-documents, eval
// documents): the recogniser's three best scores at the misread position,
// the rest of the line as printed.
func TestReadGlyphs_RecordedMisreads(t *testing.T) {
	for _, test := range []struct {
		name  string
		lines []string
		want  []string
	}{
		{
			name: "25_pass-uto: O read as 0 in the nationality, I as 1 in a given name",
			lines: []string{"P<UTOERIKSSON<<ANNA<MAR[1=0.584 I=0.0682 T=0.0121]A<<<<<<<<<<<<<<<<<<<",
				"L898902C36UT[0=0.979 O=0.00487 8=0.00127]7408122F1204159ZE184226B<<<<<10"},
			want: []string{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"},
		},
		{
			name: "24_pass-egy: G read as 6 in the nationality",
			lines: []string{"P<EGYMABROUK<<ALAAELDIN<ISMAIL<MOHAMED<<<<<<",
				"A000513764E[6=0.545 G=0.446 C=0.00327]Y6002202M1503151<<<<<<<<<<<<<<06"},
			want: []string{"P<EGYMABROUK<<ALAAELDIN<ISMAIL<MOHAMED<<<<<<", "A000513764EGY6002202M1503151<<<<<<<<<<<<<<06"},
		},
		{
			name: "27_pass-gbr: G read as 6 and R as 8 in the nationality",
			lines: []string{"P<GBRUNITED<KINGDOM<TWENTY<SIX<<JODIE<PIPPA<",
				"1071828900[6=0.723 G=0.259 C=0.00558]B[8=0.453 R=0.288 9=0.0779]8501178F1601312<<<<<<<<<<<<<<06"},
			want: []string{"P<GBRUNITED<KINGDOM<TWENTY<SIX<<JODIE<PIPPA<", "1071828900GBR8501178F1601312<<<<<<<<<<<<<<06"},
		},
		{
			name: "100_id-usa: O read as 0 in the TD1 nationality",
			lines: []string{"IAUSA0000000033LIN1044750079<<",
				"5808175F1004027C[0=0.415 O=0.0793 Q=0.0114]D<<<<<<<<<<<7", "SPECIMEN<<TEST<VOID<<<<<<<<<<<"},
			want: []string{"IAUSA0000000033LIN1044750079<<", "5808175F1004027COD<<<<<<<<<<<7", "SPECIMEN<<TEST<VOID<<<<<<<<<<<"},
		},
		{
			// Not fixable by the alphabet: both are letters.
			name: "25_pass-uto: M read as N in a given name stays",
			lines: []string{"P<UTOERIKSSON<<ANNA<[N=0.671 M=0.283 H=0.0185]ARIA<<<<<<<<<<<<<<<<<<<",
				"L898902C36UTO7408122F1204159ZE184226B<<<<<10"},
			want: []string{"P<UTOERIKSSON<<ANNA<NARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"},
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := mustReadGlyphs(t, test.lines)
			if !slices.Equal(m.Lines, test.want) {
				t.Errorf("lines\n got %q\nwant %q", m.Lines, test.want)
			}
			if !m.Valid() {
				t.Errorf("checks %+v", m.Checks)
			}
		})
	}
}

// An empty nationality (100_id-mac prints none) is not flagged as a code.
func TestMRZ_UnlistedCodes_Empty(t *testing.T) {
	m, err := mrz.Parse("I<MAC12281507<0<<<<<<<<0212300\n6106225M1212307<<<<<<<<<<<<<<6\nCHONG<<KA<KEONG<<<<<<<<<<<<<<<")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.UnlistedCodes(); len(got) != 0 {
		t.Errorf("UnlistedCodes() = %v, want none", got)
	}
}

func TestKnownState(t *testing.T) {
	for _, test := range []struct {
		code string
		want bool
	}{
		{"D", true}, {"DEU", false}, {"GBR", true}, {"GBN", true}, {"UNO", true}, {"XXA", true}, {"XXX", true},
		{"EUE", true}, {"TWN", true}, {"SSD", true}, {"UTO", false}, {"BDR", false}, {"P0L", false}, {"", false},
	} {
		if got := mrz.KnownState(test.code); got != test.want {
			t.Errorf("KnownState(%q) = %v, want %v", test.code, got, test.want)
		}
	}
}
