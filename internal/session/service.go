package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/livenessd/livenessd"
)

// Defaults of Config.
const (
	DefaultTTL           = 10 * time.Minute
	DefaultRetention     = 0
	DefaultRecordTTL     = 24 * time.Hour
	DefaultPurgeInterval = 30 * time.Second
	// DefaultLeaseTTL is how long a capture stays IN_PROGRESS after its
	// process stopped renewing it (crash, kill -9, lost machine).
	DefaultLeaseTTL = 15 * time.Second
	// MaxAuditImages is the largest settings.auditImagesLimit (as AWS).
	MaxAuditImages = 4
)

// ChallengeFunc draws a fresh random challenge for a new session
// (liveness.NewChallenge in production).
type ChallengeFunc func() (livenessd.Challenge, error)

// Config configures a Service. Zero durations take the defaults above.
type Config struct {
	Store      Store
	Challenges ChallengeFunc
	// TTL is how long a session can be captured after creation; its
	// ExpiresAt is CreatedAt+TTL.
	TTL time.Duration
	// ClientTokenTTL bounds the capture token's life; it is capped at TTL
	// (zero means TTL).
	ClientTokenTTL time.Duration
	// Retention is how long results and biometric data (reference and
	// audit images) are kept after ExpiresAt. Zero (the default) deletes
	// them at expiry. A negative value is invalid.
	Retention time.Duration
	// RecordTTL is how long the session record without images (status,
	// confidence) is kept after ExpiresAt+Retention, so a late reader gets
	// "expired" rather than "not found".
	RecordTTL time.Duration
	// PurgeInterval is the period of the purge loop started by Open.
	PurgeInterval time.Duration
	// LeaseTTL is the capture lease: a process renews the leases of its
	// captures every LeaseTTL/3, and any process marks a capture whose
	// lease ran out FAILED (DefaultLeaseTTL).
	LeaseTTL time.Duration
	// Exclusive says the store belongs to this process alone (the SQLite
	// file): at Open every IN_PROGRESS session is a capture cut by the
	// previous run, so it is marked FAILED at once, not after its lease.
	Exclusive bool
	// OnFinish, when set, is called after a session reached SUCCEEDED or
	// FAILED (webhooks, metrics). It must not block.
	OnFinish func(ctx context.Context, sess *livenessd.Session)
	// Lockouts counts failed checks per externalUserId; nil disables the
	// lockout.
	Lockouts Lockouts
	// Lockout is the policy (DefaultLockout).
	Lockout LockoutPolicy
	// Now is the clock; tests inject one. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// LockoutPolicy: after Failures FAILED checks of one externalUserId within
// Window, new sessions for it are refused for Duration.
type LockoutPolicy struct {
	Failures int
	Window   time.Duration
	Duration time.Duration
}

// DefaultLockout is 5 failures within 3 minutes: locked for 30 minutes.
var DefaultLockout = LockoutPolicy{Failures: 5, Window: 3 * time.Minute, Duration: 30 * time.Minute}

// LockedError is returned by Create for a locked-out end user; it wraps
// livenessd.ErrUserLocked and says until when.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "end user locked out until " + e.Until.UTC().Format(time.RFC3339)
}

func (e *LockedError) Unwrap() error { return livenessd.ErrUserLocked }

// Service is the session state machine. It implements Captures.
type Service struct {
	cfg Config

	mu     sync.Mutex
	active map[string]struct{} // captures begun by this process and not finished
	cancel context.CancelFunc
	loops  sync.WaitGroup
}

var _ Captures = (*Service)(nil)

// New validates cfg and returns a Service. Call Open to start the purge
// loop and Close to stop it.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("session: store required")
	}
	if cfg.Challenges == nil {
		return nil, errors.New("session: challenge source required")
	}
	if cfg.TTL < 0 || cfg.Retention < 0 || cfg.RecordTTL < 0 || cfg.PurgeInterval < 0 || cfg.ClientTokenTTL < 0 || cfg.LeaseTTL < 0 {
		return nil, errors.New("session: negative duration in config")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.ClientTokenTTL == 0 || cfg.ClientTokenTTL > cfg.TTL {
		cfg.ClientTokenTTL = cfg.TTL
	}
	if cfg.RecordTTL == 0 {
		cfg.RecordTTL = DefaultRecordTTL
	}
	if cfg.PurgeInterval == 0 {
		cfg.PurgeInterval = DefaultPurgeInterval
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Lockout == (LockoutPolicy{}) {
		cfg.Lockout = DefaultLockout
	}
	if cfg.Lockout.Failures < 1 || cfg.Lockout.Window <= 0 || cfg.Lockout.Duration <= 0 {
		return nil, errors.New("session: lockout policy needs failures >= 1 and positive window and duration")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, active: map[string]struct{}{}}, nil
}

// TTL is the configured session lifetime.
func (s *Service) TTL() time.Duration { return s.cfg.TTL }

// Retention is the configured retention after expiry.
func (s *Service) Retention() time.Duration { return s.cfg.Retention }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.cfg.Now() }

// Open marks the captures cut by a crash FAILED (all IN_PROGRESS sessions
// when the store is Exclusive) and starts the purge loop and the lease
// loop. It runs one purge immediately.
func (s *Service) Open() error {
	before := s.cfg.Now()
	if s.cfg.Exclusive {
		before = before.Add(100 * 365 * 24 * time.Hour) // every lease: no other process holds one
	}
	if _, err := s.RecoverInterrupted(context.Background(), before); err != nil {
		s.cfg.Logger.Error("session: recovery of interrupted captures failed", "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return errors.New("session: already open")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.loops.Add(2)
	go s.purgeLoop(ctx)
	go s.leaseLoop(ctx)
	return nil
}

// Close stops the loops and waits for them. It does not close the store.
func (s *Service) Close() error {
	s.mu.Lock()
	cancel := s.cancel
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		s.loops.Wait()
	}
	return nil
}

// InterruptedReason is the reason recorded on a capture cut by a crash.
const InterruptedReason = "Capture interrupted: the server running it stopped before the verdict"

// RecoverInterrupted marks FAILED every IN_PROGRESS session whose lease
// ended before t and that this process is not running, and returns how
// many it marked.
func (s *Service) RecoverInterrupted(ctx context.Context, t time.Time) (int, error) {
	ids, err := s.cfg.Store.Interrupted(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("session: interrupted captures: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range ids {
		s.mu.Lock()
		_, mine := s.active[id]
		s.mu.Unlock()
		if mine {
			continue
		}
		err := s.finish(ctx, id, &livenessd.Result{
			Status: livenessd.StatusFailed, Reason: InterruptedReason,
			Message: "Liveness check failed: " + InterruptedReason, Timestamp: s.cfg.Now().UTC(),
		})
		switch {
		case err == nil:
			n++
			s.cfg.Logger.Warn("session: capture interrupted by a crash marked FAILED", "session", id)
		case errors.Is(err, errNotInProgress), errors.Is(err, livenessd.ErrSessionNotFound):
		default:
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// leaseLoop renews the leases of this process's captures and recovers
// the captures of processes that died, every LeaseTTL/3.
func (s *Service) leaseLoop(ctx context.Context) {
	defer s.loops.Done()
	t := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		ids := make([]string, 0, len(s.active))
		for id := range s.active {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		until := s.cfg.Now().Add(s.cfg.LeaseTTL)
		for _, id := range ids {
			if err := s.cfg.Store.RenewLease(ctx, id, until); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("session: renew capture lease", "session", id, "err", err)
			}
		}
		if _, err := s.RecoverInterrupted(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("session: recover interrupted captures", "err", err)
		}
	}
}

func (s *Service) purgeLoop(ctx context.Context) {
	defer s.loops.Done()
	t := time.NewTicker(s.cfg.PurgeInterval)
	defer t.Stop()
	for {
		if _, _, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("session purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Purge runs one purge: it deletes the images of sessions past
// ExpiresAt+Retention and the records of sessions past
// ExpiresAt+Retention+RecordTTL.
func (s *Service) Purge(ctx context.Context) (imagesPurged, deleted int, err error) {
	now := s.cfg.Now()
	imagesPurged, err = s.cfg.Store.PurgeBiometrics(ctx, now.Add(-s.cfg.Retention))
	if err != nil {
		return 0, 0, fmt.Errorf("session: purge images: %w", err)
	}
	deleted, err = s.cfg.Store.DeleteExpired(ctx, now.Add(-s.cfg.Retention-s.cfg.RecordTTL))
	if err != nil {
		return imagesPurged, 0, fmt.Errorf("session: delete expired: %w", err)
	}
	if imagesPurged > 0 || deleted > 0 {
		s.cfg.Logger.Info("session purge", "images_purged", imagesPurged, "deleted", deleted)
	}
	return imagesPurged, deleted, nil
}

// Create starts a session for tenant with a fresh random id, challenge and
// client token. The token is returned once; only its SHA-256 is stored.
// Errors wrap livenessd.ErrInvalidRequest (bad settings) or
// livenessd.ErrSessionCreate.
func (s *Service) Create(ctx context.Context, tenant string, settings livenessd.Settings) (*livenessd.Session, string, error) {
	if tenant == "" {
		return nil, "", fmt.Errorf("session: create: empty tenant: %w", livenessd.ErrInvalidRequest)
	}
	if settings.AuditImagesLimit < 0 || settings.AuditImagesLimit > MaxAuditImages {
		return nil, "", fmt.Errorf("session: auditImagesLimit %d outside 0..%d: %w", settings.AuditImagesLimit, MaxAuditImages, livenessd.ErrInvalidRequest)
	}
	if err := s.checkLockout(ctx, tenant, settings.ExternalUserID); err != nil {
		return nil, "", err
	}
	id, err := NewID()
	if err != nil {
		return nil, "", fmt.Errorf("session: create: %v: %w", err, livenessd.ErrSessionCreate)
	}
	ch, err := s.cfg.Challenges()
	if err != nil {
		return nil, "", fmt.Errorf("session: create: challenge: %v: %w", err, livenessd.ErrSessionCreate)
	}
	token, hash, err := newClientToken()
	if err != nil {
		return nil, "", fmt.Errorf("session: create: %v: %w", err, livenessd.ErrSessionCreate)
	}
	now := s.cfg.Now().UTC()
	sess := &livenessd.Session{
		ID:              id,
		Tenant:          tenant,
		Status:          livenessd.StatusCreated,
		Settings:        settings,
		Challenge:       ch,
		CreatedAt:       now,
		ExpiresAt:       now.Add(s.cfg.TTL),
		ClientTokenHash: hash,
		UpdatedAt:       now,
	}
	if err := s.cfg.Store.Create(ctx, sess); err != nil {
		// Both kinds stay visible: an unreachable store is a 503 to retry.
		return nil, "", fmt.Errorf("session: create: %w: %w", err, livenessd.ErrSessionCreate)
	}
	return sess, token, nil
}

// Get returns tenant's session id with its effective status: a session that
// is not final at ExpiresAt reads as EXPIRED. Another tenant's session is
// reported as not found (livenessd.ErrSessionNotFound), exactly like a
// missing one.
func (s *Service) Get(ctx context.Context, tenant, id string) (*livenessd.Session, error) {
	sess, err := s.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(sess.Tenant), []byte(tenant)) != 1 {
		return nil, fmt.Errorf("session %s: %w", id, livenessd.ErrSessionNotFound)
	}
	return sess, nil
}

// Lookup returns session id regardless of tenant, with its effective
// status. Capture transports use it before checking their own credential.
func (s *Service) Lookup(ctx context.Context, id string) (*livenessd.Session, error) {
	return s.lookup(ctx, id)
}

func (s *Service) lookup(ctx context.Context, id string) (*livenessd.Session, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("session %q: %w", truncate(id, 64), livenessd.ErrSessionNotFound)
	}
	sess, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !sess.Status.Final() && !s.cfg.Now().Before(sess.ExpiresAt) {
		sess.Status = livenessd.StatusExpired
	}
	return sess, nil
}

// Purged reports whether sess's results and images are gone (or due to be
// deleted by the next purge): the time is past ExpiresAt+Retention.
func (s *Service) Purged(sess *livenessd.Session) bool {
	return !s.cfg.Now().Before(sess.ExpiresAt.Add(s.cfg.Retention))
}

// CheckClientToken checks the capture token given to the browser at
// creation against sess, in constant time. Errors wrap
// livenessd.ErrUnauthorized (wrong token) or livenessd.ErrSessionExpired
// (token or session expired).
func (s *Service) CheckClientToken(sess *livenessd.Session, token string) error {
	if sess == nil || len(sess.ClientTokenHash) != sha256.Size {
		return fmt.Errorf("session: no client token: %w", livenessd.ErrUnauthorized)
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], sess.ClientTokenHash) != 1 {
		return fmt.Errorf("session %s: client token does not match: %w", sess.ID, livenessd.ErrUnauthorized)
	}
	now := s.cfg.Now()
	if !now.Before(sess.CreatedAt.Add(s.cfg.ClientTokenTTL)) || !now.Before(sess.ExpiresAt) {
		return fmt.Errorf("session %s: client token expired: %w", sess.ID, livenessd.ErrSessionExpired)
	}
	return nil
}

// CheckCapture implements Captures: the session exists, authorize accepts
// it and it can still be captured (CREATED); nothing changes.
func (s *Service) CheckCapture(ctx context.Context, id string, authorize func(*livenessd.Session) error) (*livenessd.Session, error) {
	sess, err := s.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	if authorize != nil {
		if err := authorize(sess); err != nil {
			return nil, err
		}
	}
	switch sess.Status {
	case livenessd.StatusCreated:
		return sess, nil
	case livenessd.StatusExpired:
		return nil, fmt.Errorf("session %s: %w", id, livenessd.ErrSessionExpired)
	default:
		return nil, fmt.Errorf("session %s is %s: %w", id, sess.Status, livenessd.ErrSessionUsed)
	}
}

// BeginCapture implements Captures: CheckCapture, then CREATED ->
// IN_PROGRESS by compare-and-set, so of two concurrent captures exactly one
// wins.
func (s *Service) BeginCapture(ctx context.Context, id string, authorize func(*livenessd.Session) error) (*livenessd.Session, error) {
	for attempt := 0; ; attempt++ {
		sess, err := s.CheckCapture(ctx, id, authorize)
		if err != nil {
			return nil, err
		}
		prevVersion := sess.Version
		sess.Status = livenessd.StatusInProgress
		sess.UpdatedAt = s.cfg.Now().UTC()
		sess.LeaseUntil = sess.UpdatedAt.Add(s.cfg.LeaseTTL)
		err = s.cfg.Store.Update(ctx, sess, livenessd.StatusCreated, prevVersion)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("session %s: begin capture: %w", id, err)
		}
		s.mu.Lock()
		s.active[id] = struct{}{}
		s.mu.Unlock()
		return sess, nil
	}
}

// Complete implements Captures: it stores res on an IN_PROGRESS session and
// moves it to res.Status (SUCCEEDED or FAILED).
func (s *Service) Complete(ctx context.Context, id string, res livenessd.Result) error {
	if res.Status != livenessd.StatusSucceeded && res.Status != livenessd.StatusFailed {
		return fmt.Errorf("session %s: complete with status %q: %w", id, res.Status, livenessd.ErrInvalidRequest)
	}
	if res.Timestamp.IsZero() {
		res.Timestamp = s.cfg.Now().UTC()
	}
	return s.finish(ctx, id, &res)
}

// Abort implements Captures: an IN_PROGRESS session becomes FAILED with
// reason. Sessions in any other state are left as they are.
func (s *Service) Abort(ctx context.Context, id string, reason string) error {
	res := &livenessd.Result{
		Status:    livenessd.StatusFailed,
		Reason:    reason,
		Message:   "Liveness check failed: " + reason,
		Timestamp: s.cfg.Now().UTC(),
	}
	err := s.finish(ctx, id, res)
	if errors.Is(err, errNotInProgress) {
		return nil
	}
	return err
}

var errNotInProgress = errors.New("session is not in progress")

func (s *Service) finish(ctx context.Context, id string, res *livenessd.Result) error {
	for attempt := 0; ; attempt++ {
		// Read the stored status, not the effective one: a capture that
		// began before expiry may finish just after it.
		sess, err := s.cfg.Store.Get(ctx, id)
		if err != nil {
			return err
		}
		if sess.Status != livenessd.StatusInProgress {
			return fmt.Errorf("session %s is %s: %w (%w)", id, sess.Status, errNotInProgress, livenessd.ErrSessionUsed)
		}
		prevVersion := sess.Version
		sess.Status = res.Status
		r := *res
		sess.Result = &r
		sess.UpdatedAt = s.cfg.Now().UTC()
		sess.LeaseUntil = time.Time{}
		err = s.cfg.Store.Update(ctx, sess, livenessd.StatusInProgress, prevVersion)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("session %s: finish: %w", id, err)
		}
		s.mu.Lock()
		delete(s.active, id)
		s.mu.Unlock()
		if sess.Status == livenessd.StatusFailed && !serverFault(res.Reason) {
			s.countFailure(ctx, sess)
		}
		if s.cfg.OnFinish != nil {
			s.cfg.OnFinish(ctx, sess)
		}
		return nil
	}
}

// ShutdownReason is recorded on captures aborted by a graceful shutdown.
const ShutdownReason = "server shutting down"

// serverFault reports whether a failure was the server's, not the end
// user's: such failures never count towards a lockout.
func serverFault(reason string) bool {
	return reason == InterruptedReason || reason == ShutdownReason
}

// lockoutKey is the opaque key of an end user: the tenant and a hash of
// the externalUserId, so the lockout records never hold the id itself.
func lockoutKey(tenant, user string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + user))
	return hex.EncodeToString(h[:16])
}

func (s *Service) checkLockout(ctx context.Context, tenant, user string) error {
	if user == "" || s.cfg.Lockouts == nil {
		return nil
	}
	until, err := s.cfg.Lockouts.LockedUntil(ctx, lockoutKey(tenant, user))
	if err != nil {
		return fmt.Errorf("session: create: lockout: %w: %w", err, livenessd.ErrSessionCreate)
	}
	if s.cfg.Now().Before(until) {
		return &LockedError{Until: until}
	}
	return nil
}

// countFailure records a FAILED check of the session's end user and locks
// the user out once the policy's count is reached. Errors are logged: the
// verdict is already stored and must not be undone.
func (s *Service) countFailure(ctx context.Context, sess *livenessd.Session) {
	user := sess.Settings.ExternalUserID
	if user == "" || s.cfg.Lockouts == nil {
		return
	}
	p := s.cfg.Lockout
	key := lockoutKey(sess.Tenant, user)
	now := s.cfg.Now()
	n, err := s.cfg.Lockouts.AddFailure(ctx, key, now, p.Window)
	if err == nil && n >= p.Failures {
		err = s.cfg.Lockouts.Lock(ctx, key, now.Add(p.Duration))
		if err == nil {
			s.cfg.Logger.WarnContext(ctx, "session: end user locked out after repeated failed checks",
				"session", sess.ID, "failures", n, "window", p.Window, "until", now.Add(p.Duration).UTC())
		}
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "session: lockout count", "session", sess.ID, "err", err)
	}
}

// AbortActive aborts every capture this process began and has not finished
// (graceful shutdown, after the transports stopped), so no session stays
// IN_PROGRESS. It returns how many were aborted.
func (s *Service) AbortActive(ctx context.Context, reason string) (int, error) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.active))
	for id := range s.active {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	var errs []error
	n := 0
	for _, id := range ids {
		if err := s.finish(ctx, id, &livenessd.Result{
			Status: livenessd.StatusFailed, Reason: reason,
			Message: "Liveness check failed: " + reason, Timestamp: s.cfg.Now().UTC(),
		}); err != nil {
			if !errors.Is(err, errNotInProgress) {
				errs = append(errs, err)
			}
			s.mu.Lock()
			delete(s.active, id)
			s.mu.Unlock()
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// NewID returns a random (version 4) UUID from crypto/rand.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:]), nil
}

// ValidID reports whether id has the shape of an id made by NewID
// (lower-case hex UUID), so junk never reaches the store.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// newClientToken returns 32 random bytes as base64url (no padding) and the
// SHA-256 of that string.
func newClientToken() (token string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("client token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Ping reports whether the store answers (readiness).
func (s *Service) Ping(ctx context.Context) error { return s.cfg.Store.Ping(ctx) }
