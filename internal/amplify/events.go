package amplify

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/liveness"
)

// Event and exception names of the Rekognition streaming API.
const (
	eventVideo             = "VideoEvent"
	eventClientSession     = "ClientSessionInformationEvent"
	eventServerSession     = "ServerSessionInformationEvent"
	eventDisconnection     = "DisconnectionEvent"
	excValidation          = "ValidationException"
	excInternal            = "InternalServerException"
	excThrottling          = "ThrottlingException"
	excServiceUnavailable  = "ServiceUnavailableException"
	excSessionNotFound     = "SessionNotFoundException"
	excAccessDenied        = "AccessDeniedException"
	lightChallengeVersion  = "2.0.0"
	movementChallengeVersn = "1.0.0"
)

// Wire shapes. Member order follows the service schema, which is also the
// order the SDK writes; the client's decoder ignores unknown members.

type rgbJSON struct {
	RGB [3]int `json:"RGB"`
}

type colorSequenceJSON struct {
	FreshnessColor      rgbJSON `json:"FreshnessColor"`
	DownscrollDuration  float64 `json:"DownscrollDuration"`
	FlatDisplayDuration float64 `json:"FlatDisplayDuration"`
}

type ovalJSON struct {
	Width   float64 `json:"Width"`
	Height  float64 `json:"Height"`
	CenterX float64 `json:"CenterX"`
	CenterY float64 `json:"CenterY"`
}

// ChallengeConfig is the ChallengeConfig member of the server challenge:
// thresholds the client applies to face distance and oval matching.
// OvalHeightWidthRatio is overwritten with the session oval's own ratio.
type ChallengeConfig struct {
	BlazeFaceDetectionThreshold float64 `json:"BlazeFaceDetectionThreshold"`
	FaceDistanceThresholdMin    float64 `json:"FaceDistanceThresholdMin"`
	FaceDistanceThreshold       float64 `json:"FaceDistanceThreshold"`
	FaceDistanceThresholdMax    float64 `json:"FaceDistanceThresholdMax"`
	OvalIouThreshold            float64 `json:"OvalIouThreshold"`
	OvalHeightWidthRatio        float64 `json:"OvalHeightWidthRatio"`
	OvalIouWidthThreshold       float64 `json:"OvalIouWidthThreshold"`
	OvalIouHeightThreshold      float64 `json:"OvalIouHeightThreshold"`
	FaceIouWidthThreshold       float64 `json:"FaceIouWidthThreshold"`
	FaceIouHeightThreshold      float64 `json:"FaceIouHeightThreshold"`
	OvalFitTimeout              int     `json:"OvalFitTimeout"`
}

// DefaultChallengeConfig returns the thresholds AWS's own service sends
// (amplify-protocol.md §4.2), with a 15 s oval-fit timeout.
func DefaultChallengeConfig() ChallengeConfig {
	return ChallengeConfig{
		BlazeFaceDetectionThreshold: 0.75,
		FaceDistanceThresholdMin:    0.32,
		FaceDistanceThreshold:       0.32,
		FaceDistanceThresholdMax:    0,
		OvalIouThreshold:            0.55,
		OvalHeightWidthRatio:        1.618,
		OvalIouWidthThreshold:       0.25,
		OvalIouHeightThreshold:      0.25,
		FaceIouWidthThreshold:       0.15,
		FaceIouHeightThreshold:      0.15,
		OvalFitTimeout:              15000,
	}
}

// valid reports the first field the client needs non-zero that is zero.
func (c ChallengeConfig) valid() error {
	for name, v := range map[string]float64{
		"FaceDistanceThreshold": c.FaceDistanceThreshold, "FaceDistanceThresholdMin": c.FaceDistanceThresholdMin,
		"OvalIouThreshold": c.OvalIouThreshold, "OvalIouWidthThreshold": c.OvalIouWidthThreshold,
		"OvalIouHeightThreshold": c.OvalIouHeightThreshold, "FaceIouWidthThreshold": c.FaceIouWidthThreshold,
		"FaceIouHeightThreshold": c.FaceIouHeightThreshold,
	} {
		if !(v > 0) {
			return fmt.Errorf("amplify: challenge config %s must be > 0", name)
		}
	}
	if c.OvalFitTimeout < 0 {
		return fmt.Errorf("amplify: challenge config OvalFitTimeout must be >= 0")
	}
	return nil
}

type serverChallengeJSON struct {
	OvalParameters     ovalJSON            `json:"OvalParameters"`
	LightChallengeType string              `json:"LightChallengeType,omitempty"`
	ChallengeConfig    ChallengeConfig     `json:"ChallengeConfig"`
	ColorSequences     []colorSequenceJSON `json:"ColorSequences,omitempty"`
}

type serverSessionInformationJSON struct {
	SessionInformation struct {
		Challenge map[string]serverChallengeJSON `json:"Challenge"`
	} `json:"SessionInformation"`
}

// Colour timing of the light challenge as the client shows it. The
// client skips the first ColorSequences entry (it is only the colour the
// first wipe starts from), then for each entry wipes the new colour down
// over the previous one for DownscrollDuration and holds it flat for
// FlatDisplayDuration. Each session colour becomes one entry with a short
// wipe and the rest of its duration flat, so the screen follows the
// session's step sequence closely; the onset reported to the analysis is
// the middle of the wipe.
const (
	leadColorFlat = 75 * time.Millisecond
	wipeDuration  = 100 * time.Millisecond
)

// ovalPixels places an oval (ratios, see livenessd.Oval) on a w x h video,
// rounded as it is sent.
func ovalPixels(o livenessd.Oval, w, h int) ovalJSON {
	cx, cy, ow, oh := o.Pixels(w, h)
	return ovalJSON{Width: round2(ow), Height: round2(oh), CenterX: round2(cx), CenterY: round2(cy)}
}

// analysisChallenge is the challenge the analysis checks: the session's,
// with its start oval made explicit. The ovals keep their ratios: the
// analysis places them on each frame as ovalPixels does (Oval.Pixels).
func analysisChallenge(ch livenessd.Challenge) livenessd.Challenge {
	out := ch
	out.Start = liveness.StartOval(ch)
	out.Colors = append([]livenessd.ColorStep(nil), ch.Colors...)
	return out
}

// AnalysisFit is the oval-fit rule the analysis applies to Amplify
// captures. The component decides when the face matched its oval (the IoU
// of its landmark box with the oval's box above OvalIouThreshold, each side
// within OvalIouWidthThreshold of the oval's): for the thresholds sent,
// that is a face filling about 0.75-1.2 of the oval's width, its centre
// within a quarter of the oval's width. The analysis accepts that with a
// margin, so that no capture the component flashed is refused for not
// reaching the oval; the growth it still guarantees, 0.65/(0.9*0.55) =
// 1.31, is above the Growth threshold.
func AnalysisFit() liveness.Fit {
	return liveness.Fit{Start: liveness.FitStart, Min: 0.65, Max: 1.3, MaxOffset: 0.3}
}

// contourAmplifyDistance is the component's face distance measure (half
// its landmark face width, (2 pupil distance + 1.8 eye-to-mouth)/4) per
// contour width: 0.39 is the 1st percentile on real faces
// (docs/ACCURACY.md "Oval fit"), so a face the component lets start is
// inside the start oval for 99 people in 100.
const contourAmplifyDistance = 0.39

// startDistance is the FaceDistanceThreshold that makes the component ask
// a face to move back until it fits the session's start oval: the
// component compares its distance measure with the width of its static
// oval (0.8 of the width of the largest 3:4 portrait region of the video).
func startDistance(ch livenessd.Challenge, fit liveness.Fit, w, h int) float64 {
	_, _, sw, _ := liveness.StartOval(ch).Pixels(w, h)
	vw := float64(w)
	if w >= h {
		vw = 0.75 * float64(h)
	}
	return round4(contourAmplifyDistance * fit.Start * sw / (0.8 * vw))
}

// serverSessionInformation builds the first server event from the
// session's challenge for a w x h video.
func serverSessionInformation(ch livenessd.Challenge, fit liveness.Fit, w, h int, cc ChallengeConfig) ([]byte, error) {
	oval := ovalPixels(ch.Oval, w, h)
	if !(oval.Width >= 1 && oval.Height >= 1 && oval.CenterX >= 1 && oval.CenterY >= 1) {
		return nil, fmt.Errorf("amplify: session oval %+v is degenerate on %dx%d", ch.Oval, w, h)
	}
	cc.OvalHeightWidthRatio = round4(oval.Height / oval.Width)
	// The component's distance check before recording is the start oval:
	// a face too large for it is told to move back, so the video begins
	// with the face small and the analysis sees the approach.
	if d := startDistance(ch, fit, w, h); d < cc.FaceDistanceThresholdMin {
		cc.FaceDistanceThresholdMin, cc.FaceDistanceThreshold = d, min(d, cc.FaceDistanceThreshold)
	}
	sc := serverChallengeJSON{OvalParameters: oval, ChallengeConfig: cc}
	switch ch.Type {
	case livenessd.ChallengeMovementAndLight:
		if len(ch.Colors) == 0 {
			return nil, fmt.Errorf("amplify: light challenge without colours")
		}
		sc.LightChallengeType = "SEQUENTIAL"
		sc.ColorSequences = append(sc.ColorSequences, colorSequenceJSON{
			FreshnessColor: rgbJSON{RGB: [3]int{0, 0, 0}}, FlatDisplayDuration: ms(leadColorFlat),
		})
		for _, c := range ch.Colors {
			wipe := min(wipeDuration, c.Duration/2)
			if wipe < time.Millisecond || c.Duration-wipe < time.Millisecond {
				return nil, fmt.Errorf("amplify: colour duration %v too short", c.Duration)
			}
			sc.ColorSequences = append(sc.ColorSequences, colorSequenceJSON{
				FreshnessColor:      rgbJSON{RGB: [3]int{int(c.Color[0]), int(c.Color[1]), int(c.Color[2])}},
				DownscrollDuration:  ms(wipe),
				FlatDisplayDuration: ms(c.Duration - wipe),
			})
		}
	case livenessd.ChallengeMovement:
	default:
		return nil, fmt.Errorf("amplify: unknown challenge type %q", ch.Type)
	}
	var ev serverSessionInformationJSON
	ev.SessionInformation.Challenge = map[string]serverChallengeJSON{ch.Type: sc}
	return json.Marshal(ev)
}

func ms(d time.Duration) float64 { return float64(d.Milliseconds()) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// Client events.

type videoEventJSON struct {
	VideoChunk []byte `json:"VideoChunk"`
	// TimestampMillis is a number; the client's close trick puts an object
	// here, which is never sent but must not break decoding.
	TimestampMillis json.RawMessage `json:"TimestampMillis"`
}

type boundingBoxJSON struct {
	Width  float64 `json:"Width"`
	Height float64 `json:"Height"`
	Left   float64 `json:"Left"`
	Top    float64 `json:"Top"`
}

type colorDisplayedJSON struct {
	CurrentColor               *rgbJSON `json:"CurrentColor"`
	SequenceNumber             *int     `json:"SequenceNumber"`
	CurrentColorStartTimestamp *int64   `json:"CurrentColorStartTimestamp"`
	PreviousColor              *rgbJSON `json:"PreviousColor"`
}

type clientChallengeJSON struct {
	ChallengeID         string `json:"ChallengeId"`
	VideoStartTimestamp *int64 `json:"VideoStartTimestamp"`
	VideoEndTimestamp   *int64 `json:"VideoEndTimestamp"`
	InitialFace         *struct {
		BoundingBox                  boundingBoxJSON `json:"BoundingBox"`
		InitialFaceDetectedTimestamp int64           `json:"InitialFaceDetectedTimestamp"`
	} `json:"InitialFace"`
	TargetFace *struct {
		BoundingBox                                boundingBoxJSON `json:"BoundingBox"`
		FaceDetectedInTargetPositionStartTimestamp int64           `json:"FaceDetectedInTargetPositionStartTimestamp"`
		FaceDetectedInTargetPositionEndTimestamp   int64           `json:"FaceDetectedInTargetPositionEndTimestamp"`
	} `json:"TargetFace"`
	ColorDisplayed *colorDisplayedJSON `json:"ColorDisplayed"`
}

type clientSessionInformationJSON struct {
	Challenge map[string]clientChallengeJSON `json:"Challenge"`
}

// parseClientChallenge returns the one challenge member of a
// ClientSessionInformationEvent. The key may name either challenge type:
// the 3.6.8 client keys a light session's events by the light challenge,
// older ones sent the end event as FaceMovementChallenge.
func parseClientChallenge(payload []byte) (clientChallengeJSON, error) {
	var ev clientSessionInformationJSON
	if err := json.Unmarshal(payload, &ev); err != nil {
		return clientChallengeJSON{}, fmt.Errorf("ClientSessionInformationEvent: %w", err)
	}
	if len(ev.Challenge) != 1 {
		return clientChallengeJSON{}, fmt.Errorf("ClientSessionInformationEvent: %d challenge members, want 1", len(ev.Challenge))
	}
	for k, v := range ev.Challenge {
		if k != livenessd.ChallengeMovementAndLight && k != livenessd.ChallengeMovement {
			return clientChallengeJSON{}, fmt.Errorf("ClientSessionInformationEvent: unknown challenge %q", truncate(k, 64))
		}
		return v, nil
	}
	return clientChallengeJSON{}, nil
}

// challengeVersions parses the challenge-versions query parameter
// ("Type_1.2.3,Type_4.5.6") into type -> versions.
func challengeVersions(s string) (map[string][]string, error) {
	if len(s) < 15 || len(s) > 150 {
		return nil, fmt.Errorf("challenge-versions must be 15-150 characters")
	}
	out := map[string][]string{}
	for item := range strings.SplitSeq(s, ",") {
		typ, ver, ok := strings.Cut(item, "_")
		if !ok || len(typ) < 10 || !validVersion(ver) {
			return nil, fmt.Errorf("challenge-versions item %q is not Type_x.y.z", truncate(item, 64))
		}
		for _, c := range typ {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return nil, fmt.Errorf("challenge-versions item %q is not Type_x.y.z", truncate(item, 64))
			}
		}
		out[typ] = append(out[typ], ver)
	}
	return out, nil
}

func validVersion(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 6 {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// challengeVersion is the version reported for a challenge type.
func challengeVersion(typ string) string {
	if typ == livenessd.ChallengeMovement {
		return movementChallengeVersn
	}
	return lightChallengeVersion
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
