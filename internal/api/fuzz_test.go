package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/session"
)

// clientError reports whether err maps to a 4xx of the error table: a
// parser of outside bytes must never produce a 500.
func clientError(err error) bool {
	k := classify(err)
	return k.status >= 400 && k.status < 500
}

func FuzzCreateSessionRequest(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"settings":{"auditImagesLimit":4}}`, `{"settings":{"auditImagesLimit":0}}`,
		`{"settings":{"auditImagesLimit":5}}`, `{"settings":null}`, `{"settings":{"auditImagesLimit":1e309}}`,
		`{"settings":{"auditImagesLimit":"4"}}`, `{"settings":`, `[]`, `null`, `{"x":1}`, `{} {}`, "",
		"{\"settings\":{\"auditImagesLimit\":-9223372036854775808}}",
		`{"externalUserId":"customer-8812","callbackUrl":"https://hooks.example/x"}`, `{"externalUserId":""}`,
		`{"externalUserId":"a\u0000b"}`, `{"callbackUrl":""}`, `{"externalUserId":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseCreateSession(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, livenessd.ErrInvalidRequest) || !clientError(err) {
				t.Fatalf("error %v is not an invalid request", err)
			}
			return
		}
		if st.AuditImagesLimit < 0 || st.AuditImagesLimit > session.MaxAuditImages {
			t.Fatalf("accepted auditImagesLimit %d", st.AuditImagesLimit)
		}
		if len(st.ExternalUserID) > MaxExternalUserID || strings.ContainsFunc(st.ExternalUserID, unicode.IsControl) {
			t.Fatalf("accepted externalUserId %q", st.ExternalUserID)
		}
	})
}

func FuzzCompareRequest(f *testing.F) {
	for _, s := range []string{
		`{"sourceImage":"AAAA","targetImage":"BBBB"}`,
		`{"sourceImage":"data:image/jpeg;base64,/9j/4AAQ","targetImage":"iVBORw0KGgo=","threshold":90}`,
		`{"sourceImage":"a","targetImage":"b","threshold":0}`, `{"sourceImage":"a","targetImage":"b","threshold":100.5}`,
		`{"sourceImage":"a"}`, `{"sourceImage":1,"targetImage":2}`, `{"sourceImage":"\u0000","targetImage":"\ud800"}`,
		`{"sourceImage":"a","targetImage":"b","threshold":"90"}`, `{"sourceImage":"a","targetImage":"b","extra":true}`, `{`, "",
		`{"sourceImage":"a","targetImage":"b","faceSelection":"central"}`,
		`{"sourceImage":"a","targetImage":"b","faceSelection":{"source":2,"target":"largest"}}`,
		`{"sourceImage":"a","targetImage":"b","faceSelection":{"source":-1}}`, `{"sourceImage":"a","targetImage":"b","faceSelection":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseCompare(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, livenessd.ErrInvalidRequest) || !clientError(err) {
				t.Fatalf("error %v is not an invalid request", err)
			}
			return
		}
		if req.SourceImage == nil || *req.SourceImage == "" || req.TargetImage == nil || *req.TargetImage == "" {
			t.Fatal("accepted a request without both images")
		}
		if req.Threshold != nil && !(*req.Threshold > 0 && *req.Threshold <= 100) {
			t.Fatalf("accepted threshold %v", *req.Threshold)
		}
		for _, sel := range []livenessd.FaceSelection{req.sourceSel, req.targetSel} {
			switch sel.Rule {
			case "", livenessd.SelectLargest, livenessd.SelectCentral:
				if sel.Index != 0 {
					t.Fatalf("selection %+v carries an index", sel)
				}
			case livenessd.SelectIndex:
				if sel.Index < 0 || sel.Index > maxFaceIndex {
					t.Fatalf("accepted face index %d", sel.Index)
				}
			default:
				t.Fatalf("accepted selection rule %q", sel.Rule)
			}
		}
	})
}

func FuzzDocumentRequest(f *testing.F) {
	for _, s := range []string{`{"document":"AAAA"}`, `{"document":"AAAA","threshold":80}`, `{"document":""}`, `{}`, `{"document":null}`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseDocumentJSON(bytes.NewReader(b))
		if err != nil {
			if !clientError(err) {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if req.Document == nil || *req.Document == "" {
			t.Fatal("accepted a request without a document")
		}
	})
}

// FuzzScanRequest: any multipart body either yields 1-2 non-empty images
// within the image limit or a client error.
func FuzzScanRequest(f *testing.F) {
	const boundary = "XyZ"
	part := func(name, body string) string {
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"a.jpg\"\r\n\r\n" + body + "\r\n"
	}
	end := "--" + boundary + "--\r\n"
	for _, s := range []string{
		part("documents", "\xff\xd8\xff") + end,
		part("documents", "a") + part("documents", "b") + end,
		part("documents", "a") + part("documents", "b") + part("documents", "c") + end,
		part("documents", "") + end, part("other", "x") + end, end, "", "--XyZ\r\n", part("documents", strings.Repeat("z", 300)) + end,
	} {
		f.Add([]byte(s))
	}
	srv := &Server{cfg: Config{MaxScanBody: 1 << 12, ImageLimits: imageio.Limits{MaxBytes: 256}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/identity/scan", bytes.NewReader(b))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		imgs, err := srv.readScanImages(httptest.NewRecorder(), r)
		if err != nil {
			if !clientError(err) {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(imgs) < 1 || len(imgs) > MaxScanImages {
			t.Fatalf("%d images accepted", len(imgs))
		}
		for _, im := range imgs {
			if len(im) == 0 || len(im) > 256 {
				t.Fatalf("image of %d bytes accepted", len(im))
			}
		}
	})
}

// TestBodyErrorKinds: a body over its MaxBytesReader limit is 413, never
// a malformed-JSON 400.
func TestBodyErrorKinds(t *testing.T) {
	err := bodyError(&http.MaxBytesError{Limit: 10}, "x")
	if k := classify(err); k.status != http.StatusRequestEntityTooLarge || k.code != CodeBodyTooLarge {
		t.Fatalf("MaxBytesError -> %d %d", k.status, k.code)
	}
}

// TestErrorTable: every row has a distinct kind, a 4xx/5xx status and a
// message; codes are shared only by rows with the same status.
func TestErrorTable(t *testing.T) {
	status := map[int]int{}
	for _, k := range errorTable {
		if k.err == nil || k.status < 400 || k.message == "" {
			t.Errorf("bad row %+v", k)
		}
		if s, ok := status[k.code]; ok && s != k.status {
			t.Errorf("code %d used with statuses %d and %d", k.code, s, k.status)
		}
		status[k.code] = k.status
	}
}
