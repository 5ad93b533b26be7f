package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"mime/multipart"
	"reflect"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/imageio"
)

const comparePath = "/v1/liveness/compare-faces"

// TestCompareFaces runs the endpoint on real photos through the real face
// pipeline.
func TestCompareFaces(t *testing.T) {
	ts := newServer(t, serverOpts{})
	f := sampleCrops(t)

	t.Run("SamePersonRecropped", func(t *testing.T) {
		r := ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.photo), "targetImage": b64(f.faceA)})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		for _, k := range []string{"similarity", "isMatch", "confidence", "threshold", "sourceFace", "targetFace", "sourceFaceCount", "targetFaceCount"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("response lacks %q: %s", k, r.body)
			}
		}
		if m["isMatch"] != true || m["similarity"].(float64) < 90 || m["threshold"] != 90.0 {
			t.Fatalf("same face re-cropped: %s", r.body)
		}
		if n := m["sourceFaceCount"].(float64); n < 2 {
			t.Fatalf("group photo: sourceFaceCount=%v", n)
		}
		sf := m["sourceFace"].(map[string]any)
		bb := sf["boundingBox"].(map[string]any)
		for _, k := range []string{"width", "height", "left", "top"} {
			if v := bb[k].(float64); v < -0.1 || v > 1.1 {
				t.Fatalf("boundingBox.%s=%v is not a ratio", k, v)
			}
		}
		q := sf["quality"].(map[string]any)
		if q["brightness"].(float64) <= 0 || q["brightness"].(float64) > 100 || q["sharpness"].(float64) <= 0 || q["sharpness"].(float64) > 100 {
			t.Fatalf("quality %v: want measured values in (0, 100]", q)
		}
		if _, ok := sf["pose"].(map[string]any)["yaw"]; !ok {
			t.Fatalf("pose %v", sf["pose"])
		}
	})
	t.Run("DifferentPeople", func(t *testing.T) {
		r := ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(f.faceB)})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if m := r.json(t); m["isMatch"] != false || m["similarity"].(float64) >= 90 {
			t.Fatalf("different people: %s", r.body)
		}
	})
	t.Run("ThresholdAndDataURL", func(t *testing.T) {
		r := ts.postJSON(t, comparePath, keyA, map[string]any{
			"sourceImage": "data:image/jpeg;base64," + b64(f.faceA), "targetImage": b64(f.faceB), "threshold": 1.0,
		})
		if m := r.json(t); r.status != 200 || m["threshold"] != 1.0 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	t.Run("FaceSelection", func(t *testing.T) {
		// The group photo's second face is faceB's person: by default the
		// largest face (another person) is compared; index 1 picks faceB's.
		def := ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.photo), "targetImage": b64(f.faceB)}).json(t)
		if def["isMatch"] != false || def["sourceFaceIndex"] != 0.0 {
			t.Fatalf("default selection: %v", def)
		}
		r := ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.photo), "targetImage": b64(f.faceB),
			"faceSelection": map[string]any{"source": 1, "target": "largest"}})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["isMatch"] != true || m["sourceFaceIndex"] != 1.0 || m["targetFaceIndex"] != 0.0 {
			t.Fatalf("index 1: %s", r.body)
		}
		list := m["sourceFaces"].([]any)
		if len(list) != int(m["sourceFaceCount"].(float64)) || len(list) < 2 {
			t.Fatalf("sourceFaces %v for sourceFaceCount %v", list, m["sourceFaceCount"])
		}
		chosen := m["sourceFace"].(map[string]any)["boundingBox"]
		if listed := list[1].(map[string]any)["boundingBox"]; !reflect.DeepEqual(chosen, listed) {
			t.Fatalf("compared box %v is not sourceFaces[1] %v", chosen, listed)
		}
		area := func(v any) float64 {
			b := v.(map[string]any)["boundingBox"].(map[string]any)
			return b["width"].(float64) * b["height"].(float64)
		}
		for i := 1; i < len(list); i++ {
			if area(list[i]) > area(list[i-1]) {
				t.Fatalf("sourceFaces not largest first: %v", list)
			}
		}

		c := ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.photo), "targetImage": b64(f.faceB), "faceSelection": "central"}).json(t)
		dist := func(v any) float64 {
			b := v.(map[string]any)["boundingBox"].(map[string]any)
			dx, dy := b["left"].(float64)+b["width"].(float64)/2-0.5, b["top"].(float64)+b["height"].(float64)/2-0.5
			return dx*dx + dy*dy // the sample photo is close to square enough for ratios
		}
		cl := c["sourceFaces"].([]any)
		ci := int(c["sourceFaceIndex"].(float64))
		for i := range cl {
			if dist(cl[i]) < dist(cl[ci])-1e-3 {
				t.Fatalf("central picked face %d, but face %d is nearer the centre: %v", ci, i, cl)
			}
		}
	})
	t.Run("FaceIndexBeyondFaces", func(t *testing.T) {
		m := wantError(t, ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(f.faceB),
			"faceSelection": map[string]any{"target": 7}}), 400, api.CodeInvalidRequest)
		if msg := m["message"].(string); !strings.Contains(msg, "face index 7") || m["details"].(map[string]any)["field"] != "faceSelection" {
			t.Fatalf("error %v should name the index and the field", m)
		}
	})

	noFace := noFaceImage(t)
	corrupt := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x42}, 2000)...)
	small := pngImage(t, 50, 50, func(x, y int) color.Color { return color.Gray{uint8(x * 5)} })
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 100, 100), []color.Color{color.Black}), nil); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 15_000_001)
	copy(big, f.photo)
	rand.Read(big[len(f.photo):])

	for _, tc := range []struct {
		name         string
		body         map[string]any
		status, code int
	}{
		{"NoFaceSource", map[string]any{"sourceImage": b64(noFace), "targetImage": b64(f.faceA)}, 422, api.CodeNoSourceFace},
		{"NoFaceTarget", map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(noFace)}, 422, api.CodeNoTargetFace},
		{"CorruptSource", map[string]any{"sourceImage": b64(corrupt), "targetImage": b64(f.faceA)}, 400, api.CodeInvalidImage},
		{"NotBase64", map[string]any{"sourceImage": b64(f.faceA), "targetImage": "%%%not base64%%%"}, 400, api.CodeInvalidImage},
		{"GIF", map[string]any{"sourceImage": b64(gifBuf.Bytes()), "targetImage": b64(f.faceA)}, 400, api.CodeUnsupportedImage},
		{"TooSmall", map[string]any{"sourceImage": b64(small), "targetImage": b64(f.faceA)}, 400, api.CodeImageTooSmall},
		{"MissingTarget", map[string]any{"sourceImage": b64(f.faceA)}, 400, api.CodeInvalidRequest},
		{"ThresholdOutOfRange", map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(f.faceB), "threshold": 150}, 400, api.CodeInvalidRequest},
		{"ThresholdZero", map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(f.faceB), "threshold": 0}, 400, api.CodeInvalidRequest},
		{"FaceSelectionUnknown", map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(f.faceB), "faceSelection": "smallest"}, 400, api.CodeInvalidRequest},
		{"FaceSelectionNegative", map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(f.faceB), "faceSelection": map[string]any{"source": -1}}, 400, api.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := wantError(t, ts.postJSON(t, comparePath, keyA, tc.body), tc.status, tc.code)
			if tc.status >= 500 {
				t.Fatalf("client mistake answered with %v", tc.status)
			}
			_ = m
		})
	}
	t.Run("TooLargeMessageNamesLimit", func(t *testing.T) {
		// Built by hand: json.Marshal of 20 MB is slow under -race.
		body := `{"sourceImage":"` + b64(big) + `","targetImage":"` + b64(f.faceA) + `"}`
		m := wantError(t, ts.do(t, "POST", comparePath, keyA, "application/json", []byte(body)), 413, api.CodeImageTooLarge)
		if msg := m["message"].(string); !strings.Contains(msg, "sourceImage") || !strings.Contains(msg, "15") {
			t.Fatalf("message %q should name the field and the limit", msg)
		}
	})
	t.Run("TargetTooLarge", func(t *testing.T) {
		// Same check with a 1 MB limit, to keep the test fast under -race.
		small := newServer(t, serverOpts{mod: func(c *api.Config) {
			c.ImageLimits = imageio.DefaultLimits()
			c.ImageLimits.MaxBytes = 1_000_000
		}})
		m := wantError(t, small.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(big[:1_000_001])}), 413, api.CodeImageTooLarge)
		if m["details"].(map[string]any)["field"] != "targetImage" {
			t.Fatalf("details %v", m["details"])
		}
	})
	t.Run("WrongContentType", func(t *testing.T) {
		wantError(t, ts.do(t, "POST", comparePath, keyA, "text/plain", []byte(`{}`)), 415, api.CodeUnsupportedMedia)
	})
	t.Run("MalformedJSON", func(t *testing.T) {
		wantError(t, ts.do(t, "POST", comparePath, keyA, "application/json", []byte(`{"sourceImage": "abc`)), 400, api.CodeInvalidRequest)
	})
	t.Run("Overloaded", func(t *testing.T) {
		var releases []func()
		for range ts.pool.Size() {
			rel, err := ts.pool.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			releases = append(releases, rel)
		}
		r := ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(f.faceA), "targetImage": b64(f.faceB)})
		for _, rel := range releases {
			rel()
		}
		wantError(t, r, 503, api.CodeServiceUnavailable)
		if r.header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	})
}

func TestCompareFaces_BodyTooLarge(t *testing.T) {
	ts := newServer(t, serverOpts{noFaces: true, mod: func(c *api.Config) { c.MaxJSONBody = 1 << 20 }})
	body := `{"sourceImage":"` + strings.Repeat("A", 2<<20) + `","targetImage":"AAAA"}`
	wantError(t, ts.do(t, "POST", comparePath, keyA, "application/json", []byte(body)), 413, api.CodeBodyTooLarge)
	// Without a comparer the endpoint sheds with 5001, never a 500.
	wantError(t, ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": b64(noFaceImage(t)), "targetImage": b64(noFaceImage(t))}), 503, api.CodeServiceUnavailable)
}

// failingComparer returns a fixed error: only for the error mapping of
// comparer failures, never for match results.
type failingComparer struct{ err error }

func (f failingComparer) CompareFaces(context.Context, image.Image, image.Image, livenessd.CompareOptions) (*api.FaceComparison, error) {
	return nil, f.err
}

func TestCompareFaces_ErrorMapping(t *testing.T) {
	img := b64(noFaceImage(t))
	for _, tc := range []struct {
		name         string
		err          error
		status, code int
	}{
		{"Inference", errors.New("onnxruntime: bad alloc"), 500, api.CodeFaceMatchFailed},
		{"Models", livenessd.ErrModels, 503, api.CodeServiceUnavailable},
		{"Multiple", livenessd.ErrMultipleFaces, 422, api.CodeMultipleFaces},
		{"NoFace", livenessd.ErrNoFace, 422, api.CodeNoFace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newServer(t, serverOpts{faces: failingComparer{tc.err}})
			r := ts.postJSON(t, comparePath, keyA, map[string]any{"sourceImage": img, "targetImage": img})
			m := wantError(t, r, tc.status, tc.code)
			if tc.status == 500 && strings.Contains(m["message"].(string), "onnxruntime") {
				t.Fatalf("internal error leaked: %s", r.body)
			}
		})
	}
}

// TestVerifyWithDocument: a finished session whose reference image is a
// real face crop, against documents that show the same or another person.
func TestVerifyWithDocument(t *testing.T) {
	ts := newServer(t, serverOpts{})
	f := sampleCrops(t)
	id, token := ts.createSession(t, keyA, 0)
	ts.finish(t, id, token, liveResult(f.faceA, 0))
	path := "/v1/liveness/verify-with-document/" + id

	multipartBody := func(t *testing.T, field string, doc []byte, extra map[string]string) ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range extra {
			mw.WriteField(k, v)
		}
		if doc != nil {
			w, err := mw.CreateFormFile(field, "id.jpg")
			if err != nil {
				t.Fatal(err)
			}
			w.Write(doc)
		}
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}

	t.Run("MultipartMatch", func(t *testing.T) {
		body, ct := multipartBody(t, "document", f.photo, nil)
		r := ts.do(t, "POST", path, keyA, ct, body)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		fm := m["faceMatch"].(map[string]any)
		if m["sessionId"] != id || m["livenessVerified"] != true || m["livenessConfidence"] != 97.46 ||
			fm["isMatch"] != true || fm["similarity"].(float64) < 90 || m["overallSuccess"] != true || len(m) != 5 || len(fm) != 3 {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("JSONMatch", func(t *testing.T) {
		r := ts.postJSON(t, path, keyA, map[string]any{"document": b64(f.photo)})
		if m := r.json(t); r.status != 200 || m["overallSuccess"] != true {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("OtherPerson", func(t *testing.T) {
		body, ct := multipartBody(t, "document", f.faceB, nil)
		e := wantError(t, ts.do(t, "POST", path, keyA, ct, body), 422, api.CodeLowSimilarity)
		d := e["details"].(map[string]any)
		if d["similarity"].(float64) >= 90 || d["threshold"] != 90.0 {
			t.Fatalf("details %v", d)
		}
	})
	t.Run("NoFaceInDocument", func(t *testing.T) {
		body, ct := multipartBody(t, "document", noFaceImage(t), nil)
		e := wantError(t, ts.do(t, "POST", path, keyA, ct, body), 422, api.CodeNoSourceFace)
		if !strings.Contains(e["message"].(string), "document") {
			t.Fatalf("message %q", e["message"])
		}
	})
	for _, tc := range []struct {
		name         string
		field        string
		doc          []byte
		extra        map[string]string
		status, code int
	}{
		{"MissingDocument", "file", f.photo, nil, 400, api.CodeInvalidRequest},
		{"CorruptDocument", "document", append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x42}, 500)...), nil, 400, api.CodeInvalidImage},
		{"TextDocument", "document", []byte("not an image at all, just text"), nil, 400, api.CodeUnsupportedImage},
		{"BadThreshold", "document", f.photo, map[string]string{"threshold": "abc"}, 400, api.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, tc.field, tc.doc, tc.extra)
			wantError(t, ts.do(t, "POST", path, keyA, ct, body), tc.status, tc.code)
		})
	}
	t.Run("WrongContentType", func(t *testing.T) {
		wantError(t, ts.do(t, "POST", path, keyA, "image/jpeg", f.photo), 415, api.CodeUnsupportedMedia)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		wantError(t, ts.postJSON(t, path, keyB, map[string]any{"document": b64(f.photo)}), 404, api.CodeSessionNotFound)
	})
	t.Run("DocumentTooLarge", func(t *testing.T) {
		body, ct := multipartBody(t, "document", bytes.Repeat([]byte{0xff}, 15_000_001), nil)
		wantError(t, ts.do(t, "POST", path, keyA, ct, body), 413, api.CodeImageTooLarge)
	})
}
