// Package sqlite is the embedded default session store: one SQLite file in
// WAL mode through the pure-Go modernc.org/sqlite driver. It also keeps the
// hashes of API keys created with `livenessd keys create`.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/session"
)

// DefaultFile is the database file name inside the data directory.
const DefaultFile = "livenessd.db"

// MaxWALBytes bounds the write-ahead log kept between checkpoints.
const MaxWALBytes = 8 << 20

var (
	_ session.Store    = (*Store)(nil)
	_ session.Lockouts = (*Store)(nil)
	_ auth.KeyStore    = (*Store)(nil)
)

// Store is a session.Store and auth.KeyStore on one SQLite file.
type Store struct {
	db *sql.DB
}

// migrations are applied in order; PRAGMA user_version records how many ran.
var migrations = []string{
	`CREATE TABLE sessions (
		id                TEXT PRIMARY KEY,
		tenant            TEXT NOT NULL,
		status            TEXT NOT NULL,
		version           INTEGER NOT NULL,
		settings          TEXT NOT NULL,
		challenge         TEXT NOT NULL,
		created_at        INTEGER NOT NULL,
		expires_at        INTEGER NOT NULL,
		updated_at        INTEGER NOT NULL,
		client_token_hash BLOB,
		result            TEXT,
		reference_image   BLOB,
		audit_images      TEXT
	);
	CREATE INDEX sessions_expires_at ON sessions(expires_at);
	CREATE TABLE api_keys (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		hash       BLOB NOT NULL UNIQUE,
		created_at INTEGER NOT NULL
	);`,
	// Capture leases: crash recovery finds IN_PROGRESS sessions whose
	// process stopped renewing them.
	`ALTER TABLE sessions ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX sessions_in_progress ON sessions(lease_until) WHERE status = 'IN_PROGRESS';`,
	// Key lifecycle: several keys per tenant (empty: the tenant derived
	// from the hash, as before), last use, revocation.
	`ALTER TABLE api_keys ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
	ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;`,
	// End-user lockout: failed checks and locks by opaque key.
	`CREATE TABLE lockout_failures (key TEXT NOT NULL, at INTEGER NOT NULL);
	CREATE INDEX lockout_failures_key ON lockout_failures(key, at);
	CREATE TABLE lockouts (key TEXT PRIMARY KEY, until INTEGER NOT NULL);`,
}

// Open opens (creating if needed) the database file at path and migrates
// its schema.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Deleted content (purged biometric images) is overwritten with zeros
	// instead of lingering in free pages.
	q.Add("_pragma", "secure_delete(1)")
	// The WAL is cut back to this size after each checkpoint instead of
	// staying at its high-water mark (134 MB after 27.7k sessions).
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", MaxWALBytes))
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return s, nil
}

// Close checkpoints the WAL into the database and closes it.
func (s *Store) Close() error {
	return errors.Join(s.Checkpoint(context.Background()), s.db.Close())
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this binary's %d", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate: step %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	return tx.Commit()
}

// Ping implements session.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

type auditJSON struct {
	JPEG []byte                `json:"jpeg"`
	Box  livenessd.BoundingBox `json:"box"`
}

type row struct {
	settings, challenge, result, audit sql.NullString
	reference                          []byte
}

func encode(sess *livenessd.Session) (row, error) {
	var r row
	b, err := json.Marshal(sess.Settings)
	if err != nil {
		return r, err
	}
	r.settings = sql.NullString{String: string(b), Valid: true}
	if b, err = json.Marshal(sess.Challenge); err != nil {
		return r, err
	}
	r.challenge = sql.NullString{String: string(b), Valid: true}
	if sess.Result != nil {
		if b, err = json.Marshal(sess.Result); err != nil {
			return r, err
		}
		r.result = sql.NullString{String: string(b), Valid: true}
		r.reference = sess.Result.ReferenceImage
		if len(sess.Result.AuditImages) > 0 {
			imgs := make([]auditJSON, len(sess.Result.AuditImages))
			for i, a := range sess.Result.AuditImages {
				imgs[i] = auditJSON{JPEG: a.JPEG, Box: a.Box}
			}
			if b, err = json.Marshal(imgs); err != nil {
				return r, err
			}
			r.audit = sql.NullString{String: string(b), Valid: true}
		}
	}
	return r, nil
}

// Create implements session.Store.
func (s *Store) Create(ctx context.Context, sess *livenessd.Session) error {
	r, err := encode(sess)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", sess.ID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sessions
		(id, tenant, status, version, settings, challenge, created_at, expires_at, updated_at,
		 client_token_hash, result, reference_image, audit_images, lease_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, sess.Tenant, string(sess.Status), sess.Version, r.settings, r.challenge,
		sess.CreatedAt.UnixNano(), sess.ExpiresAt.UnixNano(), sess.UpdatedAt.UnixNano(),
		sess.ClientTokenHash, r.result, r.reference, r.audit, unixNano(sess.LeaseUntil))
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", sess.ID, err)
	}
	return nil
}

// Get implements session.Store.
func (s *Store) Get(ctx context.Context, id string) (*livenessd.Session, error) {
	var (
		sess                      livenessd.Session
		status                    string
		created, expires, updated int64
		lease                     int64
		r                         row
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, tenant, status, version, settings, challenge,
		created_at, expires_at, updated_at, client_token_hash, result, reference_image, audit_images, lease_until
		FROM sessions WHERE id = ?`, id).Scan(&sess.ID, &sess.Tenant, &status, &sess.Version,
		&r.settings, &r.challenge, &created, &expires, &updated, &sess.ClientTokenHash,
		&r.result, &r.reference, &r.audit, &lease)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("session %s: %w", id, livenessd.ErrSessionNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get %s: %w", id, err)
	}
	sess.Status = livenessd.Status(status)
	sess.CreatedAt = time.Unix(0, created).UTC()
	sess.ExpiresAt = time.Unix(0, expires).UTC()
	sess.UpdatedAt = time.Unix(0, updated).UTC()
	if lease != 0 {
		sess.LeaseUntil = time.Unix(0, lease).UTC()
	}
	if err := json.Unmarshal([]byte(r.settings.String), &sess.Settings); err != nil {
		return nil, fmt.Errorf("sqlite: get %s: settings: %w", id, err)
	}
	if err := json.Unmarshal([]byte(r.challenge.String), &sess.Challenge); err != nil {
		return nil, fmt.Errorf("sqlite: get %s: challenge: %w", id, err)
	}
	if r.result.Valid {
		var res livenessd.Result
		if err := json.Unmarshal([]byte(r.result.String), &res); err != nil {
			return nil, fmt.Errorf("sqlite: get %s: result: %w", id, err)
		}
		res.ReferenceImage = r.reference
		if r.audit.Valid {
			var imgs []auditJSON
			if err := json.Unmarshal([]byte(r.audit.String), &imgs); err != nil {
				return nil, fmt.Errorf("sqlite: get %s: audit images: %w", id, err)
			}
			for _, a := range imgs {
				res.AuditImages = append(res.AuditImages, livenessd.AuditImage{JPEG: a.JPEG, Box: a.Box})
			}
		}
		sess.Result = &res
	}
	return &sess, nil
}

// Update implements session.Store (compare-and-set on status and version).
func (s *Store) Update(ctx context.Context, sess *livenessd.Session, prev livenessd.Status, prevVersion int64) error {
	r, err := encode(sess)
	if err != nil {
		return fmt.Errorf("sqlite: update %s: %w", sess.ID, err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET status = ?, version = ?, settings = ?,
		challenge = ?, updated_at = ?, result = ?, reference_image = ?, audit_images = ?, lease_until = ?
		WHERE id = ? AND status = ? AND version = ?`,
		string(sess.Status), prevVersion+1, r.settings, r.challenge, sess.UpdatedAt.UnixNano(),
		r.result, r.reference, r.audit, unixNano(sess.LeaseUntil), sess.ID, string(prev), prevVersion)
	if err != nil {
		return fmt.Errorf("sqlite: update %s: %w", sess.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update %s: %w", sess.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: update %s (%s v%d): %w", sess.ID, prev, prevVersion, session.ErrConflict)
	}
	sess.Version = prevVersion + 1
	return nil
}

// RenewLease implements session.Store.
func (s *Store) RenewLease(ctx context.Context, id string, until time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET lease_until = ? WHERE id = ? AND status = ?`,
		unixNano(until), id, string(livenessd.StatusInProgress)); err != nil {
		return fmt.Errorf("sqlite: renew lease %s: %w", id, err)
	}
	return nil
}

// Interrupted implements session.Store.
func (s *Store) Interrupted(ctx context.Context, t time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions WHERE status = ? AND lease_until < ?`,
		string(livenessd.StatusInProgress), t.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("sqlite: interrupted captures: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: interrupted captures: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AddFailure implements session.Lockouts.
func (s *Store) AddFailure(ctx context.Context, key string, t time.Time, window time.Duration) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: lockout: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM lockout_failures WHERE key = ? AND at <= ?`, key, t.Add(-window).UnixNano()); err != nil {
		return 0, fmt.Errorf("sqlite: lockout: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lockout_failures (key, at) VALUES (?, ?)`, key, t.UnixNano()); err != nil {
		return 0, fmt.Errorf("sqlite: lockout: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM lockout_failures WHERE key = ?`, key).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: lockout: %w", err)
	}
	return n, tx.Commit()
}

// Lock implements session.Lockouts.
func (s *Store) Lock(ctx context.Context, key string, until time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO lockouts (key, until) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET until = max(until, excluded.until)`, key, until.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: lock: %w", err)
	}
	return nil
}

// LockedUntil implements session.Lockouts.
func (s *Store) LockedUntil(ctx context.Context, key string) (time.Time, error) {
	var until int64
	err := s.db.QueryRowContext(ctx, `SELECT until FROM lockouts WHERE key = ?`, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: locked until: %w", err)
	}
	return time.Unix(0, until).UTC(), nil
}

// unixNano is t in nanoseconds, 0 for the zero time (no lease).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete %s: %w", id, err)
	}
	return nil
}

// PurgeBiometrics implements session.Store.
func (s *Store) PurgeBiometrics(ctx context.Context, t time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET reference_image = NULL, audit_images = NULL
		WHERE expires_at <= ? AND (reference_image IS NOT NULL OR audit_images IS NOT NULL)`, t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge images: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return int(n), err
	}
	// The old row versions are still in the WAL: copy it into the
	// database (where secure_delete zeroed them) and truncate it.
	return int(n), s.Checkpoint(ctx)
}

// DeleteExpired implements session.Store.
func (s *Store) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired: %w", err)
	}
	// Lockout records older than any policy's window or lock are of no use.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM lockout_failures WHERE at <= ?; DELETE FROM lockouts WHERE until <= ?`,
		t.UnixNano(), t.UnixNano()); err != nil {
		return 0, fmt.Errorf("sqlite: delete old lockouts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return int(n), err
	}
	// Run by the purge loop: also the periodic checkpoint that keeps the
	// WAL small however busy the readers were since the last one.
	return int(n), s.Checkpoint(ctx)
}

// APIKeys implements auth.KeyStore.
func (s *Store) APIKeys(ctx context.Context) ([]auth.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, tenant, name, hash, created_at, last_used_at, revoked_at
		FROM api_keys ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: api keys: %w", err)
	}
	defer rows.Close()
	var keys []auth.APIKey
	for rows.Next() {
		var k auth.APIKey
		var created, used, revoked int64
		if err := rows.Scan(&k.ID, &k.Tenant, &k.Name, &k.Hash, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: api keys: %w", err)
		}
		k.CreatedAt = time.Unix(0, created).UTC()
		k.LastUsedAt = unixOrZero(used)
		k.RevokedAt = unixOrZero(revoked)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

func unixOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func zeroOrUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// CreateAPIKey implements auth.KeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k auth.APIKey) error {
	if len(k.Hash) == 0 || k.ID == "" {
		return errors.New("sqlite: create api key: empty id or hash")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (id, tenant, name, hash, created_at, last_used_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Tenant, k.Name, k.Hash, k.CreatedAt.UnixNano(), zeroOrUnix(k.LastUsedAt), zeroOrUnix(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create api key: %w", err)
	}
	return nil
}

// RevokeAPIKey implements auth.KeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
		WHERE id = ?`, at.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke api key %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("sqlite: revoke api key %q: %w", id, errors.Join(err, auth.ErrKeyNotFound))
	}
	return nil
}

// TouchAPIKeys implements auth.KeyStore.
func (s *Store) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: touch api keys: %w", err)
	}
	defer tx.Rollback()
	for id, t := range used {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = max(last_used_at, ?) WHERE id = ?`, t.UnixNano(), id); err != nil {
			return fmt.Errorf("sqlite: touch api key %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: touch api keys: %w", err)
	}
	return nil
}

// Checkpoint copies the WAL into the database file and truncates it, so
// deleted data no longer lingers in the WAL (also useful before backups).
func (s *Store) Checkpoint(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return nil
}
