package api

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/livenessd/livenessd"
)

func TestParseFaceSelection(t *testing.T) {
	largest := livenessd.FaceSelection{Rule: livenessd.SelectLargest}
	central := livenessd.FaceSelection{Rule: livenessd.SelectCentral}
	index := func(i int) livenessd.FaceSelection {
		return livenessd.FaceSelection{Rule: livenessd.SelectIndex, Index: i}
	}
	for _, test := range []struct {
		name, raw string
		src, tgt  livenessd.FaceSelection
		field     string // of the error; "" when accepted
	}{
		{"Absent", ``, livenessd.FaceSelection{}, livenessd.FaceSelection{}, ""},
		{"Null", `null`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, ""},
		{"Largest", `"largest"`, largest, largest, ""},
		{"Central", `"central"`, central, central, ""},
		{"PerImage", `{"source": 2, "target": "central"}`, index(2), central, ""},
		{"TargetOnly", `{"target": 0}`, livenessd.FaceSelection{}, index(0), ""},
		{"Unknown", `"smallest"`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, "faceSelection"},
		{"IndexForBoth", `1`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, "faceSelection"},
		{"Negative", `{"source": -1}`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, "faceSelection.source"},
		{"Fraction", `{"target": 1.5}`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, "faceSelection.target"},
		{"Huge", `{"target": 1e9}`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, "faceSelection.target"},
		{"UnknownKey", `{"sauce": 1}`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, "faceSelection"},
		{"Array", `["largest"]`, livenessd.FaceSelection{}, livenessd.FaceSelection{}, "faceSelection"},
	} {
		t.Run(test.name, func(t *testing.T) {
			src, tgt, err := parseFaceSelection(json.RawMessage(test.raw))
			if test.field == "" {
				if err != nil || src != test.src || tgt != test.tgt {
					t.Fatalf("= %+v, %+v, %v; want %+v, %+v", src, tgt, err, test.src, test.tgt)
				}
				return
			}
			var ae *Error
			if !errors.Is(err, livenessd.ErrInvalidRequest) || !errors.As(err, &ae) || ae.Details["field"] != test.field {
				t.Fatalf("err = %v, want an invalid request naming %s", err, test.field)
			}
		})
	}
}
