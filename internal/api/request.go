package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/session"
)

// bodyError turns a body read error into an error kind: a body over its
// limit is ErrBodyTooLarge (413), anything else malformed JSON (400).
func bodyError(err error, what string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%s: body over %d bytes: %w", what, mbe.Limit, livenessd.ErrBodyTooLarge)
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty body: %w", what, livenessd.ErrInvalidRequest)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: malformed JSON: unexpected end of input: %w", what, livenessd.ErrInvalidRequest)
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s: malformed JSON at byte %d: %v: %w", what, se.Offset, se, livenessd.ErrInvalidRequest)
	case errors.As(err, &te):
		return fmt.Errorf("%s: field %q must be %s, not %s: %w", what, te.Field, te.Type, te.Value, livenessd.ErrInvalidRequest)
	}
	return fmt.Errorf("%s: %v: %w", what, err, livenessd.ErrInvalidRequest)
}

// decodeStrict decodes exactly one JSON value from r into dst: unknown
// fields and trailing data are refused.
func decodeStrict(r io.Reader, dst any, what string) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return bodyError(err, what)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyError(err, what)
		}
		return fmt.Errorf("%s: data after the JSON object: %w", what, livenessd.ErrInvalidRequest)
	}
	return nil
}

// mediaType returns the request's media type ("" without a Content-Type).
func mediaType(r *http.Request) (string, map[string]string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, fmt.Errorf("Content-Type %q: %v: %w", ct, err, ErrUnsupportedMediaType)
	}
	return mt, params, nil
}

func requireJSON(r *http.Request) error {
	mt, _, err := mediaType(r)
	if err != nil {
		return err
	}
	if mt != "application/json" {
		return fmt.Errorf("Content-Type %q, want application/json: %w", r.Header.Get("Content-Type"), ErrUnsupportedMediaType)
	}
	return nil
}

// createSessionRequest is the body of POST /v1/liveness/session.
type createSessionRequest struct {
	Settings *struct {
		AuditImagesLimit *int `json:"auditImagesLimit"`
	} `json:"settings"`
	ExternalUserID *string `json:"externalUserId"`
	CallbackURL    *string `json:"callbackUrl"`
}

// MaxExternalUserID bounds externalUserId (bytes).
const MaxExternalUserID = 128

// parseCreateSession reads the create-session body. auditImagesLimit must
// be 0..4 (as AWS, which refuses rather than clamps); absent means 0.
func parseCreateSession(r io.Reader) (livenessd.Settings, error) {
	var req createSessionRequest
	if err := decodeStrict(r, &req, "create session"); err != nil {
		return livenessd.Settings{}, err
	}
	var st livenessd.Settings
	if req.Settings != nil && req.Settings.AuditImagesLimit != nil {
		n := *req.Settings.AuditImagesLimit
		if n < 0 || n > session.MaxAuditImages {
			return st, &Error{
				Err:     fmt.Errorf("settings.auditImagesLimit %d outside 0..%d: %w", n, session.MaxAuditImages, livenessd.ErrInvalidRequest),
				Message: fmt.Sprintf("settings.auditImagesLimit must be between 0 and %d, got %d", session.MaxAuditImages, n),
				Details: map[string]any{"field": "settings.auditImagesLimit", "min": 0, "max": session.MaxAuditImages},
			}
		}
		st.AuditImagesLimit = n
	}
	if p := req.ExternalUserID; p != nil {
		if err := checkExternalUserID(*p); err != nil {
			return st, err
		}
		st.ExternalUserID = *p
	}
	if req.CallbackURL != nil {
		if *req.CallbackURL == "" {
			return st, &Error{
				Err:     fmt.Errorf("callbackUrl empty: %w", livenessd.ErrInvalidRequest),
				Message: "callbackUrl must be an https:// URL when given",
				Details: map[string]any{"field": "callbackUrl"},
			}
		}
		st.CallbackURL = *req.CallbackURL
	}
	return st, nil
}

// checkExternalUserID accepts 1..MaxExternalUserID bytes of printable
// UTF-8 without control characters.
func checkExternalUserID(id string) error {
	ok := id != "" && len(id) <= MaxExternalUserID && utf8.ValidString(id)
	for _, r := range id {
		if unicode.IsControl(r) {
			ok = false
		}
	}
	if !ok {
		return &Error{
			Err:     fmt.Errorf("externalUserId invalid: %w", livenessd.ErrInvalidRequest),
			Message: fmt.Sprintf("externalUserId must be 1 to %d bytes of printable UTF-8", MaxExternalUserID),
			Details: map[string]any{"field": "externalUserId", "maxLength": MaxExternalUserID},
		}
	}
	return nil
}

// compareRequest is the body of POST /v1/liveness/compare-faces.
type compareRequest struct {
	SourceImage   *string         `json:"sourceImage"`
	TargetImage   *string         `json:"targetImage"`
	Threshold     *float64        `json:"threshold"`
	FaceSelection json.RawMessage `json:"faceSelection"`

	sourceSel, targetSel livenessd.FaceSelection // parsed FaceSelection
}

// parseCompare reads the compare-faces body; both images are required and
// the threshold, when given, must be within (0, 100].
func parseCompare(r io.Reader) (compareRequest, error) {
	var req compareRequest
	if err := decodeStrict(r, &req, "compare faces"); err != nil {
		return req, err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"sourceImage", req.SourceImage}, {"targetImage", req.TargetImage}} {
		if f.v == nil || *f.v == "" {
			return req, &Error{
				Err:     fmt.Errorf("%s missing: %w", f.name, livenessd.ErrInvalidRequest),
				Message: f.name + " is required (base64-encoded JPEG, PNG or WebP)",
				Details: map[string]any{"field": f.name},
			}
		}
	}
	if err := checkThreshold(req.Threshold); err != nil {
		return req, err
	}
	var err error
	req.sourceSel, req.targetSel, err = parseFaceSelection(req.FaceSelection)
	return req, err
}

// parseFaceSelection reads compare-faces' faceSelection: absent or null
// (largest), "largest" or "central" for both images, or an object
// {"source": s, "target": s} where each s is "largest", "central" or a face
// index (0 = the largest face; the response lists the faces in that order).
func parseFaceSelection(raw json.RawMessage) (src, tgt livenessd.FaceSelection, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return src, tgt, nil
	}
	if raw[0] == '{' {
		var both struct {
			Source json.RawMessage `json:"source"`
			Target json.RawMessage `json:"target"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if dec.Decode(&both) != nil {
			return src, tgt, faceSelectionError("faceSelection", raw)
		}
		if src, err = parseSelection("faceSelection.source", both.Source); err != nil {
			return src, tgt, err
		}
		tgt, err = parseSelection("faceSelection.target", both.Target)
		return src, tgt, err
	}
	var rule string
	if json.Unmarshal(raw, &rule) != nil || (rule != string(livenessd.SelectLargest) && rule != string(livenessd.SelectCentral)) {
		return src, tgt, faceSelectionError("faceSelection", raw)
	}
	src.Rule = livenessd.SelectionRule(rule)
	return src, src, nil
}

// parseSelection reads one image's selection: absent, "largest",
// "central" or an index 0..maxFaceIndex.
func parseSelection(field string, raw json.RawMessage) (livenessd.FaceSelection, error) {
	var sel livenessd.FaceSelection
	if len(raw) == 0 || string(raw) == "null" {
		return sel, nil
	}
	var rule string
	if json.Unmarshal(raw, &rule) == nil {
		if rule != string(livenessd.SelectLargest) && rule != string(livenessd.SelectCentral) {
			return sel, faceSelectionError(field, raw)
		}
		sel.Rule = livenessd.SelectionRule(rule)
		return sel, nil
	}
	var idx int
	if json.Unmarshal(raw, &idx) != nil || idx < 0 || idx > maxFaceIndex {
		return sel, faceSelectionError(field, raw)
	}
	return livenessd.FaceSelection{Rule: livenessd.SelectIndex, Index: idx}, nil
}

// maxFaceIndex bounds a face index (far above any detector's output).
const maxFaceIndex = 1000

func faceSelectionError(field string, raw json.RawMessage) error {
	want := `"largest", "central" or {"source": ..., "target": ...}`
	if field != "faceSelection" {
		want = `"largest", "central" or a face index (an integer from 0)`
	}
	v := string(raw)
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return &Error{
		Err:     fmt.Errorf("%s %s: %w", field, v, livenessd.ErrInvalidRequest),
		Message: fmt.Sprintf("%s must be %s, got %s", field, want, v),
		Details: map[string]any{"field": field},
	}
}

func checkThreshold(t *float64) error {
	if t == nil {
		return nil
	}
	if math.IsNaN(*t) || *t <= 0 || *t > 100 {
		return &Error{
			Err:     fmt.Errorf("threshold %v outside (0, 100]: %w", *t, livenessd.ErrInvalidRequest),
			Message: fmt.Sprintf("threshold must be greater than 0 and at most 100, got %v", *t),
			Details: map[string]any{"field": "threshold", "exclusiveMinimum": 0, "maximum": 100},
		}
	}
	return nil
}

// documentRequest is the JSON body of POST /v1/liveness/verify-with-document.
type documentRequest struct {
	Document  *string  `json:"document"`
	Threshold *float64 `json:"threshold"`
}

func parseDocumentJSON(r io.Reader) (documentRequest, error) {
	var req documentRequest
	if err := decodeStrict(r, &req, "verify with document"); err != nil {
		return req, err
	}
	if req.Document == nil || *req.Document == "" {
		return req, &Error{
			Err:     fmt.Errorf("document missing: %w", livenessd.ErrInvalidRequest),
			Message: "document is required (base64-encoded JPEG, PNG or WebP of the ID document)",
			Details: map[string]any{"field": "document"},
		}
	}
	return req, checkThreshold(req.Threshold)
}
