package eval

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/livenessd/livenessd/internal/liveness"
	"github.com/livenessd/livenessd/internal/simulate"
)

// binCell counts one bin's sessions at the default setting.
type binCell struct {
	live, fta, refused int // live captures, failures to acquire among them, classified as attacks
	print, printIn     int // print attacks, accepted
	other, otherIn     int // the other attacks, accepted
}

func (c binCell) bpcer() float64 {
	if n := c.live - c.fta; n > 0 {
		return float64(c.refused) / float64(n)
	}
	return 0
}

func (c binCell) apcer() float64 {
	if c.print > 0 {
		return float64(c.printIn) / float64(c.print)
	}
	return 0
}

// binFactor is a factor of the per-bin report: the scene's, or the face's.
type binFactor struct {
	name   string
	labels []string
	bin    func(simulate.Outcome) string
}

func binFactors() []binFactor {
	widths := []string{"narrow (< 2.15 eye distances)", "medium (2.15-2.35)", "broad (>= 2.35)", "unknown"}
	// The approach as measured, not drawn: how much the face grew from
	// where it began to the oval. The parallax's relief grows with it, and
	// people who stop as soon as the oval accepts them give the least.
	growths := []string{"< 1.6", "1.6-2.0", ">= 2.0", "not measured"}
	out := []binFactor{
		{"start", []string{string(simulate.StartFar), string(simulate.StartNear)}, func(o simulate.Outcome) string { return string(o.Start) }},
		{"skin (ITA° of the photo)", simulate.SkinBins, func(o simulate.Outcome) string { return simulate.SkinBin(o.Skin) }},
		{"face width (outline of the photo)", widths, func(o simulate.Outcome) string {
			if !(o.FaceWidth > 0) { // not measured (NaN or 0)
				return widths[3]
			}
			return simulate.BinOf(o.FaceWidth, []float64{2.15, 2.35}, widths[:3]...)
		}},
	}
	for _, f := range simulate.Factors {
		out = append(out, binFactor{f.Name, f.Labels, func(o simulate.Outcome) string { return f.Bin(o.Scene) }})
	}
	out = append(out, binFactor{"approach growth (measured)", growths, func(o simulate.Outcome) string {
		g, ok := o.Result.Signals["growth"]
		if !ok || math.IsNaN(g) {
			return growths[3]
		}
		return simulate.BinOf(g, []float64{1.6, 2.0}, growths[:3]...)
	}})
	return out
}

// binTable reports BPCER and APCER per bin of every varied factor at the
// default setting (strength def, no forced AE/AWB): for live captures the
// failures to acquire apart and BPCER over those classified, for prints
// APCER, for the other attacks how many were accepted. The last lines
// name the worst bins.
func binTable(outs []simulate.Outcome, def float64) string {
	defName := settingName(simulate.Setting{Strength: def})
	type key struct{ f, b string }
	cells := map[key]*binCell{}
	factors := binFactors()
	for _, o := range outs {
		if settingName(o.Setting) != defName {
			continue
		}
		for _, f := range factors {
			k := key{f.name, f.bin(o)}
			c := cells[k]
			if c == nil {
				c = &binCell{}
				cells[k] = c
			}
			accepted := o.Err == nil && o.Result.IsLive
			switch o.Kind {
			case simulate.AttackNone:
				c.live++
				switch {
				case accepted:
				case o.Err == nil && liveness.IsAcquisitionFailure(o.Result.Reason):
					c.fta++
				default:
					c.refused++
				}
			case simulate.AttackPhoto:
				c.print++
				if accepted {
					c.printIn++
				}
			default:
				c.other++
				if accepted {
					c.otherIn++
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("| factor | bin | live n | BPCER (classified) | failures to acquire | print n | APCER print | other attacks accepted |\n|---|---|---|---|---|---|---|---|\n")
	var worstB, worstA struct {
		v    float64
		name string
	}
	for _, f := range factors {
		labels := slices.Clone(f.labels)
		for k := range cells {
			if k.f == f.name && !slices.Contains(labels, k.b) {
				labels = append(labels, k.b)
			}
		}
		for _, l := range labels {
			c := cells[key{f.name, l}]
			if c == nil {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %d | %d | %s | %d/%d |\n", f.name, l, c.live,
				rate(c.refused, c.live-c.fta), c.fta, c.print, rate(c.printIn, c.print), c.otherIn, c.other)
			name := fmt.Sprintf("%s = %s (n = %d)", f.name, l, c.live-c.fta)
			if c.live-c.fta >= 10 && c.bpcer() > worstB.v {
				worstB.v, worstB.name = c.bpcer(), name
			}
			if c.print >= 10 && c.apcer() > worstA.v {
				worstA.v, worstA.name = c.apcer(), fmt.Sprintf("%s = %s (n = %d)", f.name, l, c.print)
			}
		}
	}
	if worstB.name != "" {
		fmt.Fprintf(&b, "\nWorst bin for live captures (bins of at least 10): %s, BPCER %.1f%%.", worstB.name, 100*worstB.v)
	} else {
		b.WriteString("\nNo bin of at least 10 live captures refused any.")
	}
	if worstA.name != "" {
		fmt.Fprintf(&b, " Worst bin for prints: %s, APCER %.1f%%.\n", worstA.name, 100*worstA.v)
	} else {
		b.WriteString(" No bin of at least 10 prints accepted any.\n")
	}
	return b.String()
}
