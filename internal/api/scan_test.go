package api_test

import (
	"bytes"
	"encoding/base64"
	"image/jpeg"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/testutil"
)

const scanPath = "/v1/identity/scan"

// scanBody builds a multipart body with one "documents" part per image.
func scanBody(t *testing.T, field string, imgs ...[]byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i, img := range imgs {
		w, err := mw.CreateFormFile(field, "side"+string(rune('a'+i))+".jpg")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(img)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func specimen(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t, "id-documents"), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The seed's workflow: scan an ICAO specimen passport, get its fields and
// a portrait that compare-faces accepts.
func TestIdentityScan_ICAOSpecimen(t *testing.T) {
	ts := newServer(t, serverOpts{})
	doc := specimen(t, "passporteye-specimens/tests_passport-td3.jpg")
	body, ct := scanBody(t, "documents", doc)
	r := ts.do(t, "POST", scanPath, keyA, ct, body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	d := m["extractedData"].(map[string]any)
	want := map[string]any{
		"documentType": "passport", "issuingCountry": "UTO", "documentNumber": "L898902C3", "surname": "ERIKSSON",
		"givenNames": "ANNA MARIA", "dateOfBirth": "1974-08-12", "sex": "F", "expiryDate": "2012-04-15",
		"personalNumber": "ZE184226B", "expired": true, "checkDigitsValid": true, "mrzFormat": "TD3",
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("extractedData.%s = %v, want %v", k, d[k], v)
		}
	}
	if mrzLines, _ := d["mrz"].([]any); len(mrzLines) != 2 || mrzLines[0] != "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" {
		t.Errorf("mrz %v", d["mrz"])
	}
	// The nationality has no check digit: the recogniser's usual confusion
	// ("UT0") is decided by the letters-only alphabet ICAO 9303 fixes
	// there. UTO, 9303's fictitious state, is not on its list of codes:
	// given as read and flagged.
	if d["nationality"] != "UTO" {
		t.Errorf("nationality %v (unread: %v)", d["nationality"], d["unreadFields"])
	}
	if u, _ := d["unlistedCodes"].([]any); len(u) != 2 || u[0] != "issuingCountry" || u[1] != "nationality" {
		t.Errorf("unlistedCodes %v, want [issuingCountry nationality]", d["unlistedCodes"])
	}
	photo, err := base64.StdEncoding.DecodeString(d["photo"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jpeg.Decode(bytes.NewReader(photo)); err != nil {
		t.Fatalf("photo: %v", err)
	}
	// The portrait is a face compare-faces finds, matching the document.
	c := ts.postJSON(t, "/v1/liveness/compare-faces", keyA, map[string]any{"sourceImage": d["photo"], "targetImage": b64(doc)})
	if cm := c.json(t); c.status != 200 || cm["isMatch"] != true {
		t.Fatalf("compare photo with document: %d %s", c.status, c.body)
	}
	q := m["quality"].(map[string]any)
	if q["cutOff"] != false || q["blurry"] != false {
		t.Errorf("quality %v", q)
	}
	if docs := m["documents"].([]any); len(docs) != 1 || docs[0].(map[string]any)["mrzFound"] != true {
		t.Errorf("documents %v", m["documents"])
	}
}

// Front and back in any order: the MRZ comes from the back (a TD1 card),
// the portrait from the front.
func TestIdentityScan_FrontAndBack(t *testing.T) {
	ts := newServer(t, serverOpts{})
	front := specimen(t, "midv500-sample/CA43_01.jpg")
	back := specimen(t, "passporteye-specimens/53_id-d.jpg")
	for _, order := range [][][]byte{{front, back}, {back, front}} {
		body, ct := scanBody(t, "documents", order...)
		r := ts.do(t, "POST", scanPath, keyA, ct, body)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		d := m["extractedData"].(map[string]any)
		if d["mrzFormat"] != "TD1" || d["surname"] != "MUSTERMANN" || d["photo"] == nil {
			t.Errorf("extractedData %v", d)
		}
		if docs := m["documents"].([]any); len(docs) != 2 {
			t.Errorf("documents %v", docs)
		}
	}
}

// verify-with-document compares the same portrait the scan returns: its
// similarity equals compare-faces of extractedData.photo with the
// session's reference image.
func TestIdentityScan_SamePortraitAsVerifyWithDocument(t *testing.T) {
	ts := newServer(t, serverOpts{})
	doc := specimen(t, "idenfy-dummy-docs/BasanavicieneBirute.jpg")
	selfie := specimen(t, "idenfy-dummy-docs/BasanavicieneBiruteFace.jpg")
	id, token := ts.createSession(t, keyA, 0)
	ts.finish(t, id, token, liveResult(selfie, 0))

	body, ct := scanBody(t, "documents", doc)
	r := ts.do(t, "POST", scanPath, keyA, ct, body)
	if r.status != 200 {
		t.Fatalf("scan: %d %s", r.status, r.body)
	}
	photo := r.json(t)["extractedData"].(map[string]any)["photo"]
	c := ts.postJSON(t, "/v1/liveness/compare-faces", keyA, map[string]any{"sourceImage": photo, "targetImage": b64(selfie), "threshold": 1})
	if c.status != 200 {
		t.Fatalf("compare: %d %s", c.status, c.body)
	}
	v := ts.postJSON(t, "/v1/liveness/verify-with-document/"+id, keyA, map[string]any{"document": b64(doc), "threshold": 1})
	if v.status != 200 {
		t.Fatalf("verify: %d %s", v.status, v.body)
	}
	got := v.json(t)["faceMatch"].(map[string]any)["similarity"]
	if want := c.json(t)["similarity"]; got != want {
		t.Errorf("verify-with-document similarity %v, compare-faces on the scanned photo %v", got, want)
	}
}

func TestIdentityScan_Errors(t *testing.T) {
	ts := newServer(t, serverOpts{})
	f := sampleCrops(t)
	blank := noFaceImage(t)
	for _, tc := range []struct {
		name         string
		key, ct      string
		body         []byte
		status, code int
		field        string
	}{
		{name: "NoKey", key: "", status: 401, code: api.CodeUnauthorized},
		{name: "JSON", key: keyA, ct: "application/json", body: []byte(`{"documents":[]}`), status: 415, code: api.CodeUnsupportedMedia},
		{name: "NoContentType", key: keyA, body: []byte("x"), status: 415, code: api.CodeUnsupportedMedia},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, "POST", scanPath, tc.key, tc.ct, tc.body), tc.status, tc.code)
		})
	}
	for _, tc := range []struct {
		name         string
		field        string
		imgs         [][]byte
		status, code int
		detail       string
	}{
		{"NoDocuments", "document", [][]byte{f.photo}, 400, api.CodeInvalidRequest, "documents"},
		{"ThreeDocuments", "documents", [][]byte{f.photo, f.photo, f.photo}, 400, api.CodeInvalidRequest, "documents"},
		{"EmptyPart", "documents", [][]byte{{}}, 400, api.CodeInvalidRequest, "documents[0]"},
		{"Corrupt", "documents", [][]byte{f.photo, append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x42}, 500)...)}, 400, api.CodeInvalidImage, "documents[1]"},
		{"Text", "documents", [][]byte{[]byte("not an image at all, just text")}, 400, api.CodeUnsupportedImage, "documents[0]"},
		{"NoDocumentInImage", "documents", [][]byte{blank}, 422, api.CodeNoDocument, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := scanBody(t, tc.field, tc.imgs...)
			e := wantError(t, ts.do(t, "POST", scanPath, keyA, ct, body), tc.status, tc.code)
			if tc.detail != "" {
				if d := e["details"].(map[string]any); d["field"] != tc.detail {
					t.Errorf("details %v, want field %s", d, tc.detail)
				}
			}
		})
	}
	t.Run("TooLarge", func(t *testing.T) {
		big := bytes.Repeat([]byte{0xff}, 40<<20)
		body, ct := scanBody(t, "documents", big)
		r := ts.do(t, "POST", scanPath, keyA, ct, body)
		if r.status != 413 || !strings.Contains(string(r.body), "errorCode") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// Without a scanner the endpoint is unavailable (503), not a 500.
func TestIdentityScan_NoScanner(t *testing.T) {
	ts := newServer(t, serverOpts{noDocuments: true})
	body, ct := scanBody(t, "documents", noFaceImage(t))
	wantError(t, ts.do(t, "POST", scanPath, keyA, ct, body), 503, api.CodeServiceUnavailable)
}
