package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/session"
)

// shutdownPlan is what a graceful shutdown acts on.
type shutdownPlan struct {
	Timeout    time.Duration // the whole shutdown ends within it
	DrainDelay time.Duration // /readyz 503 while still serving
	Server     *api.Server
	HTTP       *http.Server
	ServeErr   <-chan error
	// CancelRequests cancels every request's context.
	CancelRequests context.CancelFunc
	// Transports stop taking captures and let running ones finish until
	// their context ends (capture WebSocket, metrics listener...).
	Transports []func(context.Context) error
	Sessions   *session.Service
	Hooks      *finishHooks
	Log        *slog.Logger
}

// shutdown drains within p.Timeout, in this order:
//  1. /readyz answers 503 and, for DrainDelay, requests are still served
//     (load balancers take the replica out);
//  2. the listener closes; requests in flight and captures running go on
//     until the drain deadline (Timeout minus a reserve), then requests
//     still running are cancelled (they answer 503 5001) and captures end
//     with 1001;
//  3. sessions still IN_PROGRESS are marked FAILED, queued webhooks get
//     what time is left; the caller's deferred closes follow.
func shutdown(p shutdownPlan) error {
	start := time.Now()
	hard := start.Add(p.Timeout)
	reserve := min(2*time.Second, p.Timeout/5)
	drainBy := hard.Add(-reserve)
	p.Log.Info("shutting down: not ready, draining", "timeout", p.Timeout, "drain_delay", p.DrainDelay)
	p.Server.SetDraining(true)
	if p.DrainDelay > 0 {
		time.Sleep(p.DrainDelay) // keep answering while load balancers notice /readyz
	}

	dctx, cancel := context.WithDeadline(context.Background(), drainBy)
	defer cancel()
	// A second before the drain deadline, requests still running are told
	// to stop, so they answer before the connections are closed.
	stopRequests := time.AfterFunc(time.Until(drainBy.Add(-min(time.Second, reserve))), p.CancelRequests)
	defer stopRequests.Stop()

	errs := make(chan error, len(p.Transports)+1)
	go func() {
		err := p.HTTP.Shutdown(dctx)
		if err != nil {
			err = errors.Join(fmt.Errorf("http drain: %w", err), p.HTTP.Close())
		}
		errs <- err
	}()
	for _, f := range p.Transports {
		go func() { errs <- f(dctx) }()
	}
	var all []error
	for range len(p.Transports) + 1 {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}

	hctx, hcancel := context.WithDeadline(context.Background(), hard.Add(-reserve/4))
	defer hcancel()
	if n, err := p.Sessions.AbortActive(hctx, session.ShutdownReason); err != nil {
		all = append(all, err)
	} else if n > 0 {
		p.Log.Info("aborted in-progress sessions", "count", n)
	}
	if err := p.Hooks.drain(hctx); err != nil {
		p.Log.Warn("webhooks left undelivered at shutdown", "err", err)
	}
	if err := <-p.ServeErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		all = append(all, err)
	}
	p.Log.Info("shutdown complete", "took", time.Since(start).Round(time.Millisecond))
	return errors.Join(all...)
}

// refuseWhileDraining refuses new captures from the first moment of a
// graceful shutdown (503 5001, Retry-After), while the ones already
// running go on: a capture started now might not finish before the exit.
func refuseWhileDraining(srv *api.Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv.Draining() {
			srv.WriteError(w, r, fmt.Errorf("capture refused: server shutting down: %w", livenessd.ErrOverloaded))
			return
		}
		h.ServeHTTP(w, r)
	})
}
