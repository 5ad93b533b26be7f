package livenessd

import "time"

// Status is a liveness session's state. CREATED -> IN_PROGRESS ->
// SUCCEEDED | FAILED; any non-final state becomes EXPIRED after ExpiresAt.
type Status string

const (
	StatusCreated    Status = "CREATED"
	StatusInProgress Status = "IN_PROGRESS"
	StatusSucceeded  Status = "SUCCEEDED"
	StatusFailed     Status = "FAILED"
	StatusExpired    Status = "EXPIRED"
)

// Final reports whether no further transition is allowed.
func (s Status) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusExpired
}

// Challenge types, named as in the Rekognition streaming API.
const (
	ChallengeMovementAndLight = "FaceMovementAndLightChallenge"
	ChallengeMovement         = "FaceMovementChallenge"
)

// Oval is an ellipse on the camera frame: the centre in ratios of the
// frame's width and height, the size (width, height) in ratios of the
// frame's largest 4:3 region turned to the frame's orientation (the frame
// itself at 640x480 and at 480x640), so that the ellipse keeps its shape
// on any camera and asks for the same distance from it whichever way the
// camera is held (Pixels).
type Oval struct {
	CenterX float64 `json:"centerX"`
	CenterY float64 `json:"centerY"`
	Width   float64 `json:"width"`
	Height  float64 `json:"height"`
}

// Pixels places the oval on a w x h frame: centre and size in pixels. The
// size is in ratios of the long side of the frame's largest 4:3 (or 3:4)
// region: 640 in 640x480 and in 480x640, 480 in 640x360 and in 360x640. A
// phone held upright sends its sensor's frame turned: the field of view
// along its long side is the one the landscape frame has across, so a face
// at a given distance has the same size in pixels either way, and so does
// the oval. Sized on the short side (before 2026-12-07), an upright
// phone's start oval asked for 49-74 cm, often further than an arm
// reaches; now 37-55 cm (docs/PROTOCOL.md "How far that is").
func (o Oval) Pixels(w, h int) (cx, cy, width, height float64) {
	W, H := float64(w), float64(h)
	base := min(max(W, H), min(W, H)*4/3)
	return o.CenterX * W, o.CenterY * H, o.Width * base, o.Height * base * 3 / 4
}

// Scale returns the oval with the same centre and its size times s.
func (o Oval) Scale(s float64) Oval {
	return Oval{CenterX: o.CenterX, CenterY: o.CenterY, Width: o.Width * s, Height: o.Height * s}
}

// RGB is an 8-bit colour.
type RGB [3]uint8

// ColorStep is one screen colour of the light challenge and how long it is
// shown.
type ColorStep struct {
	Color    RGB           `json:"color"`
	Duration time.Duration `json:"durationMs"`
}

// Challenge is what the server asks of one session's capture. It is drawn
// from crypto/rand when the session is created and never chosen by a client.
//
// The face must first fit inside Start, the small start oval (a user who
// starts close is asked to move back), then come closer until it fills
// Oval, the target; the colours start only after that approach
// (docs/PROTOCOL.md, "In the oval").
type Challenge struct {
	ID      string      `json:"id"`
	Type    string      `json:"type"`
	Version string      `json:"version"`
	Oval    Oval        `json:"oval"`
	Start   Oval        `json:"start"`
	Colors  []ColorStep `json:"colors"`
}

// Settings are the options given when a session is created.
type Settings struct {
	AuditImagesLimit int `json:"auditImagesLimit"`
	// ExternalUserID names the end user (the caller's own id); repeated
	// failed checks of one id lock it out for a while.
	ExternalUserID string `json:"externalUserId,omitempty"`
	// CallbackURL receives the results (without images) when the session
	// reaches a final status.
	CallbackURL string `json:"callbackUrl,omitempty"`
}

// Session is one liveness check. Tenant is the id of the API key that
// created it; no other key may see it.
type Session struct {
	ID        string
	Tenant    string
	Status    Status
	Settings  Settings
	Challenge Challenge
	CreatedAt time.Time
	ExpiresAt time.Time
	// ClientTokenHash is the SHA-256 of the short-lived capture token given
	// to the browser; only the hash is stored.
	ClientTokenHash []byte
	Result          *Result
	UpdatedAt       time.Time
	// Version increases by one on every stored change; stores use it for
	// compare-and-set so transitions stay atomic across replicas.
	Version int64
	// LeaseUntil is set while IN_PROGRESS: the process running the capture
	// renews it; a capture whose lease ran out was cut by a crash and is
	// marked FAILED by any replica.
	LeaseUntil time.Time
}

// Result is the verdict of a finished capture.
type Result struct {
	Status     Status  `json:"status"`
	Confidence float64 `json:"confidence"` // 0-100
	IsLive     bool    `json:"isLive"`
	// ReferenceImage is the best frame's face as JPEG bytes.
	ReferenceImage []byte             `json:"-"`
	ReferenceBox   BoundingBox        `json:"referenceBox"`
	AuditImages    []AuditImage       `json:"-"`
	Signals        map[string]float64 `json:"signals"`
	// Checks are the graded signals: each one's value against its
	// threshold, in the order the verdict reads them.
	Checks      []SignalCheck `json:"checks,omitempty"`
	Validations []string      `json:"validationsPassed"` // face_detected, quality_check, anti_spoofing, challenge_response
	Reason      string        `json:"reason,omitempty"`  // why it failed, e.g. "Poor lighting conditions"
	Message     string        `json:"message"`
	Timestamp   time.Time     `json:"timestamp"`
}

// SignalCheck is one graded liveness signal of a Result: its value, the
// threshold it must reach (at least, or at most when Max), and whether it
// passed. Kind says what a failure means: "acquisition" (the capture was
// unusable: retry with better conditions), "challenge" (the movement or
// light challenge was not answered) or "attack" (a presentation attack is
// suspected).
type SignalCheck struct {
	Name      string  `json:"name"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Max       bool    `json:"max,omitempty"`
	Passed    bool    `json:"passed"`
	Kind      string  `json:"kind"`
}

// FailedSignals names the checks that did not pass.
func (r *Result) FailedSignals() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.Passed {
			out = append(out, c.Name)
		}
	}
	return out
}

// AuditImage is one extra frame kept for review, JPEG bytes.
type AuditImage struct {
	JPEG []byte
	Box  BoundingBox
}
