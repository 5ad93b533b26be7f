// Package mrz parses the machine-readable zone of travel documents as ICAO
// Doc 9303 defines it: TD1 (ID cards, 3x30), TD2 (2x36), TD3 (passports,
// 2x44), MRV-A (visas, 2x44) and MRV-B (visas, 2x36). It verifies every
// check digit. For lines read by OCR with the recogniser's scores for each
// character (Glyph), it decides every position with the alphabet the
// standard allows there: letters in names and country codes, digits in
// dates and check digits. Where a check digit covers the position, a
// character is changed (to the allowed alphabet's best, or by the usual
// confusions 0/O, 1/I, 5/S, 8/B, 2/Z) only when the check digit confirms
// it. Country codes are checked against ICAO's list and flagged, never
// replaced. It is pure Go and knows nothing of images.
package mrz

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Format is an MRZ layout.
type Format string

const (
	TD1  Format = "TD1"
	TD2  Format = "TD2"
	TD3  Format = "TD3"
	MRVA Format = "MRV-A"
	MRVB Format = "MRV-B"
)

// Errors of Parse and Read.
var (
	// ErrFormat: the lines match no MRZ layout (count and length).
	ErrFormat = errors.New("mrz: not a TD1, TD2, TD3, MRV-A or MRV-B zone")
	// ErrCharacter: a character outside A-Z, 0-9 and '<'.
	ErrCharacter = errors.New("mrz: character outside A-Z, 0-9 and '<'")
)

// Check names, as reported in MRZ.Checks.
const (
	CheckDocumentNumber = "documentNumber"
	CheckDateOfBirth    = "dateOfBirth"
	CheckExpiryDate     = "expiryDate"
	CheckOptionalData   = "personalNumber" // TD3's optional data (personal number)
	CheckComposite      = "composite"
)

// Check is one check digit and whether the data it covers matches it.
type Check struct {
	Name  string
	Valid bool
	// Corrected is set when the check became valid only after correcting
	// OCR confusions in the data it covers.
	Corrected bool
}

// Correction is one character changed from what the recogniser read.
type Correction struct {
	Line, Pos int // 0-based
	From, To  byte
}

// MRZ is a parsed machine-readable zone. Text fields keep the MRZ's own
// alphabet with fillers removed at the ends (names: '<' between words
// becomes a space). Dates are YYMMDD as printed; see Date.
type MRZ struct {
	Format Format
	// Lines are the zone's lines after corrections.
	Lines []string
	// DocumentCode is the first two characters without fillers: "P", "PD",
	// "I", "ID", "AC", "V"...
	DocumentCode   string
	IssuingState   string
	Surname        string
	GivenNames     string
	DocumentNumber string
	Nationality    string
	DateOfBirth    string // YYMMDD, '<' for unknown parts
	Sex            string // "M", "F" or "<" (unspecified)
	ExpiryDate     string // YYMMDD
	// OptionalData is TD3's personal number field, TD1's first and TD2's
	// only optional data field, or a visa's optional data.
	OptionalData string
	// OptionalData2 is TD1's second optional data field.
	OptionalData2 string
	Checks        []Check
	// Corrections are the characters changed because a check digit
	// confirmed the change.
	Corrections []Correction
	// Restricted are the characters the recogniser read as one ICAO 9303
	// does not allow where no check digit covers them (a digit in a name or
	// a country code), replaced by its best-scoring allowed character.
	Restricted []Correction
}

// Valid reports whether every check digit matches.
func (m *MRZ) Valid() bool {
	for _, c := range m.Checks {
		if !c.Valid {
			return false
		}
	}
	return len(m.Checks) > 0
}

// Check returns the named check and whether the format has it.
func (m *MRZ) Check(name string) (Check, bool) {
	for _, c := range m.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Kind is the document type the document code names.
func (m *MRZ) Kind() string {
	switch {
	case m.Format == MRVA || m.Format == MRVB || strings.HasPrefix(m.DocumentCode, "V"):
		return "visa"
	case strings.HasPrefix(m.DocumentCode, "P"):
		return "passport"
	default:
		return "id_card"
	}
}

// Parse parses an MRZ given as text, one line per row of the zone. Lines
// must have their exact lengths; spaces are ignored and letters
// upper-cased. Parse corrects nothing: use Read for OCR output. Errors:
// ErrFormat, ErrCharacter.
func Parse(text string) (*MRZ, error) {
	var lines []string
	for l := range strings.SplitSeq(text, "\n") {
		l = strings.ToUpper(strings.Join(strings.Fields(l), ""))
		if l != "" {
			lines = append(lines, l)
		}
	}
	for _, l := range lines {
		if err := checkAlphabet(l); err != nil {
			return nil, err
		}
	}
	f, err := detect(lines)
	if err != nil {
		return nil, err
	}
	return parse(f, lines), nil
}

// Read parses lines read by OCR as text without alternatives: it
// tolerates a line one or two characters too long or short (fillers), and
// corrects OCR confusions where a check digit confirms them. Errors:
// ErrFormat, ErrCharacter.
func Read(lines []string) (*MRZ, error) {
	gs := make([][]Glyph, 0, len(lines))
	for _, l := range lines {
		g, err := Glyphs(l)
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	return ReadGlyphs(gs)
}

// ReadGlyphs parses lines read by OCR with the recogniser's scores for
// each character. The layout follows from the number of lines, their
// lengths and the document code; a line one or two characters off its
// layout's length is fitted at its last run of fillers. Then each
// character is decided by the alphabet ICAO 9303 allows at its position:
//   - where no check digit covers the position (document code, issuing
//     state, names, nationality, sex), the glyph's best-scoring allowed
//     character is taken (Restricted records each change);
//   - where a check digit covers it (document number, dates, optional
//     data, check digits), the allowed characters are taken only when the
//     check digit then matches, and otherwise the usual confusions are
//     tried on what was read, also only where the check digit confirms
//     them (Corrections records each change).
//
// Empty lines are skipped. Errors: ErrFormat.
func ReadGlyphs(lines [][]Glyph) (*MRZ, error) {
	var ls [][]Glyph
	for _, l := range lines {
		if len(l) > 0 {
			ls = append(ls, l)
		}
	}
	texts := make([]string, len(ls))
	for i, l := range ls {
		texts[i] = Text(l)
	}
	f, ok := nearestFormat(texts)
	if !ok {
		return nil, fmt.Errorf("%w: %d lines of lengths %v", ErrFormat, len(texts), lengths(texts))
	}
	n := lineLength(f)
	for i, l := range ls {
		ls[i] = fitLength(l, n)
	}
	return parseRead(f, ls), nil
}

// LineLength is the line length of the layout that lines read by OCR fit
// (their number, lengths within two of the layout's, the document code);
// ok is false when they fit none.
func LineLength(texts []string) (n int, ok bool) {
	f, ok := nearestFormat(texts)
	if !ok {
		return 0, false
	}
	return lineLength(f), true
}

func checkAlphabet(l string) error {
	for i := 0; i < len(l); i++ {
		if _, ok := charValue(l[i]); !ok {
			return fmt.Errorf("%w: %q at %d", ErrCharacter, l[i], i)
		}
	}
	return nil
}

func lengths(ls []string) []int {
	n := make([]int, len(ls))
	for i, l := range ls {
		n[i] = len(l)
	}
	return n
}

func lineLength(f Format) int {
	switch f {
	case TD1:
		return 30
	case TD2, MRVB:
		return 36
	}
	return 44
}

// detect names the layout of exactly sized lines.
func detect(lines []string) (Format, error) {
	switch {
	case len(lines) == 3 && len(lines[0]) == 30 && len(lines[1]) == 30 && len(lines[2]) == 30:
		return TD1, nil
	case len(lines) == 2 && len(lines[0]) == 36 && len(lines[1]) == 36:
		if lines[0][0] == 'V' {
			return MRVB, nil
		}
		return TD2, nil
	case len(lines) == 2 && len(lines[0]) == 44 && len(lines[1]) == 44:
		if lines[0][0] == 'V' {
			return MRVA, nil
		}
		return TD3, nil
	}
	return "", fmt.Errorf("%w: %d lines of lengths %v", ErrFormat, len(lines), lengths(lines))
}

// nearestFormat picks the layout whose line length is within 2 of every
// line's.
func nearestFormat(ls []string) (Format, bool) {
	near := func(n int) bool {
		for _, l := range ls {
			if len(l) < n-2 || len(l) > n+2 {
				return false
			}
		}
		return true
	}
	switch {
	case len(ls) == 3 && near(30):
		return TD1, true
	case len(ls) == 2 && near(36):
		if ls[0][0] == 'V' {
			return MRVB, true
		}
		return TD2, true
	case len(ls) == 2 && near(44):
		if ls[0][0] == 'V' {
			return MRVA, true
		}
		return TD3, true
	}
	return "", false
}

// fitLength brings a line read by OCR to n characters. Recognisers drop or
// repeat fillers inside long runs of '<', so the last run of fillers (the
// trailing one of a name line, the one before the final check digits of a
// TD3's second line) is lengthened or shortened; without fillers the line
// is padded or cut at its end. The check digits then tell whether that was
// right.
func fitLength(l []Glyph, n int) []Glyph {
	if len(l) == n {
		return l
	}
	filler := func(k int) []Glyph {
		out := make([]Glyph, k)
		for i := range out {
			out[i] = CertainGlyph('<')
		}
		return out
	}
	end := 0
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].Char() == '<' {
			end = i + 1
			break
		}
	}
	start := end
	for start > 0 && l[start-1].Char() == '<' {
		start--
	}
	switch {
	case end == 0 && len(l) < n:
		return slices.Concat(l, filler(n-len(l)))
	case end == 0:
		return l[:n]
	case len(l) < n:
		return slices.Concat(l[:end], filler(n-len(l)), l[end:])
	case len(l)-n <= end-start:
		return slices.Concat(l[:end-(len(l)-n)], l[end:])
	}
	return l[:n]
}

// parse reads the fields of exactly sized lines in layout f, verifying
// every check digit and changing nothing.
func parse(f Format, lines []string) *MRZ {
	b := make([][]byte, len(lines))
	for i, l := range lines {
		b[i] = []byte(l)
	}
	lay := layouts[f]
	m := &MRZ{Format: f}
	for _, c := range lay.checks(b) {
		m.Checks = append(m.Checks, Check{Name: c.name, Valid: c.valid(b)})
	}
	m.Lines = slices.Clone(lines)
	lay.fields(m, b)
	return m
}

// trim removes fillers at both ends.
func trim(b []byte) string { return strings.Trim(string(b), "<") }

// names splits the name field: primary identifier, then secondary after
// "<<"; single fillers separate words.
func names(b []byte) (surname, given string) {
	s := strings.TrimRight(string(b), "<")
	sur, giv, _ := strings.Cut(s, "<<")
	clean := func(x string) string {
		return strings.Join(strings.FieldsFunc(x, func(r rune) bool { return r == '<' }), " ")
	}
	return clean(sur), clean(giv)
}
