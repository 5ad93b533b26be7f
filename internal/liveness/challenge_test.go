package liveness

import (
	"errors"
	"math"
	"testing"

	"github.com/livenessd/livenessd"
)

func TestNewChallenge_Ranges(t *testing.T) {
	for range 500 {
		ch, err := NewChallenge(livenessd.ChallengeMovementAndLight)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.ID) != 32 {
			t.Fatalf("id %q: len = %d, want 32", ch.ID, len(ch.ID))
		}
		o := ch.Oval
		if o.Width < OvalMinWidth || o.Width > OvalMaxWidth {
			t.Errorf("oval width = %v, want in [%v, %v]", o.Width, OvalMinWidth, OvalMaxWidth)
		}
		if aspect := o.Height * 480 / (o.Width * 640); aspect < 1.29 || aspect > 1.31 {
			t.Errorf("oval pixel aspect = %v, want 1.3", aspect)
		}
		if o.CenterX-o.Width/2 < 0.02 || o.CenterX+o.Width/2 > 0.98 || o.CenterY-o.Height/2 < 0.02 || o.CenterY+o.Height/2 > 0.98 {
			t.Errorf("oval %+v leaves the frame", o)
		}
		if o.CenterX < 0.5-OvalJitter || o.CenterX > 0.5+OvalJitter || o.CenterY < 0.5-OvalJitter || o.CenterY > 0.5+OvalJitter {
			t.Errorf("oval centre %+v jittered too far", o)
		}
		if st := ch.Start; st.CenterX != o.CenterX || st.CenterY != o.CenterY || math.Abs(st.Width/o.Width-StartScale) > 1e-9 || math.Abs(st.Height/o.Height-StartScale) > 1e-9 {
			t.Errorf("start oval %+v is not the target %+v scaled by %v", st, o, StartScale)
		}
		if !ValidColors(ch.Colors) {
			t.Fatalf("colours %v break the rules", ch.Colors)
		}
		for _, c := range ch.Colors {
			found := false
			for _, p := range Palette {
				found = found || p == c.Color
			}
			if !found {
				t.Fatalf("colour %v not in the palette", c.Color)
			}
		}
	}
}

func TestNewChallenge_Random(t *testing.T) {
	seen := map[string]bool{}
	seq := map[string]bool{}
	var lens [MaxColors + 1]int
	for range 200 {
		ch, err := NewChallenge("")
		if err != nil {
			t.Fatal(err)
		}
		if seen[ch.ID] {
			t.Fatalf("challenge id %s drawn twice", ch.ID)
		}
		seen[ch.ID] = true
		key := ""
		for _, c := range ch.Colors {
			key += string(c.Color[:]) + c.Duration.String()
		}
		seq[key] = true
		lens[len(ch.Colors)]++
	}
	if len(seq) != 200 {
		t.Errorf("distinct colour sequences = %d of 200", len(seq))
	}
	for n := MinColors; n <= MaxColors; n++ {
		if lens[n] == 0 {
			t.Errorf("no sequence of %d colours in 200 draws", n)
		}
	}
}

func TestNewChallenge_Types(t *testing.T) {
	ch, err := NewChallenge(livenessd.ChallengeMovement)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Colors) != 0 || ch.Type != livenessd.ChallengeMovement {
		t.Errorf("movement challenge = %+v, want no colours", ch)
	}
	if _, err := NewChallenge("Smile"); !errors.Is(err, livenessd.ErrInvalidRequest) {
		t.Errorf("unknown type: err = %v, want ErrInvalidRequest", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestNewChallenge_RandomSourceError(t *testing.T) {
	if _, err := newChallenge(failingReader{}, ""); err == nil {
		t.Fatal("err = nil, want the random source's error")
	}
}

func TestValidColors(t *testing.T) {
	ms := func(n int) livenessd.ColorStep {
		return livenessd.ColorStep{Color: Palette[n%len(Palette)], Duration: MinColorTime}
	}
	good := []livenessd.ColorStep{ms(0), ms(1), ms(2), ms(6), ms(7), ms(0), ms(3), ms(4)}
	for _, test := range []struct {
		name  string
		steps []livenessd.ColorStep
		want  bool
	}{
		{"OK", good, true},
		{"TooFew", good[:MinColors-1], false},
		{"Repeat", append([]livenessd.ColorStep{ms(0)}, good...), false},
		{"GreyOnly", []livenessd.ColorStep{ms(6), ms(7), ms(6), ms(7), ms(6), ms(7), ms(6), ms(7)}, false},
		{"TooShort", append(good[:7:7], livenessd.ColorStep{Color: Palette[3], Duration: MinColorTime - 1}), false},
		{"TooMany", append(good, good[:3]...), false},
	} {
		t.Run(test.name, func(t *testing.T) {
			if got := ValidColors(test.steps); got != test.want {
				t.Errorf("ValidColors = %v, want %v", got, test.want)
			}
		})
	}
}
