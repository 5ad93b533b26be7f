package amplify_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/amplify"
)

func TestAWSResults(t *testing.T) {
	ch := livenessd.Challenge{Type: livenessd.ChallengeMovementAndLight, Version: "1"}
	done := &livenessd.Session{
		ID: "8a3f6a2c-1b2d-4e5f-9a0b-123456789abc", Status: livenessd.StatusSucceeded, Challenge: ch,
		Result: &livenessd.Result{
			Status: livenessd.StatusSucceeded, Confidence: 97.25,
			ReferenceImage: []byte{0xff, 0xd8, 1}, ReferenceBox: livenessd.BoundingBox{Width: 0.4, Height: 0.6, Left: 0.3, Top: 0.2},
			AuditImages: []livenessd.AuditImage{{JPEG: []byte{0xff, 0xd8, 2}, Box: livenessd.BoundingBox{Width: 0.5, Height: 0.5, Left: 0.25, Top: 0.25}}},
		},
	}
	b, err := json.Marshal(amplify.AWSResults(done))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["SessionId"] != done.ID || got["Status"] != "SUCCEEDED" || got["Confidence"] != 97.25 {
		t.Errorf("top level %s", b)
	}
	ref := got["ReferenceImage"].(map[string]any)
	if ref["Bytes"] != base64.StdEncoding.EncodeToString([]byte{0xff, 0xd8, 1}) {
		t.Errorf("ReferenceImage.Bytes %v", ref["Bytes"])
	}
	if bb := ref["BoundingBox"].(map[string]any); bb["Width"] != 0.4 || bb["Top"] != 0.2 {
		t.Errorf("BoundingBox %v", bb)
	}
	if a := got["AuditImages"].([]any); len(a) != 1 {
		t.Errorf("AuditImages %v", a)
	}
	if c := got["Challenge"].(map[string]any); c["Type"] != "FaceMovementAndLightChallenge" || c["Version"] != "2.0.0" {
		t.Errorf("Challenge %v", c)
	}

	// Before a verdict: no confidence, no images, an empty list.
	pending := &livenessd.Session{ID: done.ID, Status: livenessd.StatusInProgress, Challenge: livenessd.Challenge{Type: livenessd.ChallengeMovement}}
	b, _ = json.Marshal(amplify.AWSResults(pending))
	if want := `{"SessionId":"8a3f6a2c-1b2d-4e5f-9a0b-123456789abc","Status":"IN_PROGRESS","AuditImages":[],"Challenge":{"Type":"FaceMovementChallenge","Version":"1.0.0"}}`; string(b) != want {
		t.Errorf("pending\n%s\nwant\n%s", b, want)
	}
	// A purged session keeps its verdict but not its images.
	purged := *done
	r := *done.Result
	r.ReferenceImage, r.AuditImages = nil, nil
	purged.Result = &r
	v := amplify.AWSResults(&purged)
	if v.ReferenceImage != nil || len(v.AuditImages) != 0 || v.Confidence == nil {
		t.Errorf("purged view %+v", v)
	}
}
