package face_test

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// goldenFace is what the golden file pins of one face: the decoded box,
// keypoints and 68 landmarks in pixels, rounded to 0.1 px.
type goldenFace struct {
	Box       [4]float64   `json:"box"`
	Score     float64      `json:"score"`
	Keypoints [][2]float64 `json:"keypoints"`
	Landmarks [][2]float64 `json:"landmarks"`
}

// goldenTolerance absorbs ONNX Runtime differences between CPUs (kernel
// choice, FMA): a pixel on a 1920x1280 photo.
const goldenTolerance = 1.0

func TestPipeline_Golden(t *testing.T) {
	_, obs := MustAnalyze(t, 1)
	r := func(v float64) float64 { return math.Round(v*10) / 10 }
	var got []goldenFace
	for _, o := range obs {
		g := goldenFace{Box: [4]float64{r(o.Box.X), r(o.Box.Y), r(o.Box.W), r(o.Box.H)}, Score: math.Round(o.Score*1000) / 1000}
		for _, k := range o.Keypoints {
			g.Keypoints = append(g.Keypoints, [2]float64{r(k.X), r(k.Y)})
		}
		for _, l := range o.Landmarks {
			g.Landmarks = append(g.Landmarks, [2]float64{r(l.X), r(l.Y)})
		}
		got = append(got, g)
	}
	path := filepath.Join("testdata", "sample1.golden")
	if *update {
		// One face per line keeps diffs readable.
		var b []byte
		for i, g := range got {
			line, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			sep := ",\n"
			if i == len(got)-1 {
				sep = "\n"
			}
			b = append(append(b, line...), sep...)
		}
		b = append(append([]byte("[\n"), b...), "]\n"...)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update)", err)
	}
	var want []goldenFace
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("faces = %d, golden has %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		for k := range 4 {
			if math.Abs(w.Box[k]-g.Box[k]) > goldenTolerance {
				t.Errorf("face %d box (-want +got):\n-%v\n+%v", i, w.Box, g.Box)
				break
			}
		}
		if math.Abs(w.Score-g.Score) > 0.01 {
			t.Errorf("face %d score %v, golden %v", i, g.Score, w.Score)
		}
		for _, set := range []struct {
			name      string
			want, got [][2]float64
		}{{"keypoint", w.Keypoints, g.Keypoints}, {"landmark", w.Landmarks, g.Landmarks}} {
			if len(set.want) != len(set.got) {
				t.Errorf("face %d: %d %ss, golden %d", i, len(set.got), set.name, len(set.want))
				continue
			}
			for j := range set.want {
				if math.Hypot(set.want[j][0]-set.got[j][0], set.want[j][1]-set.got[j][1]) > goldenTolerance {
					t.Errorf("face %d %s %d (-want +got):\n-%v\n+%v", i, set.name, j, set.want[j], set.got[j])
				}
			}
		}
	}
}
