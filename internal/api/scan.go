package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/document"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/mrz"
)

// DocumentScanner reads identity documents (*document.Scanner).
type DocumentScanner interface {
	Scan(ctx context.Context, imgs []image.Image) (*document.Result, error)
	Portrait(ctx context.Context, img image.Image) (*document.Portrait, error)
}

// MaxScanImages is how many images POST /v1/identity/scan takes (front
// and back).
const MaxScanImages = 2

// scanResponse is the body of POST /v1/identity/scan: the seed's
// extractedData plus quality and what each image yielded.
type scanResponse struct {
	ExtractedData extractedData `json:"extractedData"`
	Quality       scanQuality   `json:"quality"`
	Documents     []scanImage   `json:"documents"`
	Timestamp     string        `json:"timestamp"`
}

// extractedData holds what was read. A field that could not be read is
// absent and named in unreadFields with the reason.
type extractedData struct {
	Photo            string            `json:"photo,omitempty"`
	DocumentType     string            `json:"documentType,omitempty"`
	IssuingCountry   string            `json:"issuingCountry,omitempty"`
	DocumentNumber   string            `json:"documentNumber,omitempty"`
	Surname          string            `json:"surname,omitempty"`
	GivenNames       string            `json:"givenNames,omitempty"`
	Nationality      string            `json:"nationality,omitempty"`
	DateOfBirth      string            `json:"dateOfBirth,omitempty"`
	Sex              string            `json:"sex,omitempty"`
	ExpiryDate       string            `json:"expiryDate,omitempty"`
	PersonalNumber   string            `json:"personalNumber,omitempty"`
	Expired          *bool             `json:"expired,omitempty"`
	MRZ              []string          `json:"mrz,omitempty"`
	MRZFormat        string            `json:"mrzFormat,omitempty"`
	CheckDigits      map[string]bool   `json:"checkDigits,omitempty"`
	CheckDigitsValid bool              `json:"checkDigitsValid"`
	OCRCorrections   int               `json:"ocrCorrections"`
	UnreadFields     map[string]string `json:"unreadFields,omitempty"`
	// UnlistedCodes names the country fields given whose code is not on
	// ICAO 9303's list (a misread, a specimen's fictitious state, or a
	// code outside the standard): given as read, never replaced.
	UnlistedCodes []string `json:"unlistedCodes,omitempty"`
}

// scanQuality is the worst of the images' quality.
type scanQuality struct {
	Sharpness float64 `json:"sharpness"`
	Blurry    bool    `json:"blurry"`
	Glare     float64 `json:"glare"`
	HasGlare  bool    `json:"hasGlare"`
	CutOff    bool    `json:"cutOff"`
}

type scanImage struct {
	Index                int          `json:"index"`
	MRZFound             bool         `json:"mrzFound"`
	PortraitFound        bool         `json:"portraitFound"`
	Outline              [][2]float64 `json:"outline,omitempty"`
	PerspectiveCorrected bool         `json:"perspectiveCorrected"`
	Quality              scanQuality  `json:"quality"`
}

const (
	reasonNoMRZ      = "no machine-readable zone found"
	reasonCheckDigit = "check digit does not match what was read"
	reasonNoCheck    = "read with characters this field cannot hold, and no check digit covers it"
	reasonEmpty      = "empty in the machine-readable zone"
)

func (s *Server) serveIdentityScan(w http.ResponseWriter, r *http.Request) error {
	data, err := s.readScanImages(w, r)
	if err != nil {
		return err
	}
	if s.cfg.Documents == nil {
		return fmt.Errorf("document scanner not configured: %w", livenessd.ErrModels)
	}
	release, err := s.cfg.Pool.Acquire(r.Context())
	if err != nil {
		return err
	}
	defer release()
	imgs := make([]image.Image, len(data))
	for i, d := range data {
		if imgs[i], err = imageio.Decode(d, s.cfg.ImageLimits); err != nil {
			return imageError(fmt.Sprintf("documents[%d]", i), err)
		}
	}
	res, err := s.cfg.Documents.Scan(r.Context(), imgs)
	if errors.Is(err, livenessd.ErrNoDocument) {
		return &Error{
			Err:     err,
			Message: "No identity document found: no machine-readable zone and no portrait in the images",
			Details: map[string]any{"images": len(imgs)},
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.scanBody(res))
	return nil
}

// readScanImages reads the multipart field "documents" (1-2 parts).
func (s *Server) readScanImages(w http.ResponseWriter, r *http.Request) ([][]byte, error) {
	mt, _, err := mediaType(r)
	if err != nil {
		return nil, err
	}
	if mt != "multipart/form-data" {
		return nil, fmt.Errorf("Content-Type %q, want multipart/form-data: %w", r.Header.Get("Content-Type"), ErrUnsupportedMediaType)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxScanBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("multipart body: %v: %w", err, livenessd.ErrInvalidRequest)
	}
	var out [][]byte
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, multipartError(err)
		}
		if p.FormName() != "documents" {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, multipartError(err)
			}
			continue
		}
		if len(out) == MaxScanImages {
			return nil, &Error{
				Err:     fmt.Errorf("multipart: more than %d documents: %w", MaxScanImages, livenessd.ErrInvalidRequest),
				Message: fmt.Sprintf("at most %d images in field \"documents\" (front and back)", MaxScanImages),
				Details: map[string]any{"field": "documents", "max": MaxScanImages},
			}
		}
		d, err := readPart(p, s.cfg.ImageLimits.MaxBytes)
		if err != nil {
			return nil, err
		}
		if len(d) == 0 {
			return nil, &Error{
				Err:     fmt.Errorf("multipart: documents[%d] empty: %w", len(out), livenessd.ErrInvalidRequest),
				Message: fmt.Sprintf("documents[%d] is empty", len(out)),
				Details: map[string]any{"field": fmt.Sprintf("documents[%d]", len(out))},
			}
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, &Error{
			Err:     fmt.Errorf("multipart: field documents missing: %w", livenessd.ErrInvalidRequest),
			Message: "multipart field \"documents\" is required: 1 or 2 images (JPEG, PNG or WebP) of the ID document, front and back in any order",
			Details: map[string]any{"field": "documents"},
		}
	}
	return out, nil
}

func (s *Server) scanBody(res *document.Result) scanResponse {
	out := scanResponse{Timestamp: formatTime(s.now()), Documents: []scanImage{}}
	out.ExtractedData = s.extracted(res)
	out.Quality = scanQuality{Sharpness: math.Inf(1)}
	for i, pg := range res.Pages {
		q := pageQuality(pg.Quality)
		img := scanImage{Index: i, MRZFound: pg.Zone != nil, PortraitFound: pg.Portrait != nil,
			PerspectiveCorrected: pg.Quality.Rectified, Quality: q}
		if pg.Quality.Outlined {
			for _, c := range pg.Quality.Corners {
				img.Outline = append(img.Outline, [2]float64{math.Round(c.X), math.Round(c.Y)})
			}
		}
		out.Documents = append(out.Documents, img)
		out.Quality.Sharpness = math.Min(out.Quality.Sharpness, q.Sharpness)
		out.Quality.Blurry = out.Quality.Blurry || q.Blurry
		out.Quality.Glare = math.Max(out.Quality.Glare, q.Glare)
		out.Quality.HasGlare = out.Quality.HasGlare || q.HasGlare
		out.Quality.CutOff = out.Quality.CutOff || q.CutOff
	}
	if math.IsInf(out.Quality.Sharpness, 1) {
		out.Quality.Sharpness = 0
	}
	return out
}

func pageQuality(q document.Quality) scanQuality {
	return scanQuality{Sharpness: q.Sharpness, Blurry: q.Blurry, Glare: q.Glare, HasGlare: q.HasGlare, CutOff: q.CutOff}
}

// extracted turns a scan into extractedData: a field whose check digit
// fails, or that holds characters it cannot (and no check digit covers
// it), is left out with the reason.
func (s *Server) extracted(res *document.Result) extractedData {
	d := extractedData{UnreadFields: map[string]string{}}
	if res.Portrait != nil {
		d.Photo = base64.StdEncoding.EncodeToString(res.Portrait.JPEG)
	} else {
		d.UnreadFields["photo"] = "no face found on the document"
	}
	if res.Zone == nil {
		for _, f := range []string{"documentType", "issuingCountry", "documentNumber", "surname", "givenNames",
			"nationality", "dateOfBirth", "sex", "expiryDate"} {
			d.UnreadFields[f] = reasonNoMRZ
		}
		return d
	}
	m := res.Zone.MRZ
	d.MRZ = m.Lines
	d.MRZFormat = string(m.Format)
	d.CheckDigits = map[string]bool{}
	for _, c := range m.Checks {
		d.CheckDigits[c.Name] = c.Valid
	}
	d.CheckDigitsValid = m.Valid()
	d.OCRCorrections = len(m.Corrections)
	valid := func(name string) bool { c, ok := m.Check(name); return ok && c.Valid }
	set := func(field string, dst *string, v string, ok bool, reason string) {
		switch {
		case !ok:
			d.UnreadFields[field] = reason
		case v == "":
			d.UnreadFields[field] = reasonEmpty
		default:
			*dst = v
		}
	}
	set("documentType", &d.DocumentType, m.Kind(), isLetters(m.DocumentCode), reasonNoCheck)
	set("issuingCountry", &d.IssuingCountry, m.IssuingState, isLetters(m.IssuingState), reasonNoCheck)
	set("nationality", &d.Nationality, m.Nationality, isLetters(m.Nationality), reasonNoCheck)
	set("surname", &d.Surname, m.Surname, isName(m.Surname), reasonNoCheck)
	set("givenNames", &d.GivenNames, m.GivenNames, isName(m.GivenNames), reasonNoCheck)
	set("documentNumber", &d.DocumentNumber, m.DocumentNumber, valid(mrz.CheckDocumentNumber), reasonCheckDigit)
	sex := map[string]string{"M": "M", "F": "F", "<": "X"}[m.Sex]
	set("sex", &d.Sex, sex, sex != "", reasonNoCheck)
	now := s.now()
	date := func(field string, dst *string, raw string, check string, kind mrz.DateKind) *time.Time {
		if !valid(check) {
			d.UnreadFields[field] = reasonCheckDigit
			return nil
		}
		t, err := mrz.Date(raw, kind, now)
		if err != nil {
			d.UnreadFields[field] = "not a complete calendar date: " + raw
			return nil
		}
		*dst = t.Format(time.DateOnly)
		return &t
	}
	date("dateOfBirth", &d.DateOfBirth, m.DateOfBirth, mrz.CheckDateOfBirth, mrz.Birth)
	if t := date("expiryDate", &d.ExpiryDate, m.ExpiryDate, mrz.CheckExpiryDate, mrz.Expiry); t != nil {
		exp := !now.Before(t.AddDate(0, 0, 1))
		d.Expired = &exp
	}
	// The personal number: TD3's optional data (own check digit), or the
	// first optional data field of the other layouts (composite only).
	if m.OptionalData != "" {
		check := mrz.CheckComposite
		if m.Format == mrz.TD3 {
			check = mrz.CheckOptionalData
		}
		if m.Format == mrz.MRVA || m.Format == mrz.MRVB || valid(check) {
			d.PersonalNumber = m.OptionalData
		} else {
			d.UnreadFields["personalNumber"] = reasonCheckDigit
		}
	}
	for _, f := range m.UnlistedCodes() {
		field := map[string]string{"issuingState": "issuingCountry", "nationality": "nationality"}[f]
		if _, unread := d.UnreadFields[field]; !unread {
			d.UnlistedCodes = append(d.UnlistedCodes, field)
		}
	}
	if len(d.UnreadFields) == 0 {
		d.UnreadFields = nil
	}
	return d
}

func isLetters(s string) bool {
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func isName(s string) bool { return isLetters(strings.ReplaceAll(s, " ", "")) }

// documentPortrait is the portrait verify-with-document compares: the one
// POST /v1/identity/scan returns as extractedData.photo (outline and
// perspective corrected, the largest face, so not the ghost image), so
// that scanning and then calling compare-faces gives the same similarity.
// Without a scanner the whole document is compared (largest face).
func (s *Server) documentPortrait(ctx context.Context, doc image.Image) (image.Image, error) {
	if s.cfg.Documents == nil {
		return doc, nil
	}
	p, err := s.cfg.Documents.Portrait(ctx, doc)
	if errors.Is(err, livenessd.ErrNoFace) {
		return nil, &Error{Err: fmt.Errorf("%w: %w", livenessd.ErrNoSourceFace, err), Message: "No face detected in the document",
			Details: map[string]any{"image": "document"}}
	}
	if err != nil {
		return nil, err
	}
	// Compare the JPEG the scan returns, decoded, not the pre-encoding crop.
	img, err := imageio.Decode(p.JPEG, imageio.Limits{})
	if err != nil {
		return nil, fmt.Errorf("document portrait: %v: %w", err, livenessd.ErrFaceMatch)
	}
	return img, nil
}
