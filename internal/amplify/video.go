package amplify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of VideoDecoder.
const (
	DefaultDecodeTimeout = 60 * time.Second
	DefaultFPS           = 15
	DefaultMaxWidth      = 640
	DefaultMaxFrames     = 600
	// DefaultDecodeMemory is the address-space limit of the ffmpeg
	// process (prlimit --as); one decoder thread on a 640 px stream stays
	// far below it.
	DefaultDecodeMemory = 1 << 30
)

// Video errors. Both are the client's fault (ValidationException).
var (
	ErrUnsupportedVideo = errors.New("unsupported video container: want WebM/Matroska or MP4")
	ErrVideoDecode      = errors.New("video could not be decoded")
)

// VideoDecoder turns the concatenated MediaRecorder chunks into frames with
// the ffmpeg program, in a subprocess bounded in time (context timeout and
// CPU seconds), memory (address space through prlimit when it is
// installed) and output (frame count and size, one decoder thread).
//
// Output is a stream of PPM images on a pipe (image2pipe): every frame
// carries its own size, so nothing needs probing first and a resolution
// change mid-stream cannot desynchronise the reader. Frames are resampled
// to a constant DefaultFPS with the fps filter and scaled to at most
// MaxWidth wide; each frame's time comes from the showinfo filter on
// stderr (its pts after the fps filter), on the video's own clock, which
// starts with the recording.
type VideoDecoder struct {
	FFmpeg    string // program path; default "ffmpeg" from PATH
	Prlimit   string // program path; default "prlimit" from PATH when present; "-" disables
	Timeout   time.Duration
	FPS       int
	MaxWidth  int
	MaxFrames int
	MaxMemory int64
	TempDir   string
}

func (d VideoDecoder) withDefaults() VideoDecoder {
	if d.FFmpeg == "" {
		d.FFmpeg = "ffmpeg"
	}
	if d.Timeout <= 0 {
		d.Timeout = DefaultDecodeTimeout
	}
	if d.FPS <= 0 {
		d.FPS = DefaultFPS
	}
	if d.MaxWidth <= 0 {
		d.MaxWidth = DefaultMaxWidth
	}
	if d.MaxFrames <= 0 {
		d.MaxFrames = DefaultMaxFrames
	}
	if d.MaxMemory <= 0 {
		d.MaxMemory = DefaultDecodeMemory
	}
	return d
}

// containerFormat picks ffmpeg's demuxer from the magic bytes, so ffmpeg
// never probes (and never opens a demuxer the client chose).
func containerFormat(b []byte) (string, error) {
	switch {
	case len(b) >= 4 && bytes.Equal(b[:4], []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return "matroska", nil
	case len(b) >= 8 && string(b[4:8]) == "ftyp":
		return "mov", nil
	}
	return "", ErrUnsupportedVideo
}

var showinfoPTS = regexp.MustCompile(`showinfo.*\bn:\s*(\d+)\s+pts:\s*-?\d+\s+pts_time:\s*(-?[0-9.]+)`)

// FrameFunc receives each decoded frame in order, with its time since the
// start of the video; an error stops decoding and is returned.
type FrameFunc func(i int, at time.Duration, img *image.RGBA) error

// ErrDecodeTimeout: ffmpeg did not finish within the decoder's Timeout.
// That is the server's fault (too slow, overloaded), never the client's, so
// it is not an ErrVideoDecode.
var ErrDecodeTimeout = errors.New("video decoding timed out")

// Decode decodes video and calls each for every frame in order, with the
// frame's time since the start of the video. It returns the number of
// frames given to each. An error from each stops decoding and is returned.
// The video is written to a temporary file first, so ffmpeg can seek (an
// MP4 whose index comes last needs it); Stream decodes while it arrives.
func (d VideoDecoder) Decode(ctx context.Context, video []byte, each FrameFunc) (int, error) {
	d = d.withDefaults()
	format, err := containerFormat(video)
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(d.TempDir, "livenessd-amplify-*.video")
	if err != nil {
		return 0, fmt.Errorf("amplify: video temp file: %w", err)
	}
	path := f.Name()
	defer os.Remove(path)
	if _, err := f.Write(video); err != nil {
		f.Close()
		return 0, fmt.Errorf("amplify: video temp file: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("amplify: video temp file: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	return d.run(ctx, []string{"-protocol_whitelist", "file", "-f", format, "-i", path}, nil, each)
}

// Streamable reports whether a video starting with first can be decoded
// while it arrives: Matroska/WebM (what browsers' MediaRecorder writes)
// can; an MP4 may keep its index at the end, so it is decoded at the end.
func Streamable(first []byte) bool {
	format, err := containerFormat(first)
	return err == nil && format == "matroska"
}

// VideoStream is a decode in progress: ffmpeg reads the video from a pipe
// as Write hands it the chunks, and each gets the frames as they come out.
// Write never waits for ffmpeg: chunks queue in memory (the caller bounds
// the video's size) and a feeder goroutine writes them to the pipe, so a
// slow analysis never slows the reading of the client's stream.
type VideoStream struct {
	d      VideoDecoder
	stdin  *io.PipeWriter
	cancel context.CancelFunc
	timer  *time.Timer
	done   chan struct{}
	n      int
	err    error

	mu     sync.Mutex
	queue  [][]byte
	ended  bool
	wake   chan struct{} // signalled when queue or ended change
	feeder chan struct{} // closed when the feeder returned
}

// Stream starts decoding a Matroska/WebM video whose first chunk is first
// (Streamable): Write the following chunks as they arrive, then Close for
// the result. ctx bounds the whole stream; Timeout bounds the decode from
// Close to the last frame. each runs on the decoder's goroutine.
func (d VideoDecoder) Stream(ctx context.Context, first []byte, each FrameFunc) (*VideoStream, error) {
	d = d.withDefaults()
	if !Streamable(first) {
		return nil, ErrUnsupportedVideo
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	vs := &VideoStream{d: d, stdin: pw, cancel: cancel, done: make(chan struct{}),
		wake: make(chan struct{}, 1), feeder: make(chan struct{})}
	go func() {
		defer close(vs.done)
		defer pr.Close()
		vs.n, vs.err = d.run(ctx, []string{"-protocol_whitelist", "pipe", "-f", "matroska", "-i", "pipe:0"}, pr, each)
	}()
	go vs.feed()
	vs.Write(first)
	return vs, nil
}

// feed writes the queued chunks to ffmpeg's input, in order, and closes
// it after the last one.
func (vs *VideoStream) feed() {
	defer close(vs.feeder)
	for {
		vs.mu.Lock()
		queue, ended := vs.queue, vs.ended
		vs.queue = nil
		vs.mu.Unlock()
		for _, chunk := range queue {
			if _, err := vs.stdin.Write(chunk); err != nil {
				return // ffmpeg is gone: Close reports why
			}
		}
		if ended && len(queue) == 0 {
			vs.stdin.Close()
			return
		}
		if len(queue) == 0 {
			<-vs.wake
		}
	}
}

func (vs *VideoStream) signal() {
	select {
	case vs.wake <- struct{}{}:
	default:
	}
}

// Write queues the next chunk for ffmpeg and returns at once.
func (vs *VideoStream) Write(chunk []byte) {
	vs.mu.Lock()
	vs.queue = append(vs.queue, chunk)
	vs.mu.Unlock()
	vs.signal()
}

// Close ends the input and waits, at most the decoder's Timeout, for the
// last frames; it returns the number of frames given to each.
func (vs *VideoStream) Close() (int, error) {
	vs.mu.Lock()
	vs.ended = true
	vs.mu.Unlock()
	vs.signal()
	vs.timer = time.AfterFunc(vs.d.Timeout, vs.cancel)
	<-vs.done
	timedOut := !vs.timer.Stop()
	vs.cancel()
	vs.stdin.CloseWithError(context.Canceled) // unblocks a feeder ffmpeg left
	<-vs.feeder
	if timedOut {
		return vs.n, fmt.Errorf("%w: ffmpeg still decoding %v after the end of the stream", ErrDecodeTimeout, vs.d.Timeout)
	}
	return vs.n, vs.err
}

// Abort stops the decode without waiting for a result.
func (vs *VideoStream) Abort() {
	vs.cancel()
	vs.stdin.CloseWithError(context.Canceled)
	vs.mu.Lock()
	vs.ended = true
	vs.mu.Unlock()
	vs.signal()
	<-vs.done
	<-vs.feeder
}

// run runs ffmpeg on the input args (stdin, when not nil, is its standard
// input) and hands the frames to each.
func (d VideoDecoder) run(ctx context.Context, input []string, stdin io.Reader, each FrameFunc) (int, error) {
	args := append([]string{"-hide_banner", "-loglevel", "info", "-threads", "1", "-filter_threads", "1"}, input...)
	if stdin == nil {
		args = append([]string{"-nostdin"}, args...)
	}
	args = append(args,
		"-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", fmt.Sprintf("fps=%d,scale=w='min(%d,iw)':h=-2,showinfo", d.FPS, d.MaxWidth),
		"-frames:v", strconv.Itoa(d.MaxFrames),
		"-c:v", "ppm", "-f", "image2pipe", "pipe:1",
	)
	name := d.FFmpeg
	if pl := d.prlimit(); pl != "" {
		cpu := int(d.Timeout/time.Second) + 1
		args = append([]string{fmt.Sprintf("--as=%d", d.MaxMemory), fmt.Sprintf("--cpu=%d", cpu), "--", d.FFmpeg}, args...)
		name = pl
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 2 * time.Second
	cmd.Stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, fmt.Errorf("amplify: ffmpeg: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, fmt.Errorf("amplify: ffmpeg: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("amplify: start ffmpeg: %w", err)
	}

	// stderr: frame times in order, and the last lines for error messages.
	pts := make(chan time.Duration, d.MaxFrames+1)
	var tail []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(pts)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			line := sc.Text()
			if m := showinfoPTS.FindStringSubmatch(line); m != nil {
				sec, err := strconv.ParseFloat(m[2], 64)
				if err == nil {
					select {
					case pts <- time.Duration(sec * float64(time.Second)):
					default:
					}
				}
				continue
			}
			if len(tail) == 8 {
				tail = tail[1:]
			}
			tail = append(tail, truncate(line, 200))
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()

	n, readErr := d.readFrames(stdout, pts, each)
	if readErr != nil {
		cancel()
	}
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	wg.Wait()
	switch {
	case readErr != nil && !errors.Is(readErr, errPPM):
		return n, readErr
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return n, fmt.Errorf("%w: ffmpeg did not finish within %v", ErrDecodeTimeout, d.Timeout)
	case ctx.Err() != nil && n == 0:
		return 0, fmt.Errorf("%w: decode stopped: %v", ErrVideoDecode, ctx.Err())
	case readErr != nil:
		return n, fmt.Errorf("%w: %v", ErrVideoDecode, readErr)
	case n == 0:
		return 0, fmt.Errorf("%w: no frames (ffmpeg: %v: %s)", ErrVideoDecode, waitErr, strings.Join(tail, " | "))
	}
	// A MediaRecorder file often ends mid-cluster; ffmpeg then complains
	// after the last good frame. The frames are kept.
	return n, nil
}

func (d VideoDecoder) prlimit() string {
	switch d.Prlimit {
	case "-":
		return ""
	case "":
		p, err := exec.LookPath("prlimit")
		if err != nil {
			return ""
		}
		return p
	}
	return d.Prlimit
}

func (d VideoDecoder) readFrames(stdout io.Reader, pts <-chan time.Duration, each FrameFunc) (int, error) {
	br := bufio.NewReaderSize(stdout, 256<<10)
	step := time.Second / time.Duration(d.FPS)
	var last time.Duration
	for i := 0; ; i++ {
		img, err := readPPM(br)
		if errors.Is(err, io.EOF) {
			return i, nil
		}
		if err != nil {
			return i, err
		}
		if i >= d.MaxFrames {
			return i, nil
		}
		var at time.Duration
		ok := false
		select {
		case at, ok = <-pts:
		case <-time.After(5 * time.Second):
		}
		if !ok {
			// No showinfo line (stderr closed early): constant rate.
			at = last + step
			if i == 0 {
				at = 0
			}
		}
		last = at
		if err := each(i, at, img); err != nil {
			return i, err
		}
	}
}
