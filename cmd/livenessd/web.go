package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/api/apiface"
	"github.com/livenessd/livenessd/web"
)

// demoFlag is --demo (LIVENESS_DEMO). Unset means "on with --dev", so
// `make run` shows the demo and production does not, unless asked.
type demoFlag struct{ set, on bool }

func (d *demoFlag) String() string {
	if d == nil || !d.set {
		return "auto"
	}
	return strconv.FormatBool(d.on)
}

func (d *demoFlag) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	d.set, d.on = true, b
	return nil
}

func (d *demoFlag) IsBoolFlag() bool { return true }

// enabled reports whether the demo is served.
func (d demoFlag) enabled(dev bool) bool {
	if d.set {
		return d.on
	}
	return dev
}

// registerDemoFlag adds --demo to fs, defaulting from LIVENESS_DEMO.
func registerDemoFlag(fs *flag.FlagSet, d *demoFlag) error {
	var err error
	if s := os.Getenv("LIVENESS_DEMO"); s != "" {
		if e := d.Set(s); e != nil {
			err = fmt.Errorf("LIVENESS_DEMO=%q: %v", s, e)
		}
	}
	fs.Var(d, "demo", "serve the demo page /demo and its routes (default: on with --dev) (env LIVENESS_DEMO)")
	return err
}

// demoAuth accepts one in-memory secret as the "demo" tenant. The demo's
// API instance uses it, so no real API key exists for the demo: nothing to
// leak, nothing to revoke, gone when the process exits.
type demoAuth struct{ secret string }

const demoTenant = "demo"

func (a demoAuth) Authenticate(_ context.Context, key string) (string, error) {
	if key != "" && subtle.ConstantTimeCompare([]byte(key), []byte(a.secret)) == 1 {
		return demoTenant, nil
	}
	return "", fmt.Errorf("demo: invalid key: %w", livenessd.ErrUnauthorized)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mountWeb mounts the SDK, the capture page and, when enabled, the demo
// (package web). The demo routes call a second api.Server in process that
// shares the session service, face pipeline, document scanner and worker
// pool with the main one but authenticates only the demo's in-memory secret
// as tenant "demo".
func mountWeb(env *mountEnv) error {
	cfg := web.Config{
		FrameAncestors:  splitList(os.Getenv("LIVENESS_CAPTURE_FRAME_ANCESTORS")),
		RedirectOrigins: splitList(os.Getenv("LIVENESS_CAPTURE_REDIRECT_ORIGINS")),
		Demo:            env.Config.Demo.enabled(env.Config.Dev),
		Logger:          env.Logger,
	}
	if cfg.Demo {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("demo key: %w", err)
		}
		secret := base64.RawURLEncoding.EncodeToString(b)
		var faces api.FaceComparer
		if env.Pipeline != nil {
			faces = apiface.New(env.Pipeline)
		}
		var docs api.DocumentScanner
		if env.Documents != nil {
			docs = env.Documents
		}
		demoAPI, err := api.New(api.Config{
			Sessions:            env.Sessions,
			Auth:                demoAuth{secret: secret},
			Faces:               faces,
			Documents:           docs,
			ImageLimits:         env.ImageLimits,
			Pool:                env.Pool,
			RateLimit:           env.Config.RateLimit,
			RateBurst:           env.Config.RateBurst,
			SimilarityThreshold: env.Config.SimilarityThreshold,
			LivenessThreshold:   env.Config.LivenessThreshold,
			RetryAfter:          env.Config.QueueWait,
			Logger:              env.Logger,
		})
		if err != nil {
			return fmt.Errorf("demo api: %w", err)
		}
		cfg.DemoAPI = demoAPI
		cfg.DemoAPIKey = secret
	}
	h := web.Handler(cfg)
	for _, p := range web.Patterns(cfg) {
		env.Server.Handle(p, h)
	}
	if cfg.Demo {
		env.Server.Handle("GET /{$}", http.RedirectHandler("/demo", http.StatusFound))
		env.Logger.Info("demo enabled: open /demo (turn it off with --demo=false or LIVENESS_DEMO=false)")
	}
	return nil
}
