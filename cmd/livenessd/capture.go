package main

import (
	"context"
	"time"

	"github.com/livenessd/livenessd/internal/capture"
)

// mountCapture mounts the SDK's capture WebSocket. Allowed browser origins
// come from LIVENESS_ALLOWED_ORIGINS (comma-separated host[:port]
// patterns); unset, only the service's own origin may connect.
func mountCapture(env *mountEnv) error {
	h := capture.NewHandler(capture.Config{
		Captures:          env.Sessions,
		Observer:          env.Pipeline,
		Analysis:          env.Config.livenessConfig(),
		WriteError:        env.Server.WriteError,
		Addresses:         env.Addresses,
		AuthFailures:      env.AuthFailures,
		StreamsPerAddress: streamsPerAddress(env.Config.StreamsPerAddress),
		Work:              env.Pool.Weighted(),
		CaptureSlots:      env.Admission,
		Frames:            env.Admission,
		Outcomes:          env.Outcomes,
		OriginPatterns:    splitList(envOr("LIVENESS_ALLOWED_ORIGINS", "")),
		MaxDuration:       env.Config.CaptureMaxDuration,
		MaxFrameLag:       maxFrameLag(env.Config.CaptureMaxLag),
		ReadTimeout:       env.Config.CaptureReadTimeout,
		// --capture-max-lag 0 turns the server-clock checks off, the
		// first colour's deadline with the frames' lag.
		FirstColorWithin: firstColorWithin(env.Config.CaptureMaxLag),
		Logger:           env.Logger,
	})
	env.Server.Handle("GET /v1/liveness/session/{sessionId}/stream", refuseWhileDraining(env.Server, h))
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

// firstColorWithin is the default deadline of the first colour, or off
// (negative) with --capture-max-lag 0.
func firstColorWithin(lag time.Duration) time.Duration {
	if lag == 0 {
		return -1
	}
	return 0 // capture.DefaultFirstColorWithin
}
