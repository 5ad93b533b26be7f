package main

// mountHandlers mounts the handlers that live beside the API: the capture
// WebSocket (/v1/liveness/session/{sessionId}/stream), the Amplify endpoint,
// the SDK and demo pages. It is the one place to add them: use
// env.Server.Handle(pattern, handler), env.Server.RequireAPIKey for routes
// that need an API key, env.Pool for analyses, and env.OnShutdown to close
// long-lived connections during graceful shutdown.
func mountHandlers(env *mountEnv) error {
	if err := mountCapture(env); err != nil { // capture.go: SDK capture WebSocket
		return err
	}
	if err := mountWeb(env); err != nil { // web.go: SDK, capture page, demo
		return err
	}
	if err := mountAmplify(env); err != nil { // amplify.go: Amplify endpoint, assets, aws-results
		return err
	}
	if err := mountMetrics(env); err != nil { // observe.go: Prometheus /metrics
		return err
	}
	return nil
}
