// Package testutil finds the model cache and shared test assets for tests in
// every package. Tests that need models skip with a message naming the fix,
// unless LIVENESS_REQUIRE_MODELS=1 (set by `make test`), where a missing
// cache fails instead, so CI never passes by skipping.
package testutil

import (
	"encoding/csv"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/models"
)

// RepoRoot walks up from the working directory to the directory holding go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testutil: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ModelDir is the model cache the tests use: LIVENESS_MODELS_DIR or
// <repo>/var/models.
func ModelDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(models.EnvDir); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(tb), models.DefaultDir)
}

// Cache returns the verified model cache, or skips/fails the test when it is
// incomplete (see the package comment).
func Cache(tb testing.TB) *models.Cache {
	tb.Helper()
	c := models.NewCache(ModelDir(tb))
	verifyOnce.Do(func() { verifyErr = c.Verify() })
	if verifyErr != nil {
		if os.Getenv("LIVENESS_REQUIRE_MODELS") == "1" {
			tb.Fatalf("model cache: %v", verifyErr)
		}
		tb.Skipf("model cache incomplete (run `make models`): %v", verifyErr)
	}
	return c
}

var (
	verifyOnce sync.Once
	verifyErr  error
	rtOnce     sync.Once
	rt         *infer.Runtime
	rtErr      error
)

// Runtime returns the process-wide ONNX Runtime with default options.
func Runtime(tb testing.TB) *infer.Runtime {
	tb.Helper()
	c := Cache(tb)
	rtOnce.Do(func() { rt, rtErr = infer.NewRuntime(c.Path(models.ORTLibrary), infer.Options{}) })
	if rtErr != nil {
		tb.Fatalf("onnx runtime: %v", rtErr)
	}
	return rt
}

// Sample returns the path of sampleN.jpg from @vladmandic/face-api.
func Sample(tb testing.TB, n int) string {
	tb.Helper()
	return Cache(tb).Path(filepath.Join("samples", "sample"+string(rune('0'+n))+".jpg"))
}

// SharedData returns ../shared/data/<rel> relative to the repository, or
// skips the test with a clear message when the evaluation data is absent.
func SharedData(tb testing.TB, rel string) string {
	tb.Helper()
	p, err := LookupSharedData(tb, rel)
	if err != nil {
		tb.Skipf("evaluation data %s not present (needs ../shared/data or LIVENESS_SHARED_DATA): %v", p, err)
	}
	return p
}

// LookupSharedData is SharedData for tests that also run without the
// evaluation data: the path, and an error when it is absent.
func LookupSharedData(tb testing.TB, rel string) (string, error) {
	tb.Helper()
	root := os.Getenv("LIVENESS_SHARED_DATA")
	if root == "" {
		root = filepath.Join(RepoRoot(tb), "..", "shared", "data")
	}
	p := filepath.Join(root, rel)
	_, err := os.Stat(p)
	return p, err
}

// DecodeSample decodes sampleN.jpg (no EXIF handling: the samples are upright).
func DecodeSample(tb testing.TB, n int) image.Image {
	tb.Helper()
	f, err := os.Open(Sample(tb, n))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// TimeModel benchmarks one session on one input: a warm-up run, then b.Loop,
// reporting the median and minimum latency ("median-ms", "min-ms", read by
// scripts/bench.sh) and the median process CPU time of a run ("cpu-ms",
// every ORT thread included) besides ns/op.
func TimeModel(b *testing.B, s *infer.Session, in infer.Tensor) {
	b.Helper()
	if _, err := s.Run(b.Context(), in); err != nil {
		b.Fatal(err)
	}
	var ms, cpu []float64
	for b.Loop() {
		c0, t0 := ProcessCPU(), time.Now()
		if _, err := s.Run(b.Context(), in); err != nil {
			b.Fatal(err)
		}
		ms = append(ms, float64(time.Since(t0))/1e6)
		cpu = append(cpu, float64(ProcessCPU()-c0)/1e6)
	}
	slices.Sort(ms)
	slices.Sort(cpu)
	b.ReportMetric(ms[len(ms)/2], "median-ms")
	b.ReportMetric(ms[0], "min-ms")
	b.ReportMetric(cpu[len(cpu)/2], "cpu-ms")
}

// ProcessCPU is the CPU time the process has used so far, all threads
// (ONNX Runtime's pools included). Benchmarks difference it around the work
// they measure: CPU time is what a deployment pays for, and unlike wall
// time it is barely inflated when other processes share the cores.
func ProcessCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// ReadCSV reads every record of the CSV file at path, header included.
func ReadCSV(tb testing.TB, path string) [][]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return recs
}
