package session

import (
	"context"
	"errors"
	"time"

	"github.com/livenessd/livenessd"
)

// ErrConflict is returned by Store.Update when the stored session no longer
// has the status and version the caller read: another request (or replica)
// changed it first. The Service re-reads and decides again.
var ErrConflict = errors.New("session: concurrent update")

// Store keeps sessions. Implementations: internal/store/sqlite (embedded
// default) and internal/store/redis (several replicas). All methods are
// safe for concurrent use. Errors of an unreachable store wrap
// livenessd.ErrStoreUnavailable.
type Store interface {
	// Create inserts a new session. Its Version is stored as given (0).
	Create(ctx context.Context, s *livenessd.Session) error
	// Get returns the session with its result and images, or an error
	// wrapping livenessd.ErrSessionNotFound.
	Get(ctx context.Context, id string) (*livenessd.Session, error)
	// Update replaces the stored session s.ID with s (status, result,
	// images, UpdatedAt) and sets its version to prevVersion+1, but only if
	// the stored row still has status prev and version prevVersion
	// (compare-and-set); otherwise it returns ErrConflict and changes
	// nothing. On success s.Version is prevVersion+1.
	Update(ctx context.Context, s *livenessd.Session, prev livenessd.Status, prevVersion int64) error
	// Delete removes a session; deleting a missing session is not an error.
	Delete(ctx context.Context, id string) error
	// PurgeBiometrics deletes the reference and audit images of every
	// session that expired by t (ExpiresAt <= t) and reports how many
	// sessions lost images.
	PurgeBiometrics(ctx context.Context, t time.Time) (int, error)
	// DeleteExpired deletes every session that expired by t (ExpiresAt <= t), and
	// reports how many.
	DeleteExpired(ctx context.Context, t time.Time) (int, error)
	// RenewLease moves the capture lease (LeaseUntil) of session id to
	// until, without changing its version, if it is still IN_PROGRESS;
	// otherwise it does nothing and returns nil.
	RenewLease(ctx context.Context, id string, until time.Time) error
	// Interrupted returns the ids of IN_PROGRESS sessions whose lease ended
	// before t: captures whose process died.
	Interrupted(ctx context.Context, t time.Time) ([]string, error)
	// Ping reports whether the store can serve requests (readiness).
	Ping(ctx context.Context) error
}

// Lockouts counts failed checks per end user (the stores implement it).
// Keys are opaque: the service passes the tenant and a hash of the
// externalUserId, never the id itself.
type Lockouts interface {
	// AddFailure records a failed check of key at t, forgets the ones at
	// or before t-window, and returns how many remain.
	AddFailure(ctx context.Context, key string, t time.Time, window time.Duration) (int, error)
	// Lock refuses key until the time given.
	Lock(ctx context.Context, key string, until time.Time) error
	// LockedUntil returns the end of key's lock (zero when none).
	LockedUntil(ctx context.Context, key string) (time.Time, error)
}
