package mrz_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/mrz"
)

// ICAO Doc 9303's specimen zones (Parts 4-7, Eighth Edition 2021): the
// Utopian holder Anna Maria Eriksson on each layout, and TD1's long
// document number example (Part 5, Appendix).
var icao = []struct {
	name  string
	text  string
	want  mrz.MRZ
	kind  string
	check []string
}{
	{
		name: "TD3 passport (Part 4 Appendix A)",
		text: "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
		want: mrz.MRZ{Format: mrz.TD3, DocumentCode: "P", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L898902C3", Nationality: "UTO", DateOfBirth: "740812", Sex: "F", ExpiryDate: "120415", OptionalData: "ZE184226B"},
		kind:  "passport",
		check: []string{"documentNumber", "dateOfBirth", "expiryDate", "personalNumber", "composite"},
	},
	{
		name: "TD2 (Part 6 Appendix A)",
		text: "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6",
		want: mrz.MRZ{Format: mrz.TD2, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890", Nationality: "UTO", DateOfBirth: "740812", Sex: "F", ExpiryDate: "120415"},
		kind:  "id_card",
		check: []string{"documentNumber", "dateOfBirth", "expiryDate", "composite"},
	},
	{
		name: "TD1 (Part 5 Appendix A)",
		text: "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
		want: mrz.MRZ{Format: mrz.TD1, DocumentCode: "I", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "D23145890", Nationality: "UTO", DateOfBirth: "740812", Sex: "F", ExpiryDate: "120415"},
		kind:  "id_card",
		check: []string{"documentNumber", "dateOfBirth", "expiryDate", "composite"},
	},
	{
		name: "TD1 long document number (Part 5 Appendix B)",
		text: "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<",
		want: mrz.MRZ{Format: mrz.TD1, DocumentCode: "I", IssuingState: "UTO", Surname: "STEVENSON", GivenNames: "PETER JOHN",
			DocumentNumber: "D23145890734", Nationality: "UTO", DateOfBirth: "340712", Sex: "M", ExpiryDate: "950712"},
		kind:  "id_card",
		check: []string{"documentNumber", "dateOfBirth", "expiryDate", "composite"},
	},
	{
		name: "MRV-A visa (Part 7 Appendix A)",
		text: "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<",
		want: mrz.MRZ{Format: mrz.MRVA, DocumentCode: "V", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L8988901C", Nationality: "XXX", DateOfBirth: "400907", Sex: "F", ExpiryDate: "961210", OptionalData: "6ZE184226B"},
		kind:  "visa",
		check: []string{"documentNumber", "dateOfBirth", "expiryDate"},
	},
	{
		name: "MRV-B visa (Part 7 Appendix B)",
		text: "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<",
		want: mrz.MRZ{Format: mrz.MRVB, DocumentCode: "V", IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: "L8988901C", Nationality: "XXX", DateOfBirth: "400907", Sex: "F", ExpiryDate: "961210"},
		kind:  "visa",
		check: []string{"documentNumber", "dateOfBirth", "expiryDate"},
	},
}

func fields(m *mrz.MRZ) mrz.MRZ {
	c := *m
	c.Lines, c.Checks, c.Corrections = nil, nil, nil
	return c
}

func TestParse_ICAOSpecimens(t *testing.T) {
	for _, test := range icao {
		t.Run(test.name, func(t *testing.T) {
			m, err := mrz.Parse(test.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := fields(m); !reflect.DeepEqual(got, test.want) {
				t.Errorf("fields\n got %+v\nwant %+v", got, test.want)
			}
			var names []string
			for _, c := range m.Checks {
				names = append(names, c.Name)
				if !c.Valid {
					t.Errorf("check %s invalid", c.Name)
				}
			}
			if !slices.Equal(names, test.check) {
				t.Errorf("checks %v, want %v", names, test.check)
			}
			if !m.Valid() {
				t.Error("Valid() = false")
			}
			if m.Kind() != test.kind {
				t.Errorf("Kind() = %s, want %s", m.Kind(), test.kind)
			}
			if got := strings.Join(m.Lines, "\n"); got != test.text {
				t.Errorf("lines %q, want %q", got, test.text)
			}
		})
	}
}

// Changing any single character of a zone breaks at least one check digit
// whenever that character is covered by one.
func TestParse_EveryCoveredCharacterIsChecked(t *testing.T) {
	m, err := mrz.Parse(icao[0].text)
	if err != nil {
		t.Fatal(err)
	}
	line2 := m.Lines[1]
	for i := range len(line2) {
		if i >= 10 && i < 13 || i == 20 { // nationality and sex: no check digit covers them
			continue
		}
		b := []byte(line2)
		if b[i] == '7' {
			b[i] = '3'
		} else {
			b[i] = '7'
		}
		got, err := mrz.Parse(m.Lines[0] + "\n" + string(b))
		if err != nil {
			t.Fatal(err)
		}
		if got.Valid() {
			t.Errorf("line 2 with position %d changed to %q still valid", i, b[i])
		}
	}
}

func TestCheckDigit(t *testing.T) {
	for _, test := range []struct {
		in   string
		want byte
	}{
		{"L898902C3", '6'}, {"740812", '2'}, {"120415", '9'}, {"ZE184226B<<<<<", '1'},
		{"D23145890", '7'}, {"<<<<<<", '0'}, {"", '0'},
	} {
		if got, ok := mrz.CheckDigit(test.in); !ok || got != test.want {
			t.Errorf("CheckDigit(%q) = %q %v, want %q", test.in, got, ok, test.want)
		}
	}
	if _, ok := mrz.CheckDigit("AB-1"); ok {
		t.Error("CheckDigit accepted '-'")
	}
}

func TestParse_Errors(t *testing.T) {
	for _, test := range []struct {
		name, text string
		want       error
	}{
		{"empty", "", mrz.ErrFormat},
		{"one line", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", mrz.ErrFormat},
		{"short line", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10", mrz.ErrFormat},
		{"bad char", "P<UTOERIKSSON<<ANNA-MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10", mrz.ErrCharacter},
	} {
		t.Run(test.name, func(t *testing.T) {
			if _, err := mrz.Parse(test.text); !errors.Is(err, test.want) {
				t.Errorf("err = %v, want %v", err, test.want)
			}
		})
	}
}

// OCR confusions are corrected where, and only where, a check digit
// confirms them.
func TestRead_Corrections(t *testing.T) {
	td3 := strings.Split(icao[0].text, "\n")
	for _, test := range []struct {
		name       string
		lines      []string
		wantLines  []string // nil: as td3
		wantValid  map[string]bool
		wantFixes  int
		wantNumber string
	}{
		{
			name:      "clean",
			lines:     td3,
			wantValid: map[string]bool{"documentNumber": true, "dateOfBirth": true, "expiryDate": true, "personalNumber": true, "composite": true},
		},
		{
			name:       "O for 0 in a date, I for 1 in a check digit",
			lines:      []string{td3[0], "L898902C36UTO74O8122F12O4I59ZE184226B<<<<<10"},
			wantValid:  map[string]bool{"documentNumber": true, "dateOfBirth": true, "expiryDate": true, "personalNumber": true, "composite": true},
			wantFixes:  3,
			wantNumber: "L898902C3",
		},
		{
			name:       "8 for B in the document number is confirmed by its check digit",
			lines:      []string{td3[0], "L8989O2C36UTO7408122F1204159ZE184226B<<<<<10"},
			wantValid:  map[string]bool{"documentNumber": true, "dateOfBirth": true, "expiryDate": true, "personalNumber": true, "composite": true},
			wantFixes:  1,
			wantNumber: "L898902C3",
		},
		{
			name:      "a letter as composite digit becomes its digit when the composite confirms it",
			lines:     []string{td3[0], "L898902C36UTO7408122F1204159ZE184226B<<<<<1O"},
			wantValid: map[string]bool{"documentNumber": true, "dateOfBirth": true, "expiryDate": true, "personalNumber": true, "composite": true},
			wantFixes: 1,
		},
		{
			name:      "a letter as check digit stays when the check does not confirm its digit",
			lines:     []string{td3[0], "L898902C36UTO7408122F1204159ZE184226B<<<<<1S"},
			wantLines: []string{td3[0], "L898902C36UTO7408122F1204159ZE184226B<<<<<1S"},
			wantValid: map[string]bool{"documentNumber": true, "dateOfBirth": true, "expiryDate": true, "personalNumber": true, "composite": false},
		},
		{
			name:      "a wrong digit is not guessed",
			lines:     []string{td3[0], "L898902C36UTO7408132F1204159ZE184226B<<<<<10"},
			wantLines: []string{td3[0], "L898902C36UTO7408132F1204159ZE184226B<<<<<10"},
			wantValid: map[string]bool{"documentNumber": true, "dateOfBirth": false, "expiryDate": true, "personalNumber": true, "composite": false},
		},
		{
			name:      "fillers dropped inside the run before the final check digits",
			lines:     []string{td3[0], "L898902C36UTO7408122F1204159ZE184226B<<<10"},
			wantValid: map[string]bool{"documentNumber": true, "dateOfBirth": true, "expiryDate": true, "personalNumber": true, "composite": true},
		},
		{
			name:      "missing and extra fillers at the ends",
			lines:     []string{td3[0][:42], td3[1] + "<"},
			wantValid: map[string]bool{"documentNumber": true, "dateOfBirth": true, "expiryDate": true, "personalNumber": true, "composite": true},
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			m, err := mrz.Read(test.lines)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, c := range m.Checks {
				got[c.Name] = c.Valid
			}
			for k, v := range test.wantValid {
				if got[k] != v {
					t.Errorf("check %s valid = %v, want %v", k, got[k], v)
				}
			}
			want := test.wantLines
			if want == nil {
				want = td3
			}
			if !slices.Equal(m.Lines, want) {
				t.Errorf("lines\n got %q\nwant %q", m.Lines, want)
			}
			if len(m.Corrections) != test.wantFixes {
				t.Errorf("%d corrections %+v, want %d", len(m.Corrections), m.Corrections, test.wantFixes)
			}
			if test.wantNumber != "" && m.DocumentNumber != test.wantNumber {
				t.Errorf("document number %q, want %q", m.DocumentNumber, test.wantNumber)
			}
		})
	}
}

// When two different corrections would both satisfy the check digit, none
// is made.
func TestRead_AmbiguousCorrectionRefused(t *testing.T) {
	// Find a document number with two confusable characters where the
	// wrong check digit is reachable by more than one single swap.
	lines := []string{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", ""}
	for _, num := range []string{"B5S8Z1I0O", "SS5588ZZO", "OI0I1OI01"} {
		for d := byte('0'); d <= '9'; d++ {
			var ok1 int
			for i := range len(num) {
				alt := map[byte]byte{'O': '0', 'I': '1', 'S': '5', 'B': '8', 'Z': '2', '0': 'O', '1': 'I', '5': 'S', '8': 'B', '2': 'Z'}[num[i]]
				b := []byte(num)
				b[i] = alt
				if c, _ := mrz.CheckDigit(string(b)); c == d {
					ok1++
				}
			}
			if c, _ := mrz.CheckDigit(num); ok1 < 2 || c == d {
				continue
			}
			lines[1] = num + string(d) + "UTO7408122F1204159ZE184226B<<<<<1<"
			m, err := mrz.Read(lines)
			if err != nil {
				t.Fatal(err)
			}
			if c, _ := m.Check("documentNumber"); c.Valid {
				t.Fatalf("%s check %c: ambiguous correction accepted: %+v", num, d, m.Corrections)
			}
			if m.DocumentNumber != num {
				t.Fatalf("document number %q changed to %q", num, m.DocumentNumber)
			}
			return
		}
	}
	t.Fatal("no ambiguous case constructed")
}

func TestDate(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, test := range []struct {
		in   string
		kind mrz.DateKind
		want string
		err  bool
	}{
		{"740812", mrz.Birth, "1974-08-12", false},
		{"250101", mrz.Birth, "2025-01-01", false},
		{"270101", mrz.Birth, "1927-01-01", false},
		{"120415", mrz.Expiry, "2012-04-15", false},
		{"961210", mrz.Expiry, "1996-12-10", false},
		{"350101", mrz.Expiry, "2035-01-01", false},
		{"740230", mrz.Birth, "", true},
		{"74<<<<", mrz.Birth, "", true},
	} {
		got, err := mrz.Date(test.in, test.kind, now)
		if (err != nil) != test.err {
			t.Errorf("Date(%s): err %v", test.in, err)
			continue
		}
		if err == nil && got.Format(time.DateOnly) != test.want {
			t.Errorf("Date(%s) = %s, want %s", test.in, got.Format(time.DateOnly), test.want)
		}
	}
}
