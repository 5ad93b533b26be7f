package amplify

import "github.com/livenessd/livenessd"

// FaceLivenessSessionResults is the response of AWS Rekognition's
// GetFaceLivenessSessionResults, so an app backend written for AWS can read
// livenessd's verdict with its existing code. Byte fields are base64 in
// JSON, as AWS's are. Suggested route:
// GET /v1/liveness/session/{id}/aws-results (same auth and tenant checks as
// the seed's results endpoint).
type FaceLivenessSessionResults struct {
	SessionID string `json:"SessionId"`
	Status    livenessd.Status
	// Confidence is 0-100, present once the session has a verdict. It is
	// livenessd's fused score (the SUCCEEDED threshold is the analysis'
	// configured threshold), not AWS's model output: do not reuse AWS
	// thresholds blindly.
	Confidence     *float64    `json:",omitempty"`
	ReferenceImage *AuditImage `json:",omitempty"`
	AuditImages    []AuditImage
	Challenge      *ChallengeInfo `json:",omitempty"`
}

// AuditImage is AWS's AuditImage; S3Object is never set (livenessd keeps
// images in its own store).
type AuditImage struct {
	Bytes       []byte       `json:",omitempty"`
	BoundingBox *BoundingBox `json:",omitempty"`
}

// BoundingBox is AWS's BoundingBox: ratios of the image, members in the
// service's order.
type BoundingBox struct {
	Width, Height, Left, Top float64
}

// ChallengeInfo is AWS's Challenge: the type the session ran and the
// protocol version of that type (2.0.0 for FaceMovementAndLightChallenge,
// 1.0.0 for FaceMovementChallenge).
type ChallengeInfo struct {
	Type    string
	Version string
}

// AWSResults builds the AWS-shaped view of sess with its effective status
// (pass the session as the session service returns it). Images appear
// while the store still holds them; AuditImages is always a list, empty
// when there are none.
func AWSResults(sess *livenessd.Session) FaceLivenessSessionResults {
	out := FaceLivenessSessionResults{SessionID: sess.ID, Status: sess.Status, AuditImages: []AuditImage{}}
	if sess.Challenge.Type != "" {
		out.Challenge = &ChallengeInfo{Type: sess.Challenge.Type, Version: challengeVersion(sess.Challenge.Type)}
	}
	r := sess.Result
	if r == nil || !(sess.Status == livenessd.StatusSucceeded || sess.Status == livenessd.StatusFailed) {
		return out
	}
	conf := r.Confidence
	out.Confidence = &conf
	if len(r.ReferenceImage) > 0 {
		out.ReferenceImage = &AuditImage{Bytes: r.ReferenceImage, BoundingBox: awsBox(r.ReferenceBox)}
	}
	for _, a := range r.AuditImages {
		if len(a.JPEG) > 0 {
			out.AuditImages = append(out.AuditImages, AuditImage{Bytes: a.JPEG, BoundingBox: awsBox(a.Box)})
		}
	}
	return out
}

func awsBox(b livenessd.BoundingBox) *BoundingBox {
	if b == (livenessd.BoundingBox{}) {
		return nil
	}
	return &BoundingBox{Width: b.Width, Height: b.Height, Left: b.Left, Top: b.Top}
}
