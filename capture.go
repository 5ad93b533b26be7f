package livenessd

import (
	"slices"
	"time"
)

// Capture transports, as reported in CaptureOutcome.Transport.
const (
	TransportSDK     = "sdk"     // the SDK's capture WebSocket
	TransportAmplify = "amplify" // the Rekognition-compatible endpoint
)

// CaptureOutcome is what a capture transport reports when a capture ends,
// for the log line and the metrics: ids, status and durations only, never
// images, keys or tokens.
type CaptureOutcome struct {
	Transport  string
	SessionID  string
	Status     Status // SUCCEEDED or FAILED
	Confidence float64
	// Reason says why it failed (the analysis' reason or why the capture
	// was aborted).
	Reason string
	// Analysed is false when the capture ended before a verdict (protocol
	// error, lost connection, shutdown): Reason then says why.
	Analysed bool
	// Failed lists the validations the analysis did not pass.
	Failed []string
	Frames int
	// Duration runs from the challenge to the verdict; VerdictLag from the
	// end of the client's stream (last frame, end of video) to the verdict.
	Duration   time.Duration
	VerdictLag time.Duration
}

// SetVerdict fills the outcome from the analysis' result: status,
// confidence, reason and the validations (of all) it did not pass.
func (o *CaptureOutcome) SetVerdict(res *Result, all []string) {
	o.Status, o.Confidence, o.Reason, o.Analysed = res.Status, res.Confidence, res.Reason, true
	o.Failed = o.Failed[:0]
	for _, v := range all {
		if !slices.Contains(res.Validations, v) {
			o.Failed = append(o.Failed, v)
		}
	}
}
