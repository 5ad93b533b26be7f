package api_test

import (
	"image"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/testutil"
)

// jpeg640 crops sample n to 4:3 around its centre and scales it to 640x480.
func jpeg640(tb testing.TB, n int) []byte {
	tb.Helper()
	data, err := os.ReadFile(testutil.Sample(tb, n))
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	b := img.Bounds()
	w := min(b.Dx(), b.Dy()*4/3)
	h := w * 3 / 4
	r := image.Rect(b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2, 0, 0)
	r.Max = r.Min.Add(image.Pt(w, h))
	out, err := imageio.EncodeJPEG(imageio.Resize(imageio.Crop(img, r), 640, 480), 90)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkCompareFacesHTTP measures POST /v1/liveness/compare-faces end to
// end through the real server (JSON + base64 decode, image decode, face
// pipeline, response) on two 640x480 JPEGs.
func BenchmarkCompareFacesHTTP(b *testing.B) {
	ts := newServer(b, serverOpts{})
	body := `{"sourceImage":"` + b64(jpeg640(b, 1)) + `","targetImage":"` + b64(jpeg640(b, 2)) + `"}`
	client := ts.Client()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("POST", ts.URL+comparePath, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+keyA)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
