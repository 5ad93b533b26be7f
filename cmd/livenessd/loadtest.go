package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/simulate"
)

// runLoadtest drives simulated live captures over the real capture
// WebSocket, in real time, against a server, --concurrency at a time until
// --sessions are done, and reports the throughput, the verdict latency
// after the last frame and the errors. By default every session replays
// one capture rendered and encoded before the run (simulate.Replay), so
// the generator costs the machine little more than its WebSocket writes;
// --render-live renders each session's frames as it plays (the simulate
// command's player, about a third of a core per capture).
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ff := addFaceFlags(fs)
	server, apiKey := addServerFlags(fs)
	sessions := fs.Int("sessions", 20, "captures to run")
	concurrency := fs.Int("concurrency", 2, "captures at once")
	imagePath := fs.String("image", "", "photo with the face to play (default: a sample photo of the model package)")
	strength := fs.Float64("strength", simulate.DefaultStrength, "skin luminance change at full screen colour")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	renderLive := fs.Bool("render-live", false, "render each session's frames while it plays instead of replaying frames rendered before the run")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd loadtest --server URL --api-key KEY --sessions N --concurrency C [--image FACE.jpg] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *apiKey == "" || *sessions < 1 || *concurrency < 1 || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: need --api-key, --sessions >= 1 and --concurrency >= 1", errUsage)
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}
	p, err := ff.open()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	img := *imagePath
	if img == "" {
		img = filepath.Join(*ff.dir, "samples", "sample1.jpg")
	}
	photo, err := imageio.ReadFile(img, imageio.DefaultLimits())
	if err != nil {
		return err
	}
	src, err := simulate.DetectSource(ctx, p, photo)
	if err != nil {
		return fmt.Errorf("%s: %w", img, err)
	}

	lt := &loadtest{base: base.String(), key: *apiKey, src: src, strength: *strength,
		client: &http.Client{Timeout: 30 * time.Second}, errors: map[string]int{}, statuses: map[string]int{}, examples: map[string]string{}}
	if !*renderLive {
		// Two seconds of held face, played forwards and back.
		if lt.replay, err = simulate.NewReplay(src, simulate.Options{Strength: *strength, Seed: 1}, 30); err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				lt.one(ctx, uint64(i))
			}
		}()
	}
	for i := range *sessions {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	sum := lt.summary(time.Since(start), *concurrency)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	sum.print(stdout)
	return nil
}

type loadtest struct {
	base, key string
	src       simulate.Source
	strength  float64
	client    *http.Client
	replay    *simulate.Replay // nil: render each session live

	mu        sync.Mutex
	latencies []time.Duration // last frame -> verdict
	statuses  map[string]int
	errors    map[string]int
	examples  map[string]string // the first error text of each code
}

// one runs one capture: create, dial, play in real time, wait.
func (lt *loadtest) one(ctx context.Context, seed uint64) {
	id, token, err := createSession(ctx, lt.client, lt.base, lt.key)
	if err != nil {
		lt.fail("create", err)
		return
	}
	ws := strings.Replace(lt.base, "http", "ws", 1) + "/v1/liveness/session/" + id + "/stream"
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := simulate.Dial(dctx, ws, url.QueryEscape(token), nil)
	cancel()
	if err != nil {
		lt.fail("dial", err)
		return
	}
	defer c.Close()
	ch := simulate.ChallengeOf(c.Challenge)
	tgt := &lastFrameTarget{WSClient: c}
	if lt.replay != nil {
		err = lt.replay.Play(ctx, ch, tgt, simulate.PlayOptions{Realtime: true})
	} else {
		var pl *simulate.Player
		if pl, err = simulate.NewPlayer(lt.src, ch, simulate.Options{Strength: lt.strength, Seed: seed + 1}); err != nil {
			lt.fail("player", err)
			return
		}
		err = simulate.Play(ctx, pl, tgt, simulate.PlayOptions{Realtime: true})
	}
	if err != nil {
		lt.fail("play", err)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	status, err := c.Wait(wctx)
	if err != nil {
		lt.fail("verdict", err)
		return
	}
	_, at := c.ResultReceived()
	lt.mu.Lock()
	lt.latencies = append(lt.latencies, at.Sub(tgt.last))
	lt.statuses[status]++
	lt.mu.Unlock()
}

// lastFrameTarget records when the last frame left.
type lastFrameTarget struct {
	*simulate.WSClient
	last time.Time
}

func (l *lastFrameTarget) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	err := l.WSClient.Frame(ctx, at, jpg)
	l.last = time.Now()
	return err
}

var (
	httpStatus = regexp.MustCompile(`: (\d{3}) (\{.*"errorCode":(\d+))?`)
	wsStatus   = regexp.MustCompile(`status code 101 but got (\d{3})`)
	serverErr  = regexp.MustCompile(`server error (\d{4})`)
	closeCode  = regexp.MustCompile(`status = StatusCode\((\d+)\)|failed to get reader: received close frame: status = (\d+)`)
)

// fail counts err under a code: the HTTP status and errorCode, the
// refused upgrade's status, or the capture protocol's error code.
func (lt *loadtest) fail(stage string, err error) {
	code := stage + ":" + errorCode(err)
	lt.mu.Lock()
	lt.errors[code]++
	if _, ok := lt.examples[code]; !ok {
		lt.examples[code] = err.Error()
	}
	lt.mu.Unlock()
}

func errorCode(err error) string {
	s := err.Error()
	if m := serverErr.FindStringSubmatch(s); m != nil {
		return "capture-" + m[1]
	}
	if m := wsStatus.FindStringSubmatch(s); m != nil {
		return "http-" + m[1]
	}
	if m := httpStatus.FindStringSubmatch(s); m != nil {
		if m[3] != "" {
			return "http-" + m[1] + "/" + m[3]
		}
		return "http-" + m[1]
	}
	if m := closeCode.FindStringSubmatch(s); m != nil {
		return "close-" + m[1] + m[2]
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "other"
}

// loadSummary is what loadtest prints.
type loadSummary struct {
	Sessions       int               `json:"sessions"`
	Concurrency    int               `json:"concurrency"`
	Verdicts       int               `json:"verdicts"`
	Statuses       map[string]int    `json:"statuses"`
	Errors         map[string]int    `json:"errors"`
	ErrorExamples  map[string]string `json:"errorExamples,omitempty"` // the first error text of each code
	Seconds        float64           `json:"seconds"`
	SessionsPerMin float64           `json:"sessionsPerMin"`
	LatencyP50ms   float64           `json:"verdictLatencyP50ms"`
	LatencyP95ms   float64           `json:"verdictLatencyP95ms"`
	LatencyP99ms   float64           `json:"verdictLatencyP99ms"`
	LatencyMaxms   float64           `json:"verdictLatencyMaxms"`
}

func (lt *loadtest) summary(elapsed time.Duration, conc int) loadSummary {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lat := slices.Clone(lt.latencies)
	slices.Sort(lat)
	n := len(lat)
	errs := 0
	for _, v := range lt.errors {
		errs += v
	}
	s := loadSummary{Sessions: n + errs, Concurrency: conc, Verdicts: n, Statuses: lt.statuses, Errors: lt.errors, ErrorExamples: lt.examples,
		Seconds: elapsed.Seconds(), SessionsPerMin: float64(n) / elapsed.Minutes()}
	if n > 0 {
		s.LatencyP50ms, s.LatencyP95ms, s.LatencyP99ms = ms64(quantile(lat, 0.5)), ms64(quantile(lat, 0.95)), ms64(quantile(lat, 0.99))
		s.LatencyMaxms = ms64(lat[n-1])
	}
	return s
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms64(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (s loadSummary) print(w io.Writer) {
	fmt.Fprintf(w, "sessions %d at concurrency %d in %.1f s: %d verdicts, %.1f sessions/min\n", s.Sessions, s.Concurrency, s.Seconds, s.Verdicts, s.SessionsPerMin)
	fmt.Fprintf(w, "verdict latency after the last frame: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms\n", s.LatencyP50ms, s.LatencyP95ms, s.LatencyP99ms, s.LatencyMaxms)
	for _, k := range sortedKeys(s.Statuses) {
		fmt.Fprintf(w, "status %s: %d\n", k, s.Statuses[k])
	}
	for _, k := range sortedKeys(s.Errors) {
		fmt.Fprintf(w, "error %s: %d (first: %s)\n", k, s.Errors[k], s.ErrorExamples[k])
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
