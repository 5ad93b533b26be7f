package document_test

import (
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/document"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/mrz"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/doctest"
)

func specimen(t testing.TB, rel string) image.Image {
	t.Helper()
	img, err := imageio.ReadFile(filepath.Join(testutil.SharedData(t, "id-documents"), rel), imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ICAO 9303's own specimens and photographed specimens are read exactly.
func TestScanner_Scan_Specimens(t *testing.T) {
	s := doctest.Scanner(t)
	for _, test := range []struct {
		image    string
		mrz      string
		portrait bool
	}{
		{"passporteye-specimens/tests_passport-td3.jpg", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<|L898902C36UTO7408122F1204159ZE184226B<<<<<10", true},
		{"passporteye-specimens/tests_passport-td2.jpg", "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<|D231458907UTO7408122F1204159<<<<<<<6", true},
		{"passporteye-specimens/100_pass-bdr.jpg", "P<BDRMUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<|CA000000<4D<<6408125F1802212<<<<<<<<<<<<<<<6", true},
		{"passporteye-specimens/53_id-d.jpg", "IDD<<T220001293<<<<<<<<<<<<<<<|6408125<2010315D<<<<<<<<<<<<<4|MUSTERMANN<<ERIKA<<<<<<<<<<<<<", false},
		// Recorded misreads: read greedily, "MAUS<<KETTY" lost two letters
		// and "VOID" its I, "COD" came out "C0D"; the layout's line length
		// (ctc.Align) and the nationality's letters-only alphabet recover them.
		{"passporteye-specimens/100_pass-lux.jpg", "P<LUXMAUS<<KETTY<<<<<<<<<<<<<<<<<<<<<<<<<<<<|S998527<<4LUX7806201F110808403060021041<<<96", true},
		{"passporteye-specimens/100_id-usa.jpg", "IAUSA0000000033LIN1044750079<<|5808175F1004027COD<<<<<<<<<<<7|SPECIMEN<<TEST<VOID<<<<<<<<<<<", false},
	} {
		t.Run(filepath.Base(test.image), func(t *testing.T) {
			res, err := s.Scan(t.Context(), []image.Image{specimen(t, test.image)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Zone == nil {
				t.Fatal("no MRZ found")
			}
			want, err := mrz.Parse(strings.ReplaceAll(test.mrz, "|", "\n"))
			if err != nil {
				t.Fatal(err)
			}
			got := res.Zone.MRZ
			// Every field a check digit covers, and the names, exactly.
			for _, f := range [][3]string{
				{"documentNumber", got.DocumentNumber, want.DocumentNumber},
				{"dateOfBirth", got.DateOfBirth, want.DateOfBirth},
				{"expiryDate", got.ExpiryDate, want.ExpiryDate},
				{"optionalData", got.OptionalData, want.OptionalData},
				{"surname", got.Surname, want.Surname},
				{"givenNames", got.GivenNames, want.GivenNames},
			} {
				if f[1] != f[2] {
					t.Errorf("%s = %q, want %q", f[0], f[1], f[2])
				}
			}
			// Names and country codes too: letters where ICAO 9303 allows only
			// letters.
			if l := strings.Join(got.Lines, "|"); l != test.mrz {
				t.Errorf("lines\n got %s\nwant %s", l, test.mrz)
			}
			if !res.Zone.MRZ.Valid() {
				t.Errorf("check digits %+v", res.Zone.MRZ.Checks)
			}
			if (res.Portrait != nil) != test.portrait {
				t.Errorf("portrait found %v, want %v", res.Portrait != nil, test.portrait)
			}
		})
	}
}

// The photographed card on a table (MIDV-500) is outlined within 5% of its
// diagonal, its perspective corrected, and its portrait (not the small
// ghost image) extracted.
func TestScanner_Scan_PhotographedCard(t *testing.T) {
	s := doctest.Scanner(t)
	img := specimen(t, "midv500-sample/CA43_01.jpg")
	res, err := s.Scan(t.Context(), []image.Image{img})
	if err != nil {
		t.Fatal(err)
	}
	q := res.Pages[0].Quality
	if !q.Outlined || !q.Rectified || q.CutOff {
		t.Fatalf("quality %+v", q)
	}
	truth := [4][2]float64{{139, 678}, {940, 689}, {966, 1180}, {88, 1167}}
	diag := math.Hypot(966-139, 1180-678)
	for i, c := range q.Corners {
		if d := math.Hypot(c.X-truth[i][0], c.Y-truth[i][1]); d > 0.05*diag {
			t.Errorf("corner %d at (%.0f,%.0f), truth (%.0f,%.0f): %.0f px off", i, c.X, c.Y, truth[i][0], truth[i][1], d)
		}
	}
	if res.Portrait == nil {
		t.Fatal("no portrait")
	}
	// The main portrait (left half of the ~800 px card, ~90 px face) is
	// taken, not the ghost image (right, ~25 px).
	if b := res.Portrait.Face.Box; b.W < 60 || b.Center().X > 400 {
		t.Errorf("portrait face %+v of %d faces", res.Portrait.Face.Box, res.Portrait.Faces)
	}
}

func TestScanner_Scan_NoDocument(t *testing.T) {
	s := doctest.Scanner(t)
	blank := image.NewNRGBA(image.Rect(0, 0, 640, 400))
	for i := range blank.Pix {
		blank.Pix[i] = 200
	}
	if _, err := s.Scan(t.Context(), []image.Image{blank}); err != document.ErrNoDocument {
		t.Fatalf("err = %v, want ErrNoDocument", err)
	}
}
