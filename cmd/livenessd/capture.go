package main

import (
	"context"
	"time"

	"github.com/livenessd/livenessd/internal/capture"
	"github.com/livenessd/livenessd/internal/liveness"
)

// mountCapture mounts the SDK's capture WebSocket. Allowed browser origins
// come from LIVENESS_ALLOWED_ORIGINS (comma-separated host[:port]
// patterns); unset, only the service's own origin may connect.
func mountCapture(env *mountEnv) error {
	h := capture.NewHandler(capture.Config{
		Captures:          env.Sessions,
		Observer:          env.Pipeline,
		Analysis:          liveness.Config{Threshold: env.Config.LivenessThreshold},
		WriteError:        env.Server.WriteError,
		Addresses:         env.Addresses,
		AuthFailures:      env.AuthFailures,
		StreamsPerAddress: streamsPerAddress(env.Config.StreamsPerAddress),
		Work:              env.Pool.Weighted(),
		OriginPatterns:    splitList(envOr("LIVENESS_ALLOWED_ORIGINS", "")),
		MaxDuration:       env.Config.CaptureMaxDuration,
		MaxFrameLag:       maxFrameLag(env.Config.CaptureMaxLag),
		Logger:            env.Logger,
	})
	env.Server.Handle("GET /v1/liveness/session/{sessionId}/stream", h)
	env.OnShutdown(func(ctx context.Context) error { return h.Shutdown(ctx) })
	return nil
}

// maxFrameLag maps the flag (0: off) to capture.Config (negative: off).
func maxFrameLag(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// streamsPerAddress maps the flag (0: no limit) to the handlers' configs
// (0: the default, negative: no limit).
func streamsPerAddress(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
