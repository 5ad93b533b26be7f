package amplify_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/livenessd/livenessd/internal/amplify"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/testutil"
)

func TestAssets(t *testing.T) {
	h, err := amplify.NewAssetHandler(testutil.Cache(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	want := map[string]string{} // dest -> sha256 from the manifest
	for _, p := range models.Manifest {
		for _, f := range p.Files {
			want[f.Dest] = f.SHA256
		}
	}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, test := range []struct{ path, dest, ctype string }{
		{amplify.ModelURLPath, "human/facemesh-detection-short.json", "application/json"},
		{amplify.WasmURLPath + "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm", "application/wasm"},
		{amplify.WasmURLPath + "tfjs-backend-wasm.wasm", "tfjs-backend-wasm/tfjs-backend-wasm.wasm", "application/wasm"},
		{amplify.WasmURLPath + "tfjs-backend-wasm-threaded-simd.wasm", "tfjs-backend-wasm/tfjs-backend-wasm-threaded-simd.wasm", "application/wasm"},
	} {
		t.Run(test.path, func(t *testing.T) {
			resp, b := get(test.path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != test.ctype || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("%d %q cors %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Access-Control-Allow-Origin"))
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != want[test.dest] {
				t.Errorf("body does not match the pinned %s", test.dest)
			}
		})
	}
	// The weights the model names resolve, relative to model.json, to a
	// served file, as TF.js resolves them.
	_, b := get(amplify.ModelURLPath)
	var m struct{ WeightsManifest []struct{ Paths []string } }
	if err := json.Unmarshal(b, &m); err != nil || len(m.WeightsManifest) == 0 {
		t.Fatalf("model.json: %v", err)
	}
	base, _ := url.Parse(srv.URL + amplify.ModelURLPath)
	for _, wm := range m.WeightsManifest {
		for _, p := range wm.Paths {
			ref, _ := url.Parse(p)
			resp, body := get(base.ResolveReference(ref).Path)
			sum := sha256.Sum256(body)
			if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != want["human/facemesh-detection-short.bin"] {
				t.Errorf("weights %s: %d", p, resp.StatusCode)
			}
		}
	}
	if resp, _ := get(amplify.WasmURLPath + "../../etc/passwd"); resp.StatusCode != 404 {
		t.Errorf("traversal: %d", resp.StatusCode)
	}
	if resp, _ := get("/amplify/wasm/other.wasm"); resp.StatusCode != 404 {
		t.Errorf("unknown file: %d", resp.StatusCode)
	}
	resp, err := http.Post(srv.URL+amplify.ModelURLPath, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}
