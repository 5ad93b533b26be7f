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

// APIKey is a stored key: only the SHA-256 of the key text is kept.
type APIKey struct {
	ID        string // short public id (first hex digits of the tenant id)
	Name      string // label given at creation
	Hash      []byte // SHA-256 of the key text
	CreatedAt time.Time
}

// Tenant is the stable tenant id of the key: derived from the hash, never
// from the key text.
func (k APIKey) Tenant() string { return TenantOf(k.Hash) }

// KeyStore lists and stores API keys (the SQLite store implements it).
type KeyStore interface {
	APIKeys(ctx context.Context) ([]APIKey, error)
	CreateAPIKey(ctx context.Context, k APIKey) error
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
// with KeyPrefix) and its record named name.
func NewKey(name string, now time.Time) (key string, rec APIKey, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", APIKey{}, fmt.Errorf("auth: random key: %w", err)
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	hash := Hash(key)
	return key, APIKey{ID: TenantOf(hash)[2:14], Name: name, Hash: hash, CreatedAt: now.UTC()}, nil
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

// Keyring authenticates Bearer keys. It holds only hashes.
type Keyring struct {
	store       KeyStore // may be nil
	reloadEvery time.Duration
	now         func() time.Time

	mu         sync.RWMutex
	static     [][]byte // from configuration
	stored     [][]byte // from the store
	lastReload time.Time
}

// NewKeyring hashes the configured keys and loads the stored ones. A key
// unknown to the ring triggers a reload of the store at most every
// reloadEvery (so `livenessd keys create` takes effect without a restart).
func NewKeyring(ctx context.Context, keys []string, store KeyStore, reloadEvery time.Duration) (*Keyring, error) {
	kr := &Keyring{store: store, reloadEvery: reloadEvery, now: time.Now}
	for _, k := range keys {
		kr.static = append(kr.static, Hash(k))
	}
	if err := kr.Reload(ctx); err != nil {
		return nil, err
	}
	return kr, nil
}

// Reload re-reads the stored keys.
func (kr *Keyring) Reload(ctx context.Context) error {
	if kr.store == nil {
		return nil
	}
	recs, err := kr.store.APIKeys(ctx)
	if err != nil {
		return fmt.Errorf("auth: load keys: %w", err)
	}
	hashes := make([][]byte, 0, len(recs))
	for _, r := range recs {
		hashes = append(hashes, r.Hash)
	}
	kr.mu.Lock()
	kr.stored = hashes
	kr.lastReload = kr.now()
	kr.mu.Unlock()
	return nil
}

// Len is the number of keys known.
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
	h := Hash(key)
	if kr.match(h) {
		return TenantOf(h), nil
	}
	kr.mu.RLock()
	stale := kr.store != nil && kr.now().Sub(kr.lastReload) >= kr.reloadEvery
	kr.mu.RUnlock()
	if stale {
		if err := kr.Reload(ctx); err != nil {
			return "", err
		}
		if kr.match(h) {
			return TenantOf(h), nil
		}
	}
	return "", fmt.Errorf("invalid API key: %w", livenessd.ErrUnauthorized)
}

func (kr *Keyring) match(h []byte) bool {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	found := 0
	for _, list := range [][][]byte{kr.static, kr.stored} {
		for _, k := range list {
			found |= subtle.ConstantTimeCompare(h, k)
		}
	}
	return found == 1
}

// ErrNoKeys is returned when a server would start with no API key at all.
var ErrNoKeys = errors.New("auth: no API keys configured (set LIVENESS_API_KEYS or run `livenessd keys create`)")
