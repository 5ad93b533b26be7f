package quant

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/models"
)

// Int8Dir is where, under the model cache, the int8 builds are kept.
const Int8Dir = "int8"

// Version is part of every build's key: bump it whenever Quantize,
// Calibrate or the calibration inputs change what a build contains.
const Version = "qdq-1"

// Adopted are the models whose int8 build the service runs instead of the
// float model, each measured against its float self (docs/BENCHMARKS.md
// "int8") and gated on accuracy (internal/quantize: TestInt8_HeldOut, and
// TestInt8_LFWGate for the embedder). A model is adopted only where both
// held, and none is today: of the face pipeline's models, fr_feature's
// build was 1.6x faster on one thread but its embeddings drift (cosine with
// the float ones 0.976 on held-out faces, lowest 0.95; LFW fold 1 AUC
// within 0.1 point but TAR at FMR 1e-3 one to three of 300 genuine pairs
// lower across calibration variants), and fr_detect's and fr_liveness's
// builds ran no faster than their float graphs after the load-time
// rewrites (fr_liveness's at half the speed). faceres's build is 2.6x
// faster, but its descriptor drifts too (cosine 0.994 on held-out faces)
// and the service does not run faceres.
var Adopted = []string{}

// IsAdopted reports whether the service runs name's int8 build.
func IsAdopted(name string) bool { return slices.Contains(Adopted, name) }

// CPUHasInt8Dot reports whether this CPU has the int8 dot-product
// instructions ORT's integer kernels need to be fast and exact: AVX-512
// VNNI or AVX-VNNI on x86 (without them ORT's u8s8 kernels can saturate
// 16-bit intermediates), the dot-product extension on arm64.
func CPUHasInt8Dot() bool {
	switch runtime.GOARCH {
	case "amd64":
		return cpu.X86.HasAVX512VNNI || cpu.X86.HasAVXVNNI
	case "arm64":
		return cpu.ARM64.HasASIMDDP
	}
	return false
}

// Key names one build: the quantiser version, the CPU's blocked layout
// (the float graph is rewritten for it before quantisation) and the
// SHA-256 of every input that decides the result (the source model files
// and the calibration images, as the model manifest pins them).
func Key(block int, shas ...string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d", Version, block)
	for _, s := range shas {
		fmt.Fprintf(h, "\x00%s", s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Int8File is the cache-relative path of a build.
func Int8File(name, key string) string {
	return filepath.ToSlash(filepath.Join(Int8Dir, fmt.Sprintf("%s-%s.onnx", strings.ReplaceAll(name, "/", "_"), key)))
}

// Samples are the calibration photos (cache paths): the six group photos of
// @vladmandic/face-api's demo, pinned by the model manifest, so every
// checkout calibrates on the same pixels.
var Samples = []string{"samples/sample1.jpg", "samples/sample2.jpg", "samples/sample3.jpg",
	"samples/sample4.jpg", "samples/sample5.jpg", "samples/sample6.jpg"}

// BuildKey is the key of spec's int8 build in a cache calibrated on the
// given photos (Key over the pinned SHA-256 of the model's files and of the
// photos); ok is false for a file the manifest does not pin (a user's own
// model).
func BuildKey(cache *models.Cache, spec infer.Spec, samples []string) (string, bool) {
	var shas []string
	for _, f := range append(sourceFiles(spec), samples...) {
		s, ok := cache.SHA256(f)
		if !ok {
			return "", false
		}
		shas = append(shas, s)
	}
	return Key(infer.NCHWcBlock(), shas...), true
}

// sourceFiles are the cache files a model is made of: the ONNX file, or a
// TF.js model.json and its weights (the .bin of the same name).
func sourceFiles(spec infer.Spec) []string {
	if strings.HasSuffix(spec.File, ".json") {
		return []string{spec.File, strings.TrimSuffix(spec.File, ".json") + ".bin"}
	}
	return []string{spec.File}
}

// Int8Path returns the absolute path of the int8 build the service loads
// for spec, when there is one to load: the model is adopted, the CPU has
// int8 dot products, and the build for the current key is in the cache
// (`make models` builds it). Otherwise the service loads the float model.
func Int8Path(cache *models.Cache, spec infer.Spec) (string, bool) {
	if !IsAdopted(spec.Name) || !CPUHasInt8Dot() {
		return "", false
	}
	key, ok := BuildKey(cache, spec, Samples)
	if !ok {
		return "", false
	}
	p := cache.Path(Int8File(spec.Name, key))
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}
