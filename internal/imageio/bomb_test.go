package imageio_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/imageio"
)

// bombPNG is the report's decompression bomb: a 6000x6000 PNG of zeros,
// about 100 KB, that declares 36 megapixels (under the 40-megapixel limit).
func bombPNG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, m); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// rssChildEnv selects the child mode of TestDecodeBombs_PeakRSS.
const rssChildEnv = "LIVENESS_RSS_CHILD"

// TestDecodeBombs_PeakRSS decodes six bombs at once in a fresh process and
// reads its peak RSS (VmHWM), once as before (no decode budget) and once
// with the default budget: the budget must bound the peak near its size,
// far below the unbudgeted peak.
func TestDecodeBombs_PeakRSS(t *testing.T) {
	if os.Getenv(rssChildEnv) != "" {
		t.Skip("child mode")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: peak RSS cannot be read here")
	}
	// The child is this package's tests built without -race: the race
	// detector's shadow memory would swamp what is measured.
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "imageio.test")
	build := exec.Command(goTool, "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the child: %v\n%s", err, out)
	}
	peak := map[string]int64{}
	for _, mode := range []string{"none", "budget"} {
		cmd := exec.Command(bin, "-test.run=^TestDecodeBombs_Child$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), rssChildEnv+"="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %s: %v\n%s", mode, err, out)
		}
		m := regexpFind(string(out), "PEAK_RSS_KB=")
		if m == "" {
			t.Fatalf("child %s printed no peak:\n%s", mode, out)
		}
		kb, _ := strconv.ParseInt(m, 10, 64)
		peak[mode] = kb << 10
		t.Logf("%s: peak RSS %d MB; %s", mode, kb>>10, regexpFind(string(out), "RESULT="))
	}
	budget := int64(imageio.DefaultDecodeBudget)
	if peak["budget"] > peak["none"]/2 {
		t.Errorf("peak RSS with the budget %d MB, without %d MB: want at most half", peak["budget"]>>20, peak["none"]>>20)
	}
	// The budget, the bombs themselves and the runtime's own.
	if limit := budget + 160<<20; peak["budget"] > limit {
		t.Errorf("peak RSS with the budget %d MB, want under %d MB", peak["budget"]>>20, limit>>20)
	}
}

func regexpFind(s, prefix string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if i := strings.Index(sc.Text(), prefix); i >= 0 {
			return strings.TrimSpace(sc.Text()[i+len(prefix):])
		}
	}
	return ""
}

// TestDecodeBombs_Child runs in the child process only.
func TestDecodeBombs_Child(t *testing.T) {
	mode := os.Getenv(rssChildEnv)
	if mode == "" {
		t.Skip("run by TestDecodeBombs_PeakRSS")
	}
	bombs := [][]byte{
		bombPNG(t, image.NewNRGBA(image.Rect(0, 0, 6000, 6000))), // RGBA, 8 bits
		bombPNG(t, image.NewGray(image.Rect(0, 0, 6000, 6000))),  // grey, 8 bits
	}
	lim := imageio.DefaultLimits()
	if mode == "budget" {
		lim.Budget = imageio.NewBudget(imageio.DefaultDecodeBudget, time.Minute)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	for i := range 6 {
		wg.Go(func() {
			img, err := imageio.Decode(bombs[i%2], lim)
			kind := "decoded"
			switch {
			case errors.Is(err, livenessd.ErrTooManyPixels):
				kind = "refused"
			case err != nil:
				kind = "error: " + err.Error()
			case img.Bounds().Dx() != 6000:
				kind = "wrong size"
			}
			mu.Lock()
			results[kind]++
			mu.Unlock()
		})
	}
	wg.Wait()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RESULT=%v\n", results)
	fmt.Printf("PEAK_RSS_KB=%s\n", strings.Fields(regexpFind(string(status), "VmHWM:"))[0])
}
