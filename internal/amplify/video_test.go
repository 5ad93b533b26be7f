package amplify

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
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
		{"Timeout", webm30, VideoDecoder{Timeout: time.Millisecond}, [2]int{0, 0}, ErrVideoDecode},
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
