// Package sealed encrypts biometric data at rest: a session.Store
// decorator seals the reference image and the audit images with
// AES-256-GCM before any store sees them, and opens them on the way back.
// It sits above every store (SQLite, Redis), so none of them ever holds an
// image in the clear.
//
// Keys come from LIVENESS_DATA_KEYS: a comma-separated list of base64
// 32-byte keys, newest first. The first key seals; every listed key opens
// (each sealed value names its key), so a key is rotated by putting a new
// one in front and dropping the old one once the data it sealed has
// expired (at most session TTL + retention later).
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a data key: AES-256.
const KeySize = 32

// Errors of Keys. ErrUnknownKey: the value was sealed with a key that is
// not listed (dropped too early). ErrCorrupt: not a sealed value, or it
// was altered or moved to another session or field.
var (
	ErrUnknownKey = errors.New("sealed: data sealed with a key that is not configured")
	ErrCorrupt    = errors.New("sealed: value is not sealed data or was altered")
)

// magic starts every sealed value ("livenessd encrypted, format 1"); it is
// never the start of a JPEG (FF D8) or PNG (89 50).
const magic = "LVE1"

const (
	idSize    = 4
	nonceSize = 12
	headSize  = len(magic) + idSize + nonceSize
)

// Keys seals with the first key and opens with any of them.
type Keys struct {
	keys []dataKey
}

type dataKey struct {
	id   [idSize]byte
	aead cipher.AEAD
}

// NewKey returns a fresh random data key, base64-encoded, for
// LIVENESS_DATA_KEYS.
func NewKey() (string, error) {
	var b [KeySize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sealed: random key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// ParseKeys reads a comma-separated list of base64 (standard or URL
// alphabet, padded or not) 32-byte keys, newest first. An empty list
// returns nil keys and no error: the caller decides whether plaintext is
// allowed.
func ParseKeys(s string) (*Keys, error) {
	var ks Keys
	seen := map[[idSize]byte]bool{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		raw, err := decodeBase64(item)
		if err != nil || len(raw) != KeySize {
			return nil, fmt.Errorf("sealed: data key %d is not %d bytes of base64 (make one with `livenessd keys data-key`)", i+1, KeySize)
		}
		k, err := newDataKey(raw)
		if err != nil {
			return nil, err
		}
		if seen[k.id] {
			return nil, fmt.Errorf("sealed: data key %d is listed twice", i+1)
		}
		seen[k.id] = true
		ks.keys = append(ks.keys, k)
	}
	if len(ks.keys) == 0 {
		return nil, nil
	}
	return &ks, nil
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func newDataKey(raw []byte) (dataKey, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return dataKey{}, fmt.Errorf("sealed: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return dataKey{}, fmt.Errorf("sealed: %w", err)
	}
	var k dataKey
	sum := sha256.Sum256(append([]byte("livenessd data key\x00"), raw...))
	copy(k.id[:], sum[:idSize])
	k.aead = aead
	return k, nil
}

// Len is the number of keys.
func (ks *Keys) Len() int { return len(ks.keys) }

// Seal encrypts plain with the newest key, binding it to aad (what the
// value is and whose: a sealed image moved to another session or field
// does not open). The nonce is random: 96 bits, far from collisions at the
// number of images one key seals.
func (ks *Keys) Seal(plain, aad []byte) ([]byte, error) {
	k := ks.keys[0]
	out := make([]byte, headSize, headSize+len(plain)+k.aead.Overhead())
	copy(out, magic)
	copy(out[len(magic):], k.id[:])
	if _, err := rand.Read(out[len(magic)+idSize : headSize]); err != nil {
		return nil, fmt.Errorf("sealed: nonce: %w", err)
	}
	return k.aead.Seal(out, out[len(magic)+idSize:headSize], plain, aad), nil
}

// Open decrypts a value made by Seal with the same aad. Errors wrap
// ErrUnknownKey or ErrCorrupt.
func (ks *Keys) Open(sealed, aad []byte) ([]byte, error) {
	if !IsSealed(sealed) || len(sealed) < headSize {
		return nil, ErrCorrupt
	}
	id := sealed[len(magic) : len(magic)+idSize]
	for _, k := range ks.keys {
		if string(k.id[:]) != string(id) {
			continue
		}
		plain, err := k.aead.Open(nil, sealed[len(magic)+idSize:headSize], sealed[headSize:], aad)
		if err != nil {
			return nil, ErrCorrupt
		}
		return plain, nil
	}
	return nil, fmt.Errorf("%w (key id %x)", ErrUnknownKey, id)
}

// IsSealed reports whether b starts like a sealed value.
func IsSealed(b []byte) bool { return len(b) >= len(magic) && string(b[:len(magic)]) == magic }
