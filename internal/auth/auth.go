// Package auth holds the API keys: creation, hashing, and a keyring that
// authenticates a presented Bearer key in constant time against hashes only.
// The key itself is never stored or kept in memory after it is hashed.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/livenessd/livenessd"
)

// KeyPrefix starts every key made by NewKey, so leaked keys are easy to
// recognise by secret scanners.
const KeyPrefix = "lvd_"

// APIKey is a stored key: only the SHA-256 of the key text is kept. A
// tenant may hold several keys (rotation without downtime: create the new
// key, move the clients, revoke the old one).
type APIKey struct {
	ID     string // short public id (derived from the hash)
	Tenant string // tenant the key acts for; empty in records older than tenants: TenantOf(Hash)
	Name   string // label given at creation
	Hash   []byte // SHA-256 of the key text
	// CreatedAt, LastUsedAt (zero: never; recorded to within the keyring's
	// reload interval) and RevokedAt (zero: active).
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// TenantID is the tenant the key acts for.
func (k APIKey) TenantID() string {
	if k.Tenant != "" {
		return k.Tenant
	}
	return TenantOf(k.Hash)
}

// Active reports whether the key has not been revoked.
func (k APIKey) Active() bool { return k.RevokedAt.IsZero() }

// ErrKeyNotFound is returned for an unknown key id.
var ErrKeyNotFound = errors.New("auth: no such API key")

// KeyStore lists and stores API keys (the SQLite and Redis stores
// implement it).
type KeyStore interface {
	// APIKeys returns every key, revoked ones included, oldest first.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// CreateAPIKey stores a new key; an existing id is an error.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// RevokeAPIKey marks key id revoked at at. Revoking a revoked key
	// keeps its first time. Errors: ErrKeyNotFound.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// TouchAPIKeys records the last use of keys (id -> time); a stored
	// time that is later is kept, unknown ids are ignored.
	TouchAPIKeys(ctx context.Context, used map[string]time.Time) error
}

// Hash returns the SHA-256 of a key's text.
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// TenantOf derives the tenant id from a key hash: "t_" and 24 hex digits of
// SHA-256("livenessd tenant" || hash).
func TenantOf(hash []byte) string {
	h := sha256.New()
	h.Write([]byte("livenessd tenant\x00"))
	h.Write(hash)
	return "t_" + hex.EncodeToString(h.Sum(nil))[:24]
}

// NewKey makes a random key (32 bytes from crypto/rand, base64url, prefixed
// with KeyPrefix) and its record named name, for a new tenant.
func NewKey(name string, now time.Time) (key string, rec APIKey, err error) {
	return NewKeyFor("", name, now)
}

// NewKeyFor is NewKey for tenant (a tenant id as `livenessd keys list`
// shows it); an empty tenant makes a new one, derived from the key's hash.
func NewKeyFor(tenant, name string, now time.Time) (key string, rec APIKey, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", APIKey{}, fmt.Errorf("auth: random key: %w", err)
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	hash := Hash(key)
	if tenant == "" {
		tenant = TenantOf(hash)
	}
	return key, APIKey{ID: TenantOf(hash)[2:14], Tenant: tenant, Name: name, Hash: hash, CreatedAt: now.UTC()}, nil
}

// ValidTenant reports whether s has the shape of a tenant id ("t_" and 24
// lower-case hex digits).
func ValidTenant(s string) bool {
	if len(s) != 26 || s[:2] != "t_" {
		return false
	}
	_, err := hex.DecodeString(s[2:])
	return err == nil && strings.ToLower(s) == s
}

// ParseKeyList splits a comma-separated list (LIVENESS_API_KEYS) into keys,
// dropping blanks. Keys shorter than 16 characters are refused.
func ParseKeyList(s string) ([]string, error) {
	var keys []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if len(k) < 16 {
			return nil, fmt.Errorf("auth: API key of %d characters is too short (at least 16)", len(k))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Keyring authenticates Bearer keys. It holds only hashes. Stored keys are
// re-read on the first authentication reloadEvery after the last read, so
// a key revoked on any replica stops within that time; an unknown key
// also triggers a read, at most once a second, so a new key works at once.
type Keyring struct {
	store       KeyStore // may be nil
	reloadEvery time.Duration
	now         func() time.Time

	reloading sync.Mutex // one reload at a time; the others use what is loaded
	mu        sync.RWMutex
	static    []entry // from configuration
	stored    []entry // active keys from the store
	used      map[string]time.Time
	lastLoad  time.Time
}

type entry struct {
	hash   []byte
	id     string // empty for configured keys (nothing to record)
	tenant string
}

// NewKeyring hashes the configured keys (each its own tenant, derived from
// its hash) and loads the stored ones.
func NewKeyring(ctx context.Context, keys []string, store KeyStore, reloadEvery time.Duration) (*Keyring, error) {
	kr := &Keyring{store: store, reloadEvery: reloadEvery, now: time.Now, used: map[string]time.Time{}}
	for _, k := range keys {
		h := Hash(k)
		kr.static = append(kr.static, entry{hash: h, tenant: TenantOf(h)})
	}
	if err := kr.Reload(ctx); err != nil {
		return nil, err
	}
	return kr, nil
}

// Reload records the last uses seen since the previous reload, then
// re-reads the stored keys; revoked ones stop authenticating.
func (kr *Keyring) Reload(ctx context.Context) error {
	loadErr, touchErr := kr.reload(ctx)
	return errors.Join(loadErr, touchErr)
}

func (kr *Keyring) reload(ctx context.Context) (loadErr, touchErr error) {
	if kr.store == nil {
		return nil, nil
	}
	kr.mu.Lock()
	used := kr.used
	kr.used = map[string]time.Time{}
	kr.mu.Unlock()
	if len(used) > 0 {
		if err := kr.store.TouchAPIKeys(ctx, used); err != nil {
			touchErr = fmt.Errorf("auth: record key use: %w", err)
			kr.mu.Lock()
			for id, t := range used { // try again with the next reload
				if t.After(kr.used[id]) {
					kr.used[id] = t
				}
			}
			kr.mu.Unlock()
		}
	}
	recs, err := kr.store.APIKeys(ctx)
	if err != nil {
		return fmt.Errorf("auth: load keys: %w", err), touchErr
	}
	entries := make([]entry, 0, len(recs))
	for _, r := range recs {
		if r.Active() {
			entries = append(entries, entry{hash: r.Hash, id: r.ID, tenant: r.TenantID()})
		}
	}
	kr.mu.Lock()
	kr.stored = entries
	kr.lastLoad = kr.now()
	kr.mu.Unlock()
	return nil, touchErr
}

// Len is the number of active keys known.
func (kr *Keyring) Len() int {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return len(kr.static) + len(kr.stored)
}

// Authenticate returns the tenant of key, or an error wrapping
// livenessd.ErrUnauthorized. The presented key is hashed and compared with
// every known hash with subtle.ConstantTimeCompare (no early exit).
func (kr *Keyring) Authenticate(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("missing API key: %w", livenessd.ErrUnauthorized)
	}
	if err := kr.reloadIfOlder(ctx, kr.reloadEvery); err != nil {
		return "", err
	}
	h := Hash(key)
	tenant, ok := kr.match(h)
	if !ok {
		// A key created moments ago: look again, at most once a second
		// whatever the number of wrong keys presented.
		if err := kr.reloadIfOlder(ctx, min(kr.reloadEvery, missReloadEvery)); err != nil {
			return "", err
		}
		tenant, ok = kr.match(h)
	}
	if !ok {
		return "", fmt.Errorf("invalid API key: %w", livenessd.ErrUnauthorized)
	}
	return tenant, nil
}

// missReloadEvery bounds the reloads caused by unknown keys.
const missReloadEvery = time.Second

// reloadIfOlder reloads when the keys were loaded age or longer ago and no
// other reload is running (the others use what is loaded). A failed write
// of last uses is retried with the next reload; a failed read leaves
// nothing to trust.
func (kr *Keyring) reloadIfOlder(ctx context.Context, age time.Duration) error {
	kr.mu.RLock()
	stale := kr.store != nil && kr.now().Sub(kr.lastLoad) >= age
	kr.mu.RUnlock()
	if !stale || !kr.reloading.TryLock() {
		return nil
	}
	defer kr.reloading.Unlock()
	if err, _ := kr.reload(ctx); err != nil {
		return fmt.Errorf("%v: %w", err, livenessd.ErrOverloaded)
	}
	return nil
}

// match compares h with every known hash (no early exit) and records the
// use of a stored key.
func (kr *Keyring) match(h []byte) (string, bool) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	found := -1
	all := append(kr.static[:len(kr.static):len(kr.static)], kr.stored...)
	for i, e := range all {
		if subtle.ConstantTimeCompare(h, e.hash) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	if e := all[found]; e.id != "" {
		kr.used[e.id] = kr.now()
	}
	return all[found].tenant, true
}

// ErrNoKeys is returned when a server would start with no API key at all.
var ErrNoKeys = errors.New("auth: no API keys configured (set LIVENESS_API_KEYS or run `livenessd keys create`)")
