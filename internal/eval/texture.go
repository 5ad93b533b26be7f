package eval

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/liveness"
)

// textureResult is the passive texture model alone on real frames: NUAA's
// webcam frames (live and printed photos), the Silent-Face samples (live,
// poster, tablet replay) and frames of real live video clips, whose faces
// fill the frame as they fill the oval.
type textureResult struct {
	sets      []textureSet
	threshold float64
}

type textureSet struct {
	name        string
	live, spoof []float64
	noFace      int
}

func evalTexture(ctx context.Context, p *face.Pipeline, nuaa, silent, video string) (*textureResult, error) {
	r := &textureResult{threshold: liveness.DefaultThresholds().Texture}
	if nuaa != "" {
		s := textureSet{name: "NUAA (webcam, printed photos)"}
		rows, err := readCSV(filepath.Join(nuaa, "labels.csv"))
		if err != nil {
			return nil, err
		}
		for _, row := range rows[1:] {
			if len(row) >= 2 {
				if err := s.add(ctx, p, filepath.Join(nuaa, row[0]), row[1] == "live"); err != nil {
					return nil, err
				}
			}
		}
		r.sets = append(r.sets, s)
	}
	if silent != "" {
		s := textureSet{name: "Silent-Face samples (live, poster, tablet)"}
		for _, f := range []string{"image_T1.jpg", "image_F1.jpg", "image_F2.jpg"} {
			if err := s.add(ctx, p, filepath.Join(silent, f), strings.HasPrefix(f, "image_T")); err != nil {
				return nil, err
			}
		}
		r.sets = append(r.sets, s)
	}
	if video != "" {
		s := textureSet{name: "real live clips, every 15th frame"}
		clips, _ := filepath.Glob(filepath.Join(video, "*.mp4"))
		tmp, err := os.MkdirTemp("", "livenessd-eval-video")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		for i, clip := range clips {
			out := filepath.Join(tmp, fmt.Sprint(i))
			if err := os.Mkdir(out, 0o700); err != nil {
				return nil, err
			}
			cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", clip, "-vf", `select=not(mod(n\,15))`,
				"-vsync", "vfr", "-q:v", "2", filepath.Join(out, "f%03d.jpg"))
			if b, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("eval texture: ffmpeg %s: %w: %s", clip, err, b)
			}
			frames, _ := filepath.Glob(filepath.Join(out, "*.jpg"))
			for _, f := range frames {
				if err := s.add(ctx, p, f, true); err != nil {
					return nil, err
				}
			}
		}
		r.sets = append(r.sets, s)
	}
	return r, nil
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return csv.NewReader(f).ReadAll()
}

// add scores the largest face of one frame.
func (s *textureSet) add(ctx context.Context, p *face.Pipeline, path string, live bool) error {
	img, err := imageio.ReadFile(path, imageio.DefaultLimits())
	if err != nil {
		return err
	}
	faces, err := p.ObserveFrame(ctx, img)
	if err != nil {
		return err
	}
	if len(faces) == 0 {
		s.noFace++
		return nil
	}
	best := faces[0]
	for _, fc := range faces[1:] {
		if fc.Box.Area() > best.Box.Area() {
			best = fc
		}
	}
	if live {
		s.live = append(s.live, best.LiveScore)
	} else {
		s.spoof = append(s.spoof, best.LiveScore)
	}
	return nil
}

func (s textureSet) auc() float64 {
	if len(s.live) == 0 || len(s.spoof) == 0 {
		return -1
	}
	var sc []face.Scored
	for _, l := range s.live {
		sc = append(sc, face.Scored{Score: l, Same: true})
	}
	for _, a := range s.spoof {
		sc = append(sc, face.Scored{Score: a})
	}
	return face.AUC(sc)
}

func (r *textureResult) markdown() string {
	var b strings.Builder
	lc := face.DefaultConfig().Liveness
	fmt.Fprintf(&b, "\nPassive texture (fr_liveness through the face pipeline, crop %gx the box width, colour smoothed over %g input pixels) alone on real frames, one score per frame, threshold %.2f:\n\n",
		lc.CropScale, lc.ChromaSigma, r.threshold)
	b.WriteString("| frames | live | attacks | live refused | attacks accepted | lowest live | highest attack | AUC | no face |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.sets {
		bp, ap := 0, 0
		for _, l := range s.live {
			if l < r.threshold {
				bp++
			}
		}
		for _, a := range s.spoof {
			if a >= r.threshold {
				ap++
			}
		}
		auc := "–"
		if v := s.auc(); v >= 0 {
			auc = fmt.Sprintf("%.4f", v)
		}
		lo, hi := "–", "–"
		if len(s.live) > 0 {
			lo = fmt.Sprintf("%.3f", slices.Min(s.live))
		}
		if len(s.spoof) > 0 {
			hi = fmt.Sprintf("%.3f", slices.Max(s.spoof))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %s | %d |\n", s.name, len(s.live), len(s.spoof),
			rate(bp, len(s.live)), rate(ap, len(s.spoof)), lo, hi, auc, s.noFace)
	}
	return b.String()
}
