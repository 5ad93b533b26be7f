package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/simulate"
)

// runSimulate creates a session over the HTTP API and plays a simulated
// capture rendered from a photo over the capture WebSocket, in real time.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ff := addFaceFlags(fs)
	server, apiKey := addServerFlags(fs)
	imagePath := fs.String("image", "", "photo with the face to play (required)")
	otherPath := fs.String("other", "", "second person's photo for --attack swap (default: a sample photo of the model package)")
	attack := fs.String("attack", "none", "none|photo|replay|delayed|swap|noface")
	strength := fs.Float64("strength", simulate.DefaultStrength, "skin luminance change at full screen colour")
	awb := fs.Bool("awb", false, "simulate the camera's auto exposure / white balance compensation")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the geometry and noise")
	origin := fs.String("origin", "", "Origin header to send (default: the server's own origin)")
	start := fs.String("start", "far", "far|near: where the person begins (near: asked to move back first)")
	sceneKind := fs.String("scene", "default", "default: a typical laptop set-up; random: face shape, light and camera drawn from --seed (docs/ACCURACY.md)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd simulate --server URL --api-key KEY --image FACE.jpg --attack none|photo|replay|delayed|swap|noface [--start far|near] [--scene default|random] [--strength 0.03] [--awb]\n\n"+
			"Prints the session id, then last: status=... isLive=... confidence=...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	kind, perr := simulate.ParseAttack(*attack)
	if perr == nil {
		_, perr = simulate.ParseStart(*start)
	}
	if perr == nil && *sceneKind != "default" && *sceneKind != "random" {
		perr = fmt.Errorf("unknown --scene %q (want default or random)", *sceneKind)
	}
	if perr != nil || *imagePath == "" || *apiKey == "" || fs.NArg() > 0 || *strength <= 0 || *strength > 1 {
		fs.Usage()
		if perr != nil {
			return fmt.Errorf("%w: %v", errUsage, perr)
		}
		return fmt.Errorf("%w: need --image and --api-key", errUsage)
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
	img, err := imageio.ReadFile(*imagePath, imageio.DefaultLimits())
	if err != nil {
		return err
	}
	src, err := simulate.DetectSource(ctx, p, img)
	if err != nil {
		return fmt.Errorf("%s: %w", *imagePath, err)
	}
	var other *simulate.Source
	if kind == simulate.AttackSwap {
		op := *otherPath
		if op == "" {
			op = filepath.Join(*ff.dir, "samples", "sample1.jpg")
			if filepath.Base(*imagePath) == "sample1.jpg" {
				op = filepath.Join(*ff.dir, "samples", "sample2.jpg")
			}
		}
		oimg, err := imageio.ReadFile(op, imageio.DefaultLimits())
		if err != nil {
			return err
		}
		o, err := simulate.DetectSource(ctx, p, oimg)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		other = &o
	}

	client := &http.Client{Timeout: 30 * time.Second}
	id, token, err := createSession(ctx, client, base.String(), *apiKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "session %s\n", id)

	ws := *base
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	ws.Path += "/v1/liveness/session/" + id + "/stream"
	hdr := http.Header{}
	if *origin != "" {
		hdr.Set("Origin", *origin)
	}
	c, err := simulate.Dial(ctx, ws.String(), url.QueryEscape(token), hdr)
	if err != nil {
		return err
	}
	defer c.Close()
	ch := simulate.ChallengeOf(c.Challenge)
	scene := simulate.DefaultScene()
	if *sceneKind == "random" {
		scene = simulate.DrawScene(rand.New(rand.NewPCG(*seed, 0x5ce7e)))
		fmt.Fprintf(stdout, "scene %+v\n", scene)
	}
	pl, err := simulate.NewPlayer(src, ch, simulate.Options{Attack: kind, Strength: *strength, AWB: *awb, Seed: *seed, Other: other,
		Start: simulate.Start(*start), Scene: &scene})
	if err != nil {
		return err
	}
	playErr := simulate.Play(ctx, pl, c, simulate.PlayOptions{Realtime: true})
	status := ""
	if errors.Is(playErr, simulate.ErrNeverFlashed) {
		// No face ever held the oval (as with --attack noface): a browser
		// would give up here; closing makes the server fail the session.
		fmt.Fprintln(stderr, "simulate: the server never started the colours; ending the capture")
		_ = c.Close()
	} else {
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		st, werr := c.Wait(wctx)
		if werr != nil {
			return errors.Join(playErr, werr)
		}
		if playErr != nil {
			fmt.Fprintf(stderr, "simulate: %v\n", playErr)
		}
		status = st
	}
	var res simResult
	for try := 0; ; try++ {
		if res, err = getResult(ctx, client, base.String(), *apiKey, id); err == nil && (res.Status == "SUCCEEDED" || res.Status == "FAILED") {
			break
		}
		if try == 20 {
			return fmt.Errorf("no final result for session %s: %v", id, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if status == "" {
		status = res.Status
	}
	fmt.Fprintf(stdout, "status=%s isLive=%v confidence=%.2f\n", status, res.IsLive, res.Confidence)
	return nil
}

func createSession(ctx context.Context, client *http.Client, base, key string) (id, token string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/liveness/session", bytes.NewReader([]byte(`{"settings":{"auditImagesLimit":0}}`)))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		SessionID   string `json:"sessionId"`
		ClientToken string `json:"clientToken"`
	}
	if err := doJSON(client, req, &out); err != nil {
		return "", "", fmt.Errorf("create session: %w", err)
	}
	if out.SessionID == "" || out.ClientToken == "" {
		return "", "", fmt.Errorf("create session: response lacks sessionId or clientToken")
	}
	return out.SessionID, out.ClientToken, nil
}

type simResult struct {
	Status     string  `json:"status"`
	IsLive     bool    `json:"isLive"`
	Confidence float64 `json:"confidence"`
}

func getResult(ctx context.Context, client *http.Client, base, key, id string) (simResult, error) {
	var out simResult
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/liveness/session/"+url.PathEscape(id)+"/results", nil)
	if err != nil {
		return out, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if err := doJSON(client, req, &out); err != nil {
		return out, fmt.Errorf("results: %w", err)
	}
	return out, nil
}

func doJSON(client *http.Client, req *http.Request, out any) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 20<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
	}
	return json.Unmarshal(b, out)
}

// addServerFlags registers --server and --api-key (simulate, loadtest).
func addServerFlags(fs *flag.FlagSet) (server, apiKey *string) {
	server = fs.String("server", envOr("LIVENESS_SERVER", "http://127.0.0.1:8080"), "service base URL (env LIVENESS_SERVER)")
	apiKey = fs.String("api-key", os.Getenv("LIVENESS_API_KEY"), "API key (env LIVENESS_API_KEY)")
	return server, apiKey
}

// serverURL parses --server: an http(s) base URL without a trailing slash.
func serverURL(s string) (*url.URL, error) {
	base, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("%w: --server must be an http(s) URL", errUsage)
	}
	return base, nil
}
