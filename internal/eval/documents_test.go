package eval

import (
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/document"
	"github.com/livenessd/livenessd/internal/mrz"
)

// The committed truth parses: every MRZ is a valid layout.
func TestReadTruth(t *testing.T) {
	truth, err := readTruth("testdata/id-documents.csv")
	if err != nil {
		t.Fatal(err)
	}
	var withMRZ, portraits int
	for _, d := range truth {
		if len(d.lines) > 0 {
			withMRZ++
		}
		if d.portrait {
			portraits++
		}
	}
	if len(truth) != 40 || withMRZ != 38 || portraits != 32 {
		t.Errorf("%d images, %d with MRZ, %d portraits; want 40, 38, 32", len(truth), withMRZ, portraits)
	}
}

// score counts exact lines and fields and flags a valid-but-wrong zone.
func TestScore(t *testing.T) {
	lines := []string{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"}
	read := func(l2 string) *document.Result {
		m, err := mrz.Read([]string{lines[0], l2})
		if err != nil {
			t.Fatal(err)
		}
		return &document.Result{Zone: &document.Zone{MRZ: m}}
	}
	o := docOutcome{t: docTruth{lines: lines}, fieldOK: map[string]bool{}}
	score(&o, read(lines[1]))
	if !o.exact || o.linesOK != 2 || !o.valid || o.validWrong || !o.fieldOK["nationality"] {
		t.Errorf("exact read scored %+v", o)
	}
	// 'UT0': no check digit covers the nationality, so the zone is valid
	// and wrong.
	o = docOutcome{t: docTruth{lines: lines}, fieldOK: map[string]bool{}}
	score(&o, read(strings.Replace(lines[1], "UTO", "UT0", 1)))
	if o.exact || o.linesOK != 1 || !o.validWrong || o.fieldOK["nationality"] || !o.fieldOK["documentNumber"] {
		t.Errorf("UT0 read scored %+v", o)
	}
}
