// Package mrz parses the machine-readable zone of travel documents as ICAO
// Doc 9303 defines it: TD1 (ID cards, 3x30), TD2 (2x36), TD3 (passports,
// 2x44), MRV-A (visas, 2x44) and MRV-B (visas, 2x36). It verifies every
// check digit and, for text read by OCR, corrects the usual confusions
// (0/O, 1/I, 5/S, 8/B, 2/Z) only where a check digit confirms the
// correction. It is pure Go and knows nothing of images.
package mrz

import (
	"errors"
	"fmt"
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

// Correction is one character changed because a check digit confirmed it.
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
	Corrections   []Correction
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
	return parse(f, lines, false), nil
}

// Read parses lines read by OCR: it tolerates a line one or two characters
// too long or short at its end (fillers), and corrects OCR confusions where
// a check digit confirms them. Errors: ErrFormat, ErrCharacter.
func Read(lines []string) (*MRZ, error) {
	var ls []string
	for _, l := range lines {
		l = strings.ToUpper(strings.Join(strings.Fields(l), ""))
		if l == "" {
			continue
		}
		if err := checkAlphabet(l); err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	f, ok := nearestFormat(ls)
	if !ok {
		return nil, fmt.Errorf("%w: %d lines of lengths %v", ErrFormat, len(ls), lengths(ls))
	}
	n := lineLength(f)
	for i, l := range ls {
		ls[i] = fitLength(l, n)
	}
	return parse(f, ls, true), nil
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
func fitLength(l string, n int) string {
	if len(l) == n {
		return l
	}
	end := strings.LastIndexByte(l, '<') + 1
	start := end
	for start > 0 && l[start-1] == '<' {
		start--
	}
	switch {
	case end == 0 && len(l) < n:
		return l + strings.Repeat("<", n-len(l))
	case end == 0:
		return l[:n]
	case len(l) < n:
		return l[:end] + strings.Repeat("<", n-len(l)) + l[end:]
	case len(l)-n <= end-start:
		return l[:end-(len(l)-n)] + l[end:]
	}
	return l[:n]
}

// parse reads the fields of lines in layout f, correcting first when asked.
func parse(f Format, lines []string, correct bool) *MRZ {
	b := make([][]byte, len(lines))
	for i, l := range lines {
		b[i] = []byte(l)
	}
	lay := layouts[f]
	m := &MRZ{Format: f}
	for _, c := range lay.checks(b) {
		ok := c.valid(b)
		fixed := false
		if !ok && correct {
			var cs []Correction
			if cs, ok = c.correct(b); ok {
				m.Corrections = append(m.Corrections, cs...)
				fixed = true
			}
		}
		m.Checks = append(m.Checks, Check{Name: c.name, Valid: ok, Corrected: fixed})
	}
	m.Lines = make([]string, len(b))
	for i := range b {
		m.Lines[i] = string(b[i])
	}
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
