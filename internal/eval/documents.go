package eval

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/livenessd/livenessd/internal/document"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/mrz"
)

// OpenScanner loads a document scanner (OCR and face models); name says
// which OCR it uses.
type OpenScanner func() (s *document.Scanner, name string, err error)

// DocumentsOptions configure Documents.
type DocumentsOptions struct {
	// Truth is the CSV of expected results: image (relative to Data), mrz
	// (lines joined by '|', empty when the image has none), portrait
	// (yes/no), corners (x,y;x,y;x,y;x,y or empty).
	Truth    string
	Data     string // directory the images are relative to
	Verbose  bool   // print every image's reading
	Markdown string // rewrite the documents section of this Markdown file
}

// docTruth is one labelled image.
type docTruth struct {
	image    string
	lines    []string
	unknown  bool // MRZ illegible to a person: not scored
	portrait bool
	corners  []image.Point
}

// DocumentFields are the MRZ fields compared one by one.
var DocumentFields = []string{"documentType", "issuingCountry", "surname", "givenNames", "documentNumber",
	"nationality", "dateOfBirth", "sex", "expiryDate", "optionalData"}

func fieldValues(m *mrz.MRZ) map[string]string {
	return map[string]string{
		"documentType": m.DocumentCode, "issuingCountry": m.IssuingState, "surname": m.Surname,
		"givenNames": m.GivenNames, "documentNumber": m.DocumentNumber, "nationality": m.Nationality,
		"dateOfBirth": m.DateOfBirth, "sex": m.Sex, "expiryDate": m.ExpiryDate,
		"optionalData": m.OptionalData + "|" + m.OptionalData2,
	}
}

// docOutcome is what one image gave.
type docOutcome struct {
	t          docTruth
	err        error
	read       *document.Zone
	linesOK    int
	lines      int
	exact      bool
	fieldOK    map[string]bool
	valid      bool // every check digit valid
	validWrong bool // every check digit valid, yet a line differs from the truth
	// codes counts the country fields read (issuing state, nationality) by
	// [read exactly][flagged as not on ICAO's list].
	codes     [2][2]int
	portrait  bool
	cornerErr float64 // mean corner distance / document diagonal; NaN if none
	elapsed   time.Duration
}

func readTruth(path string) ([]docTruth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []docTruth
	for i, rec := range recs {
		if i == 0 {
			continue
		}
		if len(rec) != 4 {
			return nil, fmt.Errorf("%s:%d: want 4 columns", path, i+1)
		}
		t := docTruth{image: rec[0], portrait: rec[2] == "yes"}
		if rec[1] == "?" {
			t.unknown = true
		} else if rec[1] != "" {
			t.lines = strings.Split(rec[1], "|")
			if _, err := mrz.Parse(strings.Join(t.lines, "\n")); err != nil {
				return nil, fmt.Errorf("%s:%d: truth MRZ: %w", path, i+1, err)
			}
		}
		if rec[3] != "" {
			for _, xy := range strings.Split(rec[3], ";") {
				var p image.Point
				if _, err := fmt.Sscanf(xy, "%d,%d", &p.X, &p.Y); err != nil {
					return nil, fmt.Errorf("%s:%d: corners: %w", path, i+1, err)
				}
				t.corners = append(t.corners, p)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// Documents scans every labelled image alone and compares the result with
// the truth: MRZ lines and fields read exactly, check digits, portrait
// found, outline corners, time per image.
func Documents(ctx context.Context, open OpenScanner, opt DocumentsOptions, stdout, stderr io.Writer) error {
	truth, err := readTruth(opt.Truth)
	if err != nil {
		return err
	}
	s, ocrName, err := open()
	if err != nil {
		return err
	}
	var outs []docOutcome
	start := time.Now()
	for _, t := range truth {
		if err := ctx.Err(); err != nil {
			return err
		}
		o := docOutcome{t: t, cornerErr: math.NaN(), fieldOK: map[string]bool{}}
		img, err := imageio.ReadFile(filepath.Join(opt.Data, t.image), imageio.DefaultLimits())
		if err != nil {
			return err
		}
		t0 := time.Now()
		res, err := s.Scan(ctx, []image.Image{img})
		o.elapsed = time.Since(t0)
		if err != nil && res == nil {
			o.err = err
			outs = append(outs, o)
			fmt.Fprintf(stderr, "%s: %v\n", t.image, err)
			continue
		}
		score(&o, res)
		outs = append(outs, o)
		if opt.Verbose {
			var lines []string
			if o.read != nil {
				lines = o.read.MRZ.Lines
			}
			fmt.Fprintf(stdout, "%s\t%v\tvalid=%v\texact=%v\tportrait=%v\t%q\n", t.image, o.elapsed.Round(time.Millisecond), o.valid, o.exact, o.portrait, lines)
		}
	}
	elapsed := time.Since(start)
	table := documentsMarkdown(outs, ocrName, opt, elapsed)
	fmt.Fprint(stdout, table)
	if opt.Markdown != "" {
		// The comparison engines get their own section beside the default's.
		section := "documents"
		if ocrName != "ppocr" {
			section += "-" + ocrName
		}
		if err := replaceSection(opt.Markdown, section, table); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote the documents section of %s\n", opt.Markdown)
	}
	return nil
}

func score(o *docOutcome, res *document.Result) {
	o.portrait = res.Portrait != nil
	if len(res.Pages) > 0 && res.Pages[0].Quality.Outlined && len(o.t.corners) == 4 {
		q := res.Pages[0].Quality.Corners
		var sum float64
		for i, p := range o.t.corners {
			sum += math.Hypot(q[i].X-float64(p.X), q[i].Y-float64(p.Y))
		}
		c := o.t.corners
		diag := math.Hypot(float64(c[2].X-c[0].X), float64(c[2].Y-c[0].Y))
		o.cornerErr = sum / 4 / diag
	}
	o.lines = len(o.t.lines)
	if res.Zone == nil {
		return
	}
	o.read = res.Zone
	m := res.Zone.MRZ
	o.valid = m.Valid()
	if len(o.t.lines) == 0 {
		return
	}
	for i, l := range o.t.lines {
		if i < len(m.Lines) && m.Lines[i] == l {
			o.linesOK++
		}
	}
	o.exact = o.linesOK == len(o.t.lines) && len(m.Lines) == len(o.t.lines)
	o.validWrong = o.valid && !o.exact
	want, _ := mrz.Parse(strings.Join(o.t.lines, "\n"))
	wv, gv := fieldValues(want), fieldValues(m)
	for _, f := range DocumentFields {
		o.fieldOK[f] = wv[f] == gv[f]
	}
	unlisted := map[string]bool{}
	for _, f := range m.UnlistedCodes() {
		unlisted[f] = true
	}
	for f, field := range map[string]string{"issuingState": "issuingCountry", "nationality": "nationality"} {
		o.codes[b2i(o.fieldOK[field])][b2i(unlisted[f])]++
	}
}

func documentsMarkdown(outs []docOutcome, ocrName string, opt DocumentsOptions, elapsed time.Duration) string {
	var b strings.Builder
	if ocrName == "ppocr" {
		fmt.Fprintf(&b, "## Identity documents (MRZ, portrait)\n\n")
	} else {
		fmt.Fprintf(&b, "### The same with %s as the MRZ reader (comparison)\n\n", ocrName)
	}
	command := "livenessd"
	if ocrName == "tesseract" {
		command = "go run -tags tesseract ./cmd/livenessd"
	}
	fmt.Fprintf(&b, "Generated by `%s eval documents --ocr %s --markdown docs/ACCURACY.md` on %s from `%s` "+
		"(%d images of %s, each scanned alone; %.0f s in all on a 2-core machine shared with other jobs). "+
		"The truth file holds the MRZ transcribed by hand from each image and checked against its check digits.\n\n",
		command, ocrName,
		time.Now().UTC().Format("2006-01-02"), shortPath(opt.Truth), len(outs), shortPath(opt.Data), elapsed.Seconds())
	var withMRZ, found, exact, linesOK, lines, valid, validWrong, falseZone, unknown int
	var portraitYes, portraitFound, portraitNo, portraitFalse int
	var codes [2][2]int
	fieldOK := map[string]int{}
	var times []float64
	var cornerErrs []float64
	for _, o := range outs {
		times = append(times, float64(o.elapsed)/1e6)
		if !math.IsNaN(o.cornerErr) {
			cornerErrs = append(cornerErrs, o.cornerErr)
		}
		if o.t.portrait {
			portraitYes++
			if o.portrait {
				portraitFound++
			}
		} else {
			portraitNo++
			if o.portrait {
				portraitFalse++
			}
		}
		if o.t.unknown {
			unknown++
			continue
		}
		if len(o.t.lines) == 0 {
			if o.read != nil {
				falseZone++
			}
			continue
		}
		withMRZ++
		lines += o.lines
		linesOK += o.linesOK
		if o.read != nil {
			found++
		}
		if o.exact {
			exact++
		}
		if o.valid {
			valid++
		}
		if o.validWrong {
			validWrong++
		}
		for f, ok := range o.fieldOK {
			if ok {
				fieldOK[f]++
			}
		}
		for i := range codes {
			for j := range codes[i] {
				codes[i][j] += o.codes[i][j]
			}
		}
	}
	frac := func(a, n int) string {
		if n == 0 {
			return "–"
		}
		return fmt.Sprintf("%d/%d (%.0f%%)", a, n, 100*float64(a)/float64(n))
	}
	b.WriteString("| measure | result |\n|---|---|\n")
	fmt.Fprintf(&b, "| MRZ found (images with an MRZ) | %s |\n", frac(found, withMRZ))
	fmt.Fprintf(&b, "| MRZ read exactly, every line | %s |\n", frac(exact, withMRZ))
	fmt.Fprintf(&b, "| MRZ lines read exactly | %s |\n", frac(linesOK, lines))
	fmt.Fprintf(&b, "| every check digit valid | %s |\n", frac(valid, withMRZ))
	fmt.Fprintf(&b, "| every check digit valid but a line wrong | %s |\n", frac(validWrong, withMRZ))
	fmt.Fprintf(&b, "| MRZ reported on an image without one | %s |\n", frac(falseZone, len(outs)-withMRZ-unknown))
	fmt.Fprintf(&b, "| country codes misread, flagged as not on ICAO's list | %s |\n", frac(codes[0][1], codes[0][0]+codes[0][1]))
	fmt.Fprintf(&b, "| country codes read exactly, flagged (specimen states: UTO, BDR...) | %s |\n", frac(codes[1][1], codes[1][0]+codes[1][1]))
	fmt.Fprintf(&b, "| portrait found (images with a portrait) | %s |\n", frac(portraitFound, portraitYes))
	fmt.Fprintf(&b, "| face reported on an image without a portrait | %s |\n", frac(portraitFalse, portraitNo))
	if len(cornerErrs) > 0 {
		fmt.Fprintf(&b, "| outline corner error (mean distance / document diagonal, %d labelled) | %.1f%% |\n", len(cornerErrs), 100*mean(cornerErrs))
	}
	slices.Sort(times)
	fmt.Fprintf(&b, "| time per image: median / 90th percentile / max | %.0f / %.0f / %.0f ms |\n\n",
		times[len(times)/2], times[len(times)*9/10], times[len(times)-1])
	b.WriteString("Fields read exactly (of the images with an MRZ):\n\n| field | exact |\n|---|---|\n")
	for _, f := range DocumentFields {
		fmt.Fprintf(&b, "| %s | %s |\n", f, frac(fieldOK[f], withMRZ))
	}
	b.WriteString("\nPer image (✓ exact, ✗ wrong, – none expected; lines = lines read exactly):\n\n")
	b.WriteString("| image | MRZ lines | check digits | portrait | ms |\n|---|---|---|---|---|\n")
	slices.SortFunc(outs, func(a, b docOutcome) int { return cmp.Compare(a.t.image, b.t.image) })
	for _, o := range outs {
		ln := "–"
		if o.t.unknown {
			ln = "illegible, not scored"
		} else if len(o.t.lines) > 0 {
			ln = fmt.Sprintf("%d/%d", o.linesOK, o.lines)
			if o.read == nil {
				ln += " (not found)"
			}
		} else if o.read != nil {
			ln = "✗ (none expected)"
		}
		cd := "–"
		if o.read != nil {
			cd = map[bool]string{true: "all valid", false: "invalid"}[o.valid]
		}
		pt := map[[2]bool]string{{true, true}: "✓", {true, false}: "✗ missed", {false, true}: "✗ (none expected)", {false, false}: "–"}[[2]bool{o.t.portrait, o.portrait}]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.0f |\n", o.t.image, ln, cd, pt, float64(o.elapsed)/1e6)
	}
	return b.String()
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
