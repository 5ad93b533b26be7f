package amplify

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

func needFFmpegInternal(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("LIVENESS_REQUIRE_MODELS") == "1" {
			tb.Fatalf("ffmpeg not installed (apt-get install ffmpeg): %v", err)
		}
		tb.Skipf("ffmpeg not installed: %v", err)
	}
}

// testVideo encodes a moving test pattern with ffmpeg's lavfi source.
func testVideo(t *testing.T, rate int, seconds string, args ...string) []byte {
	t.Helper()
	out := t.TempDir() + "/v"
	cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc2=size=640x480:rate=" + itoa(rate) + ":duration=" + seconds, "-threads", "1"}, append(args, out)...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVideoDecoder(t *testing.T) {
	needFFmpegInternal(t)
	webm30 := testVideo(t, 30, "2", "-pix_fmt", "yuv420p", "-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime", "-f", "webm")
	mp4frag := testVideo(t, 15, "2", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4")
	mp4 := testVideo(t, 15, "2", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mp4")
	for _, test := range []struct {
		name   string
		video  []byte
		dec    VideoDecoder
		frames [2]int // accepted range
		err    error
	}{
		{"WebM30fps", webm30, VideoDecoder{}, [2]int{29, 31}, nil},
		{"FragmentedMP4", mp4frag, VideoDecoder{}, [2]int{29, 31}, nil},
		{"MP4", mp4, VideoDecoder{}, [2]int{29, 31}, nil},
		{"TruncatedWebM", webm30[:len(webm30)/2], VideoDecoder{}, [2]int{5, 25}, nil},
		{"NoPrlimit", webm30, VideoDecoder{Prlimit: "-"}, [2]int{29, 31}, nil},
		{"FrameCap", webm30, VideoDecoder{MaxFrames: 10}, [2]int{10, 10}, nil},
		{"Scaled", webm30, VideoDecoder{MaxWidth: 320}, [2]int{29, 31}, nil},
		{"Garbage", []byte("RIFF....AVI LIST"), VideoDecoder{}, [2]int{0, 0}, ErrUnsupportedVideo},
		{"CorruptWebM", append(append([]byte{}, webm30[:40]...), make([]byte, 5000)...), VideoDecoder{}, [2]int{0, 0}, ErrVideoDecode},
		{"TooLittleMemory", webm30, VideoDecoder{MaxMemory: 8 << 20}, [2]int{0, 0}, ErrVideoDecode},
		{"Timeout", webm30, VideoDecoder{Timeout: time.Millisecond}, [2]int{0, 0}, ErrDecodeTimeout},
	} {
		t.Run(test.name, func(t *testing.T) {
			var ats []time.Duration
			var size image.Point
			n, err := test.dec.Decode(context.Background(), test.video, func(i int, at time.Duration, img *image.RGBA) error {
				if i != len(ats) {
					t.Fatalf("frame index %d, want %d", i, len(ats))
				}
				ats = append(ats, at)
				size = img.Rect.Size()
				return nil
			})
			if test.err != nil {
				if !errors.Is(err, test.err) {
					t.Fatalf("error %v, want %v", err, test.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != len(ats) || n < test.frames[0] || n > test.frames[1] {
				t.Fatalf("%d frames (%d callbacks), want %v", n, len(ats), test.frames)
			}
			wantW := 640
			if test.dec.MaxWidth == 320 {
				wantW = 320
			}
			if size.X != wantW || size.Y != wantW*3/4 {
				t.Errorf("frame size %v", size)
			}
			// 15 fps after the fps filter, on the video's own clock.
			for i, at := range ats {
				want := time.Duration(i) * time.Second / 15
				if d := at - want; d > 2*time.Millisecond || d < -2*time.Millisecond {
					t.Fatalf("frame %d at %v, want %v", i, at, want)
				}
			}
		})
	}
	t.Run("CallbackError", func(t *testing.T) {
		stop := errors.New("stop")
		n, err := VideoDecoder{}.Decode(context.Background(), webm30, func(i int, _ time.Duration, _ *image.RGBA) error {
			if i == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Fatalf("n %d, err %v", n, err)
		}
	})
}

// TestVideoStream: a WebM fed in MediaRecorder-sized chunks decodes to
// the same frames as the whole file, and most frames come out before the
// input ends (the decode keeps up with the stream instead of starting at
// its end).
func TestVideoStream(t *testing.T) {
	needFFmpegInternal(t)
	webm := testVideo(t, 30, "3", "-pix_fmt", "yuv420p", "-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime", "-f", "webm")
	var want []time.Duration
	if _, err := (VideoDecoder{}).Decode(context.Background(), webm, func(_ int, at time.Duration, _ *image.RGBA) error {
		want = append(want, at)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const chunk = 16 << 10
	var mu sync.Mutex
	var got []time.Duration
	arrived := make(chan struct{}, 1000)
	vs, err := VideoDecoder{}.Stream(context.Background(), webm[:chunk], func(i int, at time.Duration, _ *image.RGBA) error {
		mu.Lock()
		got = append(got, at)
		mu.Unlock()
		arrived <- struct{}{}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for off := chunk; off < len(webm); off += chunk {
		vs.Write(webm[off:min(off+chunk, len(webm))])
	}
	// Before the end of the input, frames already come out.
	deadline := time.After(30 * time.Second)
	for early := 0; early < len(want)/2; early++ {
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("only %d of %d frames decoded before the end of the input", early, len(want))
		}
	}
	n, err := vs.Close()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != len(want) || len(got) != len(want) {
		t.Fatalf("streamed %d frames (%d callbacks), whole file %d", n, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("frame %d at %v streamed, %v from the file", i, got[i], want[i])
		}
	}

	t.Run("SlowAnalysisNeverBlocksWrites", func(t *testing.T) {
		release := make(chan struct{})
		vs, err := VideoDecoder{}.Stream(context.Background(), webm[:chunk], func(int, time.Duration, *image.RGBA) error {
			<-release // an analysis far behind the stream
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wrote := make(chan struct{})
		go func() {
			for off := chunk; off < len(webm); off += chunk {
				vs.Write(webm[off:min(off+chunk, len(webm))])
			}
			close(wrote)
		}()
		select {
		case <-wrote:
		case <-time.After(20 * time.Second):
			t.Fatal("Write waited for the analysis")
		}
		close(release)
		if n, err := vs.Close(); err != nil || n != len(want) {
			t.Fatalf("after a slow analysis: %d frames, %v", n, err)
		}
	})
	t.Run("NotStreamable", func(t *testing.T) {
		mp4 := testVideo(t, 15, "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mp4")
		if Streamable(mp4) {
			t.Fatal("MP4 reported streamable")
		}
		if _, err := (VideoDecoder{}).Stream(context.Background(), mp4, nil); !errors.Is(err, ErrUnsupportedVideo) {
			t.Fatalf("Stream(MP4) = %v", err)
		}
	})
	t.Run("Abort", func(t *testing.T) {
		vs, err := VideoDecoder{}.Stream(context.Background(), webm[:chunk], func(int, time.Duration, *image.RGBA) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { vs.Abort(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Abort did not return")
		}
	})
	t.Run("CorruptMidStream", func(t *testing.T) {
		vs, err := VideoDecoder{}.Stream(context.Background(), webm[:40], func(int, time.Duration, *image.RGBA) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		vs.Write(make([]byte, 5000))
		if _, err := vs.Close(); !errors.Is(err, ErrVideoDecode) {
			t.Fatalf("corrupt stream: %v", err)
		}
	})
}
