package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
)

// createSessionResponse is the seed's response plus the clientToken the
// browser uses for the capture.
type createSessionResponse struct {
	SessionID   string `json:"sessionId"`
	Status      string `json:"status"`
	CreatedAt   string `json:"createdAt"`
	ExpiryDate  string `json:"expiryDate"`
	ClientToken string `json:"clientToken"`
}

func (s *Server) serveCreateSession(w http.ResponseWriter, r *http.Request) error {
	tenant, _ := TenantFromContext(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, DefaultMaxSmallBody)
	// An empty body (no Content-Type) means default settings.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err, "create session")
	}
	var settings livenessd.Settings
	if len(bytes.TrimSpace(body)) > 0 || r.Header.Get("Content-Type") != "" {
		if err := requireJSON(r); err != nil {
			return err
		}
		if settings, err = parseCreateSession(bytes.NewReader(body)); err != nil {
			return err
		}
	}
	if settings.CallbackURL != "" {
		if err := s.checkCallback(settings.CallbackURL); err != nil {
			return &Error{Err: err, Message: "callbackUrl refused: " + clientMessage(classify(err), err),
				Details: map[string]any{"field": "callbackUrl"}}
		}
	}
	sess, token, err := s.cfg.Sessions.Create(r.Context(), tenant, settings)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, createSessionResponse{
		SessionID:   sess.ID,
		Status:      string(sess.Status),
		CreatedAt:   formatTime(sess.CreatedAt),
		ExpiryDate:  formatTime(sess.ExpiresAt),
		ClientToken: token,
	})
	return nil
}

// resultsResponse is the seed's results body plus details and the
// reference face's box.
type resultsResponse struct {
	SessionID            string                 `json:"sessionId"`
	Status               string                 `json:"status"`
	Confidence           float64                `json:"confidence"`
	IsLive               bool                   `json:"isLive"`
	ReferenceImage       string                 `json:"referenceImage"`
	AuditImages          []string               `json:"auditImages"`
	Timestamp            string                 `json:"timestamp"`
	Message              string                 `json:"message"`
	ReferenceBoundingBox *livenessd.BoundingBox `json:"referenceBoundingBox,omitempty"`
	Details              resultDetails          `json:"details"`
}

type resultDetails struct {
	Signals           map[string]signalJSON `json:"signals"`
	FailedSignals     []string              `json:"failedSignals,omitempty"`
	ValidationsPassed []string              `json:"validationsPassed"`
	Reason            string                `json:"reason,omitempty"`
	Threshold         float64               `json:"threshold"`
	ExpiryDate        string                `json:"expiryDate"`
}

// signalJSON is one liveness signal: its value and, for the graded ones,
// the threshold (at least, or at most when max), whether it passed and
// what a failure means (acquisition, challenge, attack).
type signalJSON struct {
	Value     float64  `json:"value"`
	Threshold *float64 `json:"threshold,omitempty"`
	Max       bool     `json:"max,omitempty"`
	Passed    *bool    `json:"passed,omitempty"`
	Kind      string   `json:"kind,omitempty"`
}

// signalsJSON merges the reported values and the graded checks.
func signalsJSON(res *livenessd.Result) map[string]signalJSON {
	out := make(map[string]signalJSON, len(res.Signals))
	for k, v := range res.Signals {
		out[k] = signalJSON{Value: v}
	}
	for _, c := range res.Checks {
		th, passed := c.Threshold, c.Passed
		s := out[c.Name]
		if _, measured := res.Signals[c.Name]; !measured {
			s.Value = c.Value
		}
		s.Threshold, s.Max, s.Passed, s.Kind = &th, c.Max, &passed, c.Kind
		out[c.Name] = s
	}
	return out
}

// session reads the tenant's session of the path, refusing sessions whose
// results were purged (expired plus retention) with ErrSessionExpired.
func (s *Server) session(r *http.Request) (*livenessd.Session, error) {
	tenant, _ := TenantFromContext(r.Context())
	id := r.PathValue("sessionId")
	sess, err := s.cfg.Sessions.Get(r.Context(), tenant, id)
	if err != nil {
		return nil, err
	}
	if sess.Status.Final() && sess.Status != livenessd.StatusExpired && s.cfg.Sessions.Purged(sess) {
		return nil, &Error{
			Err:     fmt.Errorf("session %s: results deleted after expiry: %w", id, livenessd.ErrSessionExpired),
			Message: "Liveness session expired: its results and images were deleted at " + formatTime(sess.ExpiresAt.Add(s.cfg.Sessions.Retention())),
			Details: map[string]any{"sessionId": id, "expiryDate": formatTime(sess.ExpiresAt)},
		}
	}
	return sess, nil
}

func (s *Server) serveResults(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.session(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.results(sess, true))
	return nil
}

// ResultsBody is the results body of sess without its images: what a
// webhook posts when the session reaches a final status.
func (s *Server) ResultsBody(sess *livenessd.Session) ([]byte, error) {
	return json.Marshal(s.results(sess, false))
}

func (s *Server) results(sess *livenessd.Session, withImages bool) resultsResponse {
	resp := resultsResponse{
		SessionID:   sess.ID,
		Status:      string(sess.Status),
		AuditImages: []string{},
		Timestamp:   formatTime(sess.UpdatedAt),
		Details: resultDetails{
			Signals:           map[string]signalJSON{},
			ValidationsPassed: []string{},
			Threshold:         s.cfg.LivenessThreshold,
			ExpiryDate:        formatTime(sess.ExpiresAt),
		},
	}
	switch sess.Status {
	case livenessd.StatusCreated:
		resp.Message = "Liveness check not started yet"
	case livenessd.StatusInProgress:
		resp.Message = "Liveness check in progress"
	case livenessd.StatusExpired:
		resp.Message = "Liveness session expired before the check was completed"
	}
	if res := sess.Result; res != nil {
		resp.Confidence = round2(res.Confidence)
		resp.IsLive = res.IsLive && sess.Status == livenessd.StatusSucceeded
		if len(res.ReferenceImage) > 0 {
			box := res.ReferenceBox
			resp.ReferenceBoundingBox = &box
			if withImages {
				resp.ReferenceImage = base64.StdEncoding.EncodeToString(res.ReferenceImage)
			}
		}
		for i, a := range res.AuditImages {
			if i >= sess.Settings.AuditImagesLimit || !withImages {
				break
			}
			resp.AuditImages = append(resp.AuditImages, base64.StdEncoding.EncodeToString(a.JPEG))
		}
		if !res.Timestamp.IsZero() {
			resp.Timestamp = formatTime(res.Timestamp)
		}
		resp.Details.Signals = signalsJSON(res)
		if res.Validations != nil {
			resp.Details.ValidationsPassed = res.Validations
		}
		resp.Details.FailedSignals = res.FailedSignals()
		resp.Details.Reason = reasonWithSignals(res)
		resp.Message = s.resultMessage(sess.Status, res)
	}
	return resp
}

// reasonWithSignals is the failure reason followed by the signals that
// failed, so an integrator can tell "move closer next time" from "attack".
func reasonWithSignals(res *livenessd.Result) string {
	f := res.FailedSignals()
	if res.Reason == "" || len(f) == 0 {
		return res.Reason
	}
	return res.Reason + " (failed: " + strings.Join(f, ", ") + ")"
}

func (s *Server) resultMessage(st livenessd.Status, res *livenessd.Result) string {
	if res.Message != "" {
		return res.Message
	}
	if st == livenessd.StatusSucceeded && res.IsLive {
		return fmt.Sprintf("Liveness verified with %.2f%% confidence", res.Confidence)
	}
	if res.Reason != "" {
		return "Liveness check failed: " + res.Reason
	}
	return fmt.Sprintf("Liveness confidence %.2f%% is below required threshold %.2f%%", res.Confidence, s.cfg.LivenessThreshold)
}

// liveResult returns the result of a finished, live session, or the error
// the verify endpoints answer with: not ready (409 1013), expired (400
// 1007), not live (422 1009).
func (s *Server) liveResult(sess *livenessd.Session) (*livenessd.Result, error) {
	switch sess.Status {
	case livenessd.StatusCreated, livenessd.StatusInProgress:
		return nil, &Error{
			Err:     fmt.Errorf("session %s is %s: %w", sess.ID, sess.Status, livenessd.ErrSessionNotReady),
			Message: fmt.Sprintf("Liveness session is %s: no result yet", sess.Status),
			Details: map[string]any{"sessionId": sess.ID, "status": string(sess.Status)},
		}
	case livenessd.StatusExpired:
		return nil, &Error{
			Err:     fmt.Errorf("session %s: %w", sess.ID, livenessd.ErrSessionExpired),
			Message: "Liveness session expired before the check was completed",
			Details: map[string]any{"sessionId": sess.ID, "expiryDate": formatTime(sess.ExpiresAt)},
		}
	}
	res := sess.Result
	if res == nil {
		return nil, fmt.Errorf("session %s is %s without a result", sess.ID, sess.Status)
	}
	if sess.Status != livenessd.StatusSucceeded || !res.IsLive {
		details := map[string]any{
			"confidence": round2(res.Confidence),
			"threshold":  s.cfg.LivenessThreshold,
		}
		if res.Reason != "" {
			details["reason"] = reasonWithSignals(res)
		}
		if f := res.FailedSignals(); len(f) > 0 {
			details["failedSignals"] = f
		}
		return nil, &Error{
			Err: fmt.Errorf("session %s: confidence %.2f: %w", sess.ID, res.Confidence, livenessd.ErrLowConfidence),
			Message: fmt.Sprintf("Liveness confidence %.2f%% is below required threshold %.2f%%",
				res.Confidence, s.cfg.LivenessThreshold),
			Details: details,
		}
	}
	return res, nil
}

type verifyResponse struct {
	SessionID         string   `json:"sessionId"`
	Confidence        float64  `json:"confidence"`
	IsLive            bool     `json:"isLive"`
	ValidationsPassed []string `json:"validationsPassed"`
}

func (s *Server) serveVerify(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, DefaultMaxSmallBody)
	sess, err := s.session(r)
	if err != nil {
		return err
	}
	res, err := s.liveResult(sess)
	if err != nil {
		return err
	}
	v := res.Validations
	if v == nil {
		v = []string{}
	}
	writeJSON(w, http.StatusOK, verifyResponse{
		SessionID:         sess.ID,
		Confidence:        round2(res.Confidence),
		IsLive:            true,
		ValidationsPassed: v,
	})
	return nil
}

type faceMatch struct {
	IsMatch    bool    `json:"isMatch"`
	Similarity float64 `json:"similarity"`
	Confidence float64 `json:"confidence"`
}

type verifyDocumentResponse struct {
	SessionID          string    `json:"sessionId"`
	LivenessVerified   bool      `json:"livenessVerified"`
	LivenessConfidence float64   `json:"livenessConfidence"`
	FaceMatch          faceMatch `json:"faceMatch"`
	OverallSuccess     bool      `json:"overallSuccess"`
}

func (s *Server) serveVerifyWithDocument(w http.ResponseWriter, r *http.Request) error {
	// Read the document first (bounded), so the body is consumed even when
	// the session check fails.
	doc, threshold, err := s.readDocument(w, r)
	if err != nil {
		return err
	}
	sess, err := s.session(r)
	if err != nil {
		return err
	}
	res, err := s.liveResult(sess)
	if err != nil {
		return err
	}
	if len(res.ReferenceImage) == 0 {
		return &Error{
			Err:     fmt.Errorf("session %s: no reference image: %w", sess.ID, livenessd.ErrSessionExpired),
			Message: "Liveness session has no reference image (deleted after expiry)",
		}
	}
	release, err := s.cfg.Pool.Acquire(r.Context())
	if err != nil {
		return err
	}
	defer release()
	// With a document scanner the document is decoded as the scan decodes
	// it (full size), so the portrait is the scan's to the pixel.
	decode := func(d []byte, l imageio.Limits) (*image.NRGBA, error) {
		return imageio.DecodeReduced(d, l, s.cfg.FaceImageSide)
	}
	if s.cfg.Documents != nil {
		decode = imageio.Decode
	}
	docImg, err := decode(doc, s.cfg.ImageLimits)
	if err != nil {
		return imageError("document", err)
	}
	ref, err := imageio.Decode(res.ReferenceImage, imageio.Limits{})
	if err != nil {
		return fmt.Errorf("session %s: stored reference image: %v: %w", sess.ID, err, livenessd.ErrFaceMatch)
	}
	source, err := s.documentPortrait(r.Context(), docImg)
	if err != nil {
		return err
	}
	cmp, err := s.compare(r, source, ref, livenessd.CompareOptions{Threshold: threshold}, "document", "session reference image")
	if err != nil {
		return err
	}
	if !cmp.IsMatch {
		return &Error{
			Err: fmt.Errorf("session %s: similarity %.2f below %.2f: %w", sess.ID, cmp.Similarity, cmp.Threshold, livenessd.ErrLowSimilarity),
			Message: fmt.Sprintf("Face similarity %.2f%% is below required threshold %.2f%%",
				cmp.Similarity, cmp.Threshold),
			Details: map[string]any{
				"similarity":         round2(cmp.Similarity),
				"threshold":          cmp.Threshold,
				"livenessVerified":   true,
				"livenessConfidence": round2(res.Confidence),
			},
		}
	}
	writeJSON(w, http.StatusOK, verifyDocumentResponse{
		SessionID:          sess.ID,
		LivenessVerified:   true,
		LivenessConfidence: round2(res.Confidence),
		FaceMatch: faceMatch{
			IsMatch:    true,
			Similarity: round2(cmp.Similarity),
			Confidence: round2(cmp.Confidence),
		},
		OverallSuccess: true,
	})
	return nil
}

// readDocument reads the ID document of verify-with-document: multipart
// field "document" (and optional field "threshold"), or JSON
// {"document": base64, "threshold": n}.
func (s *Server) readDocument(w http.ResponseWriter, r *http.Request) ([]byte, float64, error) {
	threshold := s.cfg.SimilarityThreshold
	mt, _, err := mediaType(r)
	if err != nil {
		return nil, 0, err
	}
	switch mt {
	case "application/json":
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxJSONBody)
		req, err := parseDocumentJSON(r.Body)
		if err != nil {
			return nil, 0, err
		}
		if req.Threshold != nil {
			threshold = *req.Threshold
		}
		data, err := imageio.Base64Bytes(*req.Document, s.cfg.ImageLimits.MaxBytes)
		if err != nil {
			return nil, 0, imageError("document", err)
		}
		return data, threshold, nil
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxMultipartBody)
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, 0, fmt.Errorf("multipart body: %v: %w", err, livenessd.ErrInvalidRequest)
		}
		var doc []byte
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, 0, multipartError(err)
			}
			switch p.FormName() {
			case "document":
				if doc != nil {
					return nil, 0, fmt.Errorf("multipart: field document given twice: %w", livenessd.ErrInvalidRequest)
				}
				doc, err = readPart(p, s.cfg.ImageLimits.MaxBytes)
				if err != nil {
					return nil, 0, err
				}
			case "threshold":
				v, err := readPart(p, 64)
				if err != nil {
					return nil, 0, err
				}
				t, perr := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
				if perr != nil {
					return nil, 0, fmt.Errorf("multipart: threshold %q is not a number: %w", v, livenessd.ErrInvalidRequest)
				}
				if err := checkThreshold(&t); err != nil {
					return nil, 0, err
				}
				threshold = t
			default:
				if _, err := io.Copy(io.Discard, p); err != nil {
					return nil, 0, multipartError(err)
				}
			}
		}
		if len(doc) == 0 {
			return nil, 0, &Error{
				Err:     fmt.Errorf("multipart: field document missing or empty: %w", livenessd.ErrInvalidRequest),
				Message: "multipart field \"document\" is required (JPEG, PNG or WebP of the ID document)",
				Details: map[string]any{"field": "document"},
			}
		}
		return doc, threshold, nil
	}
	return nil, 0, fmt.Errorf("Content-Type %q, want multipart/form-data or application/json: %w",
		r.Header.Get("Content-Type"), ErrUnsupportedMediaType)
}

// readPart reads at most max bytes of a part; a longer part is an image too
// large (when max is an image limit) or a bad field.
func readPart(p *multipart.Part, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(p, max+1))
	if err != nil {
		return nil, multipartError(err)
	}
	if int64(len(data)) > max {
		if f := p.FormName(); f == "document" || f == "documents" {
			return nil, &Error{
				Err:     fmt.Errorf("%s: over %d bytes: %w", f, max, livenessd.ErrImageTooLarge),
				Message: fmt.Sprintf("%s: image larger than the %d-byte limit", f, max),
				Details: map[string]any{"field": f, "limit": max},
			}
		}
		return nil, fmt.Errorf("multipart: field %s too long: %w", p.FormName(), livenessd.ErrInvalidRequest)
	}
	return data, nil
}

func multipartError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return bodyError(err, "multipart body")
	}
	return fmt.Errorf("multipart body: %v: %w", err, livenessd.ErrInvalidRequest)
}

// imageError names the field of an image error and keeps its kind.
func imageError(field string, err error) error {
	return &Error{
		Err:     fmt.Errorf("%s: %w", field, err),
		Message: field + ": " + strings.ReplaceAll(clientMessage(classify(err), err), "imageio: ", ""),
		Details: map[string]any{"field": field},
	}
}

// compare runs the comparer and classifies its errors: no face in either
// image keeps its own code; anything unclassified is a face matching
// failure (500 1010).
func (s *Server) compare(r *http.Request, source, target image.Image, opt livenessd.CompareOptions, sourceName, targetName string) (*FaceComparison, error) {
	if s.cfg.Faces == nil {
		return nil, fmt.Errorf("face comparer not configured: %w", livenessd.ErrModels)
	}
	cmp, err := s.cfg.Faces.CompareFaces(r.Context(), source, target, opt)
	switch {
	case err == nil:
		return cmp, nil
	case errors.Is(err, livenessd.ErrNoSourceFace):
		return nil, &Error{Err: err, Message: "No face detected in the " + sourceName, Details: map[string]any{"image": sourceName}}
	case errors.Is(err, livenessd.ErrNoTargetFace):
		return nil, &Error{Err: err, Message: "No face detected in the " + targetName, Details: map[string]any{"image": targetName}}
	case errors.Is(err, livenessd.ErrInvalidRequest):
		// A face index beyond the faces found.
		return nil, &Error{Err: err, Details: map[string]any{"field": "faceSelection"}}
	case classify(err) == internalKind:
		return nil, fmt.Errorf("compare faces: %v: %w", err, livenessd.ErrFaceMatch)
	}
	return nil, err
}

// compareResponse is the seed's compare-faces body plus face details.
type compareResponse struct {
	Similarity      float64    `json:"similarity"`
	IsMatch         bool       `json:"isMatch"`
	Confidence      float64    `json:"confidence"`
	Threshold       float64    `json:"threshold"`
	SourceFace      FaceDetail `json:"sourceFace"`
	TargetFace      FaceDetail `json:"targetFace"`
	SourceFaceCount int        `json:"sourceFaceCount"`
	TargetFaceCount int        `json:"targetFaceCount"`
	SourceFaces     []FaceBox  `json:"sourceFaces"`
	TargetFaces     []FaceBox  `json:"targetFaces"`
	SourceFaceIndex int        `json:"sourceFaceIndex"`
	TargetFaceIndex int        `json:"targetFaceIndex"`
}

func (s *Server) serveCompareFaces(w http.ResponseWriter, r *http.Request) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxJSONBody)
	req, err := parseCompare(r.Body)
	if err != nil {
		return err
	}
	opt := livenessd.CompareOptions{Threshold: s.cfg.SimilarityThreshold, Source: req.sourceSel, Target: req.targetSel}
	if req.Threshold != nil {
		opt.Threshold = *req.Threshold
	}
	release, err := s.cfg.Pool.Acquire(r.Context())
	if err != nil {
		return err
	}
	defer release()
	src, err := imageio.DecodeBase64Reduced(*req.SourceImage, s.cfg.ImageLimits, s.cfg.FaceImageSide)
	if err != nil {
		return imageError("sourceImage", err)
	}
	*req.SourceImage = "" // let the collector have the base64 text
	tgt, err := imageio.DecodeBase64Reduced(*req.TargetImage, s.cfg.ImageLimits, s.cfg.FaceImageSide)
	if err != nil {
		return imageError("targetImage", err)
	}
	*req.TargetImage = ""
	cmp, err := s.compare(r, src, tgt, opt, "source image", "target image")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, compareResponse{
		Similarity:      round2(cmp.Similarity),
		IsMatch:         cmp.IsMatch,
		Confidence:      round2(cmp.Confidence),
		Threshold:       cmp.Threshold,
		SourceFace:      cmp.Source,
		TargetFace:      cmp.Target,
		SourceFaceCount: cmp.SourceFaceCount,
		TargetFaceCount: cmp.TargetFaceCount,
		SourceFaces:     cmp.SourceFaces,
		TargetFaces:     cmp.TargetFaces,
		SourceFaceIndex: cmp.SourceIndex,
		TargetFaceIndex: cmp.TargetIndex,
	})
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }
