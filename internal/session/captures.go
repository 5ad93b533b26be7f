// Package session owns the liveness session state machine: creation with a
// random challenge, tenant isolation, expiry, one-time capture, results, and
// the purge of biometric data. Storage is behind the Store interface.
package session

import (
	"context"

	"github.com/livenessd/livenessd"
)

// Captures is what a capture transport (the SDK WebSocket, the Amplify
// endpoint) needs from the session service. *Service implements it.
type Captures interface {
	// CheckCapture authorises a capture of session id without starting it:
	// the session exists, authorize accepts it (its error is returned as
	// is) and it is still CREATED. Transports call it before they commit
	// anything to the client (a capture slot, an upgraded connection), so
	// an unauthenticated caller costs one lookup. BeginCapture checks again.
	// Errors: livenessd.ErrSessionNotFound, ErrSessionExpired, ErrSessionUsed.
	CheckCapture(ctx context.Context, id string, authorize func(*livenessd.Session) error) (*livenessd.Session, error)
	// BeginCapture authorises a capture of session id and moves it from
	// CREATED to IN_PROGRESS atomically, so a session takes one capture only.
	// authorize is called with the stored session before the transition and
	// its error is returned as is (the transport checks its own credential:
	// the SDK's clientToken via CheckClientToken, Amplify's SigV4 tenant...).
	// Errors: livenessd.ErrSessionNotFound, ErrSessionExpired, ErrSessionUsed.
	BeginCapture(ctx context.Context, id string, authorize func(*livenessd.Session) error) (*livenessd.Session, error)
	// Complete stores the verdict of an IN_PROGRESS session and moves it to
	// res.Status (SUCCEEDED or FAILED).
	Complete(ctx context.Context, id string, res livenessd.Result) error
	// Abort marks an IN_PROGRESS session FAILED with a reason (broken
	// connection, protocol violation), so it never stays IN_PROGRESS.
	Abort(ctx context.Context, id string, reason string) error
	// CheckClientToken is the one check of the capture token given to the
	// browser at creation: constant-time hash comparison and the token's
	// expiry. Errors: livenessd.ErrUnauthorized, ErrSessionExpired.
	CheckClientToken(sess *livenessd.Session, token string) error
}
