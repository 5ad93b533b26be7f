package amplify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

func TestChallengeVersions(t *testing.T) {
	for _, test := range []struct {
		in   string
		want map[string][]string
		ok   bool
	}{
		{"FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0", map[string][]string{"FaceMovementAndLightChallenge": {"2.0.0"}, "FaceMovementChallenge": {"1.0.0"}}, true},
		{"FaceMovementAndLightChallenge_1.0.0", map[string][]string{"FaceMovementAndLightChallenge": {"1.0.0"}}, true},
		{"", nil, false},
		{"FaceMovementChallenge", nil, false},
		{"FaceMovementChallenge_1.0", nil, false},
		{"Face_Movement_1.0.0,FaceMovementChallenge_1.0.0", nil, false},
		{"FaceMovementChallenge_1.0.0,", nil, false},
		{"FaceMovementChallenge_1.0.x", nil, false},
	} {
		got, err := challengeVersions(test.in)
		if (err == nil) != test.ok {
			t.Errorf("%q: error %v, want ok=%v", test.in, err, test.ok)
			continue
		}
		if test.ok {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(test.want)
			if string(a) != string(b) {
				t.Errorf("%q: %s, want %s", test.in, a, b)
			}
		}
	}
}

func TestOvalPixels(t *testing.T) {
	o := livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: 0.45, Height: 0.78}
	for _, test := range []struct {
		w, h int
		want ovalJSON
	}{
		{640, 480, ovalJSON{Width: 288, Height: 374.4, CenterX: 320, CenterY: 240}},
		{1280, 720, ovalJSON{Width: 432, Height: 561.6, CenterX: 640, CenterY: 360}},
		{480, 640, ovalJSON{Width: 288, Height: 374.4, CenterX: 240, CenterY: 320}}, // upright: the landscape frame's oval
	} {
		got := ovalPixels(o, test.w, test.h)
		if got != test.want {
			t.Errorf("%dx%d: %+v, want %+v", test.w, test.h, got, test.want)
		}
		// The analysis places the same oval on the decoded frames.
		a := analysisChallenge(livenessd.Challenge{Oval: o})
		if _, _, aw, ah := a.Oval.Pixels(test.w, test.h); math.Abs(aw-got.Width) > 0.01 || math.Abs(ah-got.Height) > 0.01 {
			t.Errorf("%dx%d: analysis oval %vx%v px, client %vx%v", test.w, test.h, aw, ah, got.Width, got.Height)
		}
		if a.Start != o.Scale(liveness.StartScale) {
			t.Errorf("analysis start oval %+v, want the default %+v", a.Start, o.Scale(liveness.StartScale))
		}
	}
}

// TestColorOnsets follows the 3.6.8 client's event pattern (§5.4): the
// first tick reports entry 0 and entry 1 together, then a wipe event and a
// flat event per entry.
func TestColorOnsets(t *testing.T) {
	ch := livenessd.Challenge{Type: livenessd.ChallengeMovementAndLight, Colors: []livenessd.ColorStep{
		{Color: livenessd.RGB{0, 0, 0}, Duration: 400 * time.Millisecond},
		{Color: livenessd.RGB{255, 0, 0}, Duration: 300 * time.Millisecond},
		{Color: livenessd.RGB{0, 255, 0}, Duration: 150 * time.Millisecond},
	}}
	start := int64(1_700_000_000_000)
	t0 := start + 3000
	ev := func(seq int, cur, prev livenessd.RGB, at int64) colorEvent {
		return colorEvent{seq: seq, current: [3]int{int(cur[0]), int(cur[1]), int(cur[2])}, previous: [3]int{int(prev[0]), int(prev[1]), int(prev[2])}, at: at}
	}
	black, red, green := ch.Colors[0].Color, ch.Colors[1].Color, ch.Colors[2].Color
	events := []colorEvent{
		ev(0, black, black, t0), ev(1, black, black, t0), // colour 0 is black like the lead entry
		ev(1, black, black, t0+100),
		ev(2, red, black, t0+400), ev(2, red, red, t0+500),
		ev(3, green, red, t0+700), ev(3, green, green, t0+775),
	}
	got := colorOnsets(ch, events, start)
	want := []liveness.ColorShown{
		{Index: 0, At: 3050 * time.Millisecond},
		{Index: 1, At: 3450 * time.Millisecond},
		{Index: 2, At: 3737500 * time.Microsecond}, // wipe of 75 ms (half the colour)
	}
	if len(got) != len(want) {
		t.Fatalf("onsets %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("onset %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A client reporting another colour than the one issued does not get
	// that colour counted as shown.
	events[3].current = [3]int{0, 0, 255}
	if got := colorOnsets(ch, events, start); len(got) != 2 || got[1].Index != 2 {
		t.Errorf("with a wrong colour: %v", got)
	}
}

func TestServerSessionInformationRejectsBadChallenges(t *testing.T) {
	cc := DefaultChallengeConfig()
	good := livenessd.Challenge{Type: livenessd.ChallengeMovementAndLight, Oval: livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: 0.45, Height: 0.78},
		Colors: []livenessd.ColorStep{{Color: livenessd.RGB{255, 0, 0}, Duration: 300 * time.Millisecond}}}
	if _, err := serverSessionInformation(good, AnalysisFit(), 640, 480, cc); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*livenessd.Challenge){
		"NoColours":   func(c *livenessd.Challenge) { c.Colors = nil },
		"ZeroOval":    func(c *livenessd.Challenge) { c.Oval = livenessd.Oval{} },
		"UnknownType": func(c *livenessd.Challenge) { c.Type = "Other" },
		"TinyColour":  func(c *livenessd.Challenge) { c.Colors[0].Duration = time.Millisecond },
	} {
		c := good
		c.Colors = append([]livenessd.ColorStep(nil), good.Colors...)
		mod(&c)
		if _, err := serverSessionInformation(c, AnalysisFit(), 640, 480, cc); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	bad := cc
	bad.OvalIouThreshold = 0
	if err := bad.valid(); err == nil {
		t.Error("zero OvalIouThreshold accepted")
	}
}

// TestStartDistance checks the distance threshold the component gets: a
// face it lets start (distance measure below the threshold) fits the
// session's start oval when its measure per contour width is at least the
// 1st percentile of real faces, on any frame shape.
func TestStartDistance(t *testing.T) {
	ch := livenessd.Challenge{Type: livenessd.ChallengeMovement, Oval: livenessd.Oval{CenterX: 0.5, CenterY: 0.5, Width: 0.45, Height: 0.78}}
	fit := AnalysisFit()
	for _, sz := range [][2]int{{640, 480}, {320, 240}, {1280, 720}, {480, 640}} {
		w, h := sz[0], sz[1]
		b, err := serverSessionInformation(ch, fit, w, h, DefaultChallengeConfig())
		if err != nil {
			t.Fatal(err)
		}
		var ev serverSessionInformationJSON
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		cc := ev.SessionInformation.Challenge[ch.Type].ChallengeConfig
		d := cc.FaceDistanceThresholdMin
		if d <= 0 || d >= DefaultChallengeConfig().FaceDistanceThresholdMin || cc.FaceDistanceThreshold != d {
			t.Fatalf("%dx%d: FaceDistanceThreshold(Min) %v/%v, want one value below AWS's 0.32", w, h, cc.FaceDistanceThreshold, d)
		}
		// The largest contour width the component lets start, for a face
		// whose distance measure is 0.39 contour widths.
		static := 0.8 * math.Min(float64(w), 0.75*float64(h))
		contour := d * static / 0.39
		_, _, sw, _ := liveness.StartOval(ch).Pixels(w, h)
		if fill := contour / sw; fill > fit.Start+0.001 || fill < fit.Start-0.02 {
			t.Errorf("%dx%d: the component lets a face start at %.3f of the start oval, want just under %.2f", w, h, fill, fit.Start)
		}
	}
}

func ppmFrame(w, h int, fill byte) []byte {
	b := []byte("P6\n")
	b = append(b, []byte(itoa(w)+" "+itoa(h)+"\n255\n")...)
	return append(b, bytes.Repeat([]byte{fill}, w*h*3)...)
}

func itoa(v int) string { b, _ := json.Marshal(v); return string(b) }

func TestReadPPM(t *testing.T) {
	two := append(ppmFrame(4, 2, 9), ppmFrame(3, 3, 200)...)
	r := bufio.NewReader(bytes.NewReader(two))
	for _, want := range [][2]int{{4, 2}, {3, 3}} {
		img, err := readPPM(r)
		if err != nil {
			t.Fatal(err)
		}
		if img.Rect.Dx() != want[0] || img.Rect.Dy() != want[1] {
			t.Fatalf("size %v, want %v", img.Rect, want)
		}
	}
	if _, err := readPPM(r); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
	for name, in := range map[string][]byte{
		"Magic":     []byte("P3\n1 1\n255\n\x00\x00\x00"),
		"Huge":      []byte("P6\n100000 100000\n255\n"),
		"Maxval":    []byte("P6\n1 1\n65535\n\x00\x00\x00\x00\x00\x00"),
		"Truncated": ppmFrame(4, 4, 1)[:20],
		"NoNumber":  []byte("P6\n\n"),
		"Comment":   []byte("P6\n# c\n1 1\n255\n\x00\x00"),
	} {
		if _, err := readPPM(bufio.NewReader(bytes.NewReader(in))); err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Comments are allowed in the header.
	if img, err := readPPM(bufio.NewReader(bytes.NewReader([]byte("P6\n# made by ffmpeg\n1 1\n255\n\x01\x02\x03")))); err != nil || img.Pix[2] != 3 {
		t.Errorf("comment: %v", err)
	}
}

func FuzzReadPPM(f *testing.F) {
	f.Add(ppmFrame(2, 2, 7))
	f.Add([]byte("P6\n# c\n1 1\n255\n\x01\x02\x03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for range 4 {
			img, err := readPPM(r)
			if err != nil {
				return
			}
			if img.Rect.Dx()*img.Rect.Dy() > maxPPMPixels {
				t.Fatalf("accepted %v", img.Rect)
			}
		}
	})
}

// FuzzClientEvents runs the parsers of the client's JSON events.
func FuzzClientEvents(f *testing.F) {
	f.Add([]byte(`{"Challenge":{"FaceMovementAndLightChallenge":{"ChallengeId":"x","ColorDisplayed":{"CurrentColor":{"RGB":[255,0,0]},"SequenceNumber":1,"CurrentColorStartTimestamp":1700000001200,"PreviousColor":{"RGB":[0,0,0]}}}}}`))
	f.Add([]byte(`{"Challenge":{"FaceMovementChallenge":{"ChallengeId":"x","VideoEndTimestamp":1700000006000,"TargetFace":{"BoundingBox":{"Width":0.45,"Height":0.97,"Left":0.275,"Top":0.015}}}}}`))
	f.Add([]byte(`{"VideoChunk":"GkXfow==","TimestampMillis":1700000001100}`))
	f.Add([]byte(`{"VideoChunk":"","TimestampMillis":{"closeCode":4003}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseClientChallenge(b)
		var v videoEventJSON
		_ = json.Unmarshal(b, &v)
		_, _ = challengeVersions(string(b))
	})
}

func TestAcquireRetry(t *testing.T) {
	calls := 0
	acq := func(context.Context) (func(), error) {
		calls++
		if calls < 3 {
			return nil, livenessd.ErrOverloaded
		}
		return func() {}, nil
	}
	if _, err := acquireRetry(context.Background(), acq); err != nil || calls != 3 {
		t.Fatalf("calls %d, err %v", calls, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	busy := func(context.Context) (func(), error) { return nil, livenessd.ErrOverloaded }
	if _, err := acquireRetry(ctx, busy); err == nil {
		t.Fatal("acquired from a pool that stays busy")
	}
	other := errors.New("broken")
	if _, err := acquireRetry(context.Background(), func(context.Context) (func(), error) { return nil, other }); !errors.Is(err, other) {
		t.Fatalf("err %v", err)
	}
}
