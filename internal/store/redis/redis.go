// Package redis is the session store for several replicas: sessions,
// results, images and API key hashes in one Redis (or a Sentinel-managed
// primary; not Redis Cluster, whose slots would split a transition's keys).
//
// Every key carries a TTL, so biometric data disappears without a purge
// loop: a session's images expire at ExpiresAt+Retention, its image-free
// record at ExpiresAt+Retention+RecordTTL. Transitions are compare-and-set
// on (status, version) inside one Lua script, so of two replicas racing to
// start a capture of the same session exactly one wins.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/session"
)

// Defaults of Options.
const (
	DefaultPrefix    = "lvd:"
	DefaultRecordTTL = session.DefaultRecordTTL
)

var (
	_ session.Store    = (*Store)(nil)
	_ session.Lockouts = (*Store)(nil)
	_ auth.KeyStore    = (*Store)(nil)
)

// Options configure a Store. Retention and RecordTTL must equal the
// session service's (cmd/livenessd passes the same flags to both).
type Options struct {
	// URL is redis://[user:password@]host:port[/db] or rediss:// for TLS.
	URL string
	// Prefix starts every key (DefaultPrefix), so several deployments can
	// share one Redis.
	Prefix string
	// Retention keeps results and images past ExpiresAt.
	Retention time.Duration
	// RecordTTL keeps the image-free record past ExpiresAt+Retention.
	RecordTTL time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
	// OnUnavailable, when set, is called with the operation's name each
	// time Redis cannot serve a call (metrics).
	OnUnavailable func(op string)
}

// Store is a session.Store and auth.KeyStore on Redis.
type Store struct {
	rdb  *goredis.Client
	opt  Options
	keys keyNames
}

type keyNames struct{ prefix string }

func (k keyNames) session(id string) string   { return k.prefix + "s:" + id }
func (k keyNames) images(id string) string    { return k.prefix + "img:" + id }
func (k keyNames) inProgress() string         { return k.prefix + "inprogress" }
func (k keyNames) apiKeys() string            { return k.prefix + "apikeys" }
func (k keyNames) failures(key string) string { return k.prefix + "fail:" + key }
func (k keyNames) lock(key string) string     { return k.prefix + "lock:" + key }

// Key use and revocation live beside the immutable key records, as unix
// nanoseconds, so each changes atomically without rewriting the record.
func (k keyNames) apiKeysUsed() string    { return k.prefix + "apikeys:used" }
func (k keyNames) apiKeysRevoked() string { return k.prefix + "apikeys:revoked" }

// Open connects to the Redis at opt.URL and checks that it answers.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if opt.RecordTTL <= 0 {
		opt.RecordTTL = DefaultRecordTTL
	}
	if opt.Retention < 0 {
		return nil, errors.New("redis: negative retention")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	ro, err := goredis.ParseURL(opt.URL)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", RedactURL(opt.URL), err)
	}
	// Fail fast when Redis is down: a request answers 503 within about a
	// second instead of hanging on reconnects.
	ro.DialTimeout = 2 * time.Second
	ro.ReadTimeout = 2 * time.Second
	ro.WriteTimeout = 2 * time.Second
	ro.MaxRetries = 1
	ro.DisableIdentity = true
	s := &Store{rdb: goredis.NewClient(ro), opt: opt, keys: keyNames{opt.Prefix}}
	if err := s.Ping(ctx); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("redis: %s: %w", RedactURL(opt.URL), err)
	}
	return s, nil
}

// RedactURL drops the password of a Redis URL for messages and logs.
func RedactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.LastIndexByte(rest, '@'); j >= 0 {
			return u[:i+3] + "***@" + rest[j+1:]
		}
	}
	return u
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping implements session.Store.
func (s *Store) Ping(ctx context.Context) error {
	return s.wrap("ping", s.rdb.Ping(ctx).Err())
}

// wrap classifies a Redis error: anything but a missing key or the
// caller's own cancellation is an unreachable or failing store.
func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	if s.opt.OnUnavailable != nil {
		name, _, _ := strings.Cut(op, " ")
		s.opt.OnUnavailable(name)
	}
	return fmt.Errorf("redis: %s: %v: %w", op, err, livenessd.ErrStoreUnavailable)
}

// record is the stored session without its images.
type record struct {
	ID              string              `json:"id"`
	Tenant          string              `json:"tenant"`
	Settings        livenessd.Settings  `json:"settings"`
	Challenge       livenessd.Challenge `json:"challenge"`
	CreatedAt       time.Time           `json:"createdAt"`
	ExpiresAt       time.Time           `json:"expiresAt"`
	UpdatedAt       time.Time           `json:"updatedAt"`
	ClientTokenHash []byte              `json:"clientTokenHash,omitempty"`
	// Result's images are json:"-"; they live under the images key.
	Result *livenessd.Result `json:"result,omitempty"`
}

// images are a result's biometric data: opaque bytes to this store (an
// encrypting layer above may have sealed them).
type images struct {
	Reference []byte      `json:"ref,omitempty"`
	Audit     []auditJSON `json:"audit,omitempty"`
}

type auditJSON struct {
	JPEG []byte                `json:"jpeg"`
	Box  livenessd.BoundingBox `json:"box"`
}

// encoded is one session as the scripts take it.
type encoded struct {
	meta         []byte
	images       []byte // nil: no images (or past their expiry)
	recordExpiry int64  // unix ms
	imageExpiry  int64  // unix ms
	lease        int64  // unix ms, 0 = none
}

func (s *Store) encode(sess *livenessd.Session) (encoded, error) {
	var e encoded
	meta, err := json.Marshal(record{
		ID: sess.ID, Tenant: sess.Tenant, Settings: sess.Settings, Challenge: sess.Challenge,
		CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt, UpdatedAt: sess.UpdatedAt,
		ClientTokenHash: sess.ClientTokenHash, Result: sess.Result,
	})
	if err != nil {
		return e, err
	}
	e.meta = meta
	imagesUntil := sess.ExpiresAt.Add(s.opt.Retention)
	e.imageExpiry = imagesUntil.UnixMilli()
	e.recordExpiry = imagesUntil.Add(s.opt.RecordTTL).UnixMilli()
	if !sess.LeaseUntil.IsZero() {
		e.lease = sess.LeaseUntil.UnixMilli()
	}
	if r := sess.Result; r != nil && (len(r.ReferenceImage) > 0 || len(r.AuditImages) > 0) && s.opt.Now().Before(imagesUntil) {
		img := images{Reference: r.ReferenceImage}
		for _, a := range r.AuditImages {
			img.Audit = append(img.Audit, auditJSON{JPEG: a.JPEG, Box: a.Box})
		}
		if e.images, err = json.Marshal(img); err != nil {
			return e, err
		}
	}
	return e, nil
}

// createScript inserts a session unless its key exists.
// KEYS: session, images, inprogress. ARGV: status, version, meta,
// record expiry ms, images ("" none), image expiry ms, lease ms, id.
var createScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'version', ARGV[2], 'meta', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[2], ARGV[5])
  redis.call('PEXPIREAT', KEYS[2], ARGV[6])
end
if ARGV[1] == 'IN_PROGRESS' then redis.call('ZADD', KEYS[3], ARGV[7], ARGV[8]) end
return 1
`)

// updateScript is the compare-and-set transition.
// KEYS: session, images, inprogress. ARGV: prev status, prev version,
// new status, meta, record expiry ms, images ("" none), image expiry ms,
// lease ms, id.
var updateScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'status', 'version')
if not cur[1] or cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'version', tostring(tonumber(ARGV[2]) + 1), 'meta', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[2], ARGV[6])
  redis.call('PEXPIREAT', KEYS[2], ARGV[7])
else
  redis.call('DEL', KEYS[2])
end
if ARGV[3] == 'IN_PROGRESS' then
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[9])
else
  redis.call('ZREM', KEYS[3], ARGV[9])
end
return 1
`)

// renewScript moves the lease of an IN_PROGRESS session.
// KEYS: session, inprogress. ARGV: lease ms, id.
var renewScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'status') ~= 'IN_PROGRESS' then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[1], ARGV[2])
return 1
`)

func (s *Store) sessionKeys(id string) []string {
	return []string{s.keys.session(id), s.keys.images(id), s.keys.inProgress()}
}

// Create implements session.Store.
func (s *Store) Create(ctx context.Context, sess *livenessd.Session) error {
	e, err := s.encode(sess)
	if err != nil {
		return fmt.Errorf("redis: create %s: %w", sess.ID, err)
	}
	n, err := createScript.Run(ctx, s.rdb, s.sessionKeys(sess.ID),
		string(sess.Status), sess.Version, e.meta, e.recordExpiry, e.images, e.imageExpiry, e.lease, sess.ID).Int()
	if err != nil {
		return s.wrap("create "+sess.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("redis: create %s: session exists", sess.ID)
	}
	return nil
}

// Get implements session.Store. The record, its images and its lease are
// read in one transaction.
func (s *Store) Get(ctx context.Context, id string) (*livenessd.Session, error) {
	var hash *goredis.MapStringStringCmd
	var img *goredis.StringCmd
	var lease *goredis.FloatCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		hash = p.HGetAll(ctx, s.keys.session(id))
		img = p.Get(ctx, s.keys.images(id))
		lease = p.ZScore(ctx, s.keys.inProgress(), id)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.wrap("get "+id, err)
	}
	h := hash.Val()
	if len(h) == 0 {
		return nil, fmt.Errorf("session %s: %w", id, livenessd.ErrSessionNotFound)
	}
	var rec record
	if err := json.Unmarshal([]byte(h["meta"]), &rec); err != nil {
		return nil, fmt.Errorf("redis: get %s: %w", id, err)
	}
	version, err := strconv.ParseInt(h["version"], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redis: get %s: version: %w", id, err)
	}
	sess := &livenessd.Session{
		ID: rec.ID, Tenant: rec.Tenant, Status: livenessd.Status(h["status"]), Settings: rec.Settings,
		Challenge: rec.Challenge, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt, UpdatedAt: rec.UpdatedAt,
		ClientTokenHash: rec.ClientTokenHash, Result: rec.Result, Version: version,
	}
	if ms, err := lease.Result(); err == nil && ms > 0 {
		sess.LeaseUntil = time.UnixMilli(int64(ms)).UTC()
	}
	if b, err := img.Bytes(); err == nil && sess.Result != nil {
		var im images
		if err := json.Unmarshal(b, &im); err != nil {
			return nil, fmt.Errorf("redis: get %s: images: %w", id, err)
		}
		sess.Result.ReferenceImage = im.Reference
		for _, a := range im.Audit {
			sess.Result.AuditImages = append(sess.Result.AuditImages, livenessd.AuditImage{JPEG: a.JPEG, Box: a.Box})
		}
	}
	return sess, nil
}

// Update implements session.Store (compare-and-set on status and version).
func (s *Store) Update(ctx context.Context, sess *livenessd.Session, prev livenessd.Status, prevVersion int64) error {
	e, err := s.encode(sess)
	if err != nil {
		return fmt.Errorf("redis: update %s: %w", sess.ID, err)
	}
	n, err := updateScript.Run(ctx, s.rdb, s.sessionKeys(sess.ID),
		string(prev), prevVersion, string(sess.Status), e.meta, e.recordExpiry, e.images, e.imageExpiry, e.lease, sess.ID).Int()
	if err != nil {
		return s.wrap("update "+sess.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("redis: update %s (%s v%d): %w", sess.ID, prev, prevVersion, session.ErrConflict)
	}
	sess.Version = prevVersion + 1
	return nil
}

// RenewLease implements session.Store.
func (s *Store) RenewLease(ctx context.Context, id string, until time.Time) error {
	err := renewScript.Run(ctx, s.rdb, []string{s.keys.session(id), s.keys.inProgress()}, until.UnixMilli(), id).Err()
	return s.wrap("renew lease "+id, err)
}

// Interrupted implements session.Store. Entries of sessions whose record
// expired meanwhile are dropped from the index.
func (s *Store) Interrupted(ctx context.Context, t time.Time) ([]string, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, s.keys.inProgress(), &goredis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(t.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, s.wrap("interrupted captures", err)
	}
	out := ids[:0]
	for _, id := range ids {
		n, err := s.rdb.Exists(ctx, s.keys.session(id)).Result()
		if err != nil {
			return nil, s.wrap("interrupted captures", err)
		}
		if n == 0 {
			if err := s.rdb.ZRem(ctx, s.keys.inProgress(), id).Err(); err != nil {
				return nil, s.wrap("interrupted captures", err)
			}
			continue
		}
		out = append(out, id)
	}
	return out, nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.keys.session(id), s.keys.images(id))
		p.ZRem(ctx, s.keys.inProgress(), id)
		return nil
	})
	return s.wrap("delete "+id, err)
}

// PurgeBiometrics implements session.Store: Redis expires the images by
// itself at ExpiresAt+Retention, so there is nothing left to do.
func (s *Store) PurgeBiometrics(context.Context, time.Time) (int, error) { return 0, nil }

// DeleteExpired implements session.Store: records expire by their TTL.
func (s *Store) DeleteExpired(context.Context, time.Time) (int, error) { return 0, nil }

// failureScript records a failure and counts the ones in the window.
// KEYS: failures zset. ARGV: t ms, window start ms, member, ttl ms.
var failureScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
`)

// AddFailure implements session.Lockouts. The set expires with its window.
func (s *Store) AddFailure(ctx context.Context, key string, t time.Time, window time.Duration) (int, error) {
	member := strconv.FormatInt(t.UnixNano(), 10) + ":" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
	n, err := failureScript.Run(ctx, s.rdb, []string{s.keys.failures(key)},
		t.UnixMilli(), t.Add(-window).UnixMilli(), member, max(window.Milliseconds(), 1)).Int()
	if err != nil {
		return 0, s.wrap("lockout", err)
	}
	return n, nil
}

// Lock implements session.Lockouts; the lock key expires at until.
func (s *Store) Lock(ctx context.Context, key string, until time.Time) error {
	if !until.After(s.opt.Now()) {
		return nil
	}
	err := s.rdb.SetArgs(ctx, s.keys.lock(key), until.UnixMilli(), goredis.SetArgs{ExpireAt: until}).Err()
	return s.wrap("lock", err)
}

// LockedUntil implements session.Lockouts.
func (s *Store) LockedUntil(ctx context.Context, key string) (time.Time, error) {
	ms, err := s.rdb.Get(ctx, s.keys.lock(key)).Int64()
	if errors.Is(err, goredis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, s.wrap("locked until", err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// APIKeys implements auth.KeyStore.
func (s *Store) APIKeys(ctx context.Context) ([]auth.APIKey, error) {
	pipe := s.rdb.Pipeline()
	recs := pipe.HGetAll(ctx, s.keys.apiKeys())
	used := pipe.HGetAll(ctx, s.keys.apiKeysUsed())
	revoked := pipe.HGetAll(ctx, s.keys.apiKeysRevoked())
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.wrap("api keys", err)
	}
	nanos := func(m map[string]string, id string) time.Time {
		n, err := strconv.ParseInt(m[id], 10, 64)
		if err != nil || n == 0 {
			return time.Time{}
		}
		return time.Unix(0, n).UTC()
	}
	keys := make([]auth.APIKey, 0, len(recs.Val()))
	for id, v := range recs.Val() {
		var k auth.APIKey
		if err := json.Unmarshal([]byte(v), &k); err != nil {
			return nil, fmt.Errorf("redis: api key %s: %w", id, err)
		}
		k.LastUsedAt = nanos(used.Val(), id)
		k.RevokedAt = nanos(revoked.Val(), id)
		keys = append(keys, k)
	}
	// Listed by creation, as the SQLite store lists them.
	slices.SortFunc(keys, func(a, b auth.APIKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return keys, nil
}

var revokeScript = goredis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
return 1`)

// RevokeAPIKey implements auth.KeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	n, err := revokeScript.Run(ctx, s.rdb, []string{s.keys.apiKeys(), s.keys.apiKeysRevoked()}, id, at.UnixNano()).Int()
	if err != nil {
		return s.wrap("revoke api key", err)
	}
	if n == 0 {
		return fmt.Errorf("redis: revoke api key %q: %w", id, auth.ErrKeyNotFound)
	}
	return nil
}

var touchScript = goredis.NewScript(`
for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
    if tonumber(ARGV[i+1]) > cur then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i+1]) end
  end
end
return 0`)

// TouchAPIKeys implements auth.KeyStore.
func (s *Store) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(used))
	for id, t := range used {
		args = append(args, id, strconv.FormatInt(t.UnixNano(), 10))
	}
	if err := touchScript.Run(ctx, s.rdb, []string{s.keys.apiKeys(), s.keys.apiKeysUsed()}, args...).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return s.wrap("touch api keys", err)
	}
	return nil
}

// CreateAPIKey implements auth.KeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k auth.APIKey) error {
	if len(k.Hash) == 0 || k.ID == "" {
		return errors.New("redis: create api key: empty id or hash")
	}
	use, revoked := k.LastUsedAt, k.RevokedAt
	k.LastUsedAt, k.RevokedAt = time.Time{}, time.Time{} // kept beside the record
	b, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("redis: create api key: %w", err)
	}
	ok, err := s.rdb.HSetNX(ctx, s.keys.apiKeys(), k.ID, b).Result()
	if err != nil {
		return s.wrap("create api key", err)
	}
	if !ok {
		return fmt.Errorf("redis: create api key: id %s exists", k.ID)
	}
	if !use.IsZero() {
		if err := s.TouchAPIKeys(ctx, map[string]time.Time{k.ID: use}); err != nil {
			return err
		}
	}
	if !revoked.IsZero() {
		return s.RevokeAPIKey(ctx, k.ID, revoked)
	}
	return nil
}

// Client is the underlying client, for the shared rate limiter.
func (s *Store) Client() *goredis.Client { return s.rdb }
