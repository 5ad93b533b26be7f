// Package sigv4 verifies the AWS Signature Version 4 a Rekognition streaming
// client puts on its WebSocket URL (a presigned GET) and on every event it
// sends (the :chunk-signature chain seeded by the URL's signature).
//
// Only what the Amplify liveness client produces is accepted: algorithm
// AWS4-HMAC-SHA256, signed headers "host" (the hostname without its port,
// as the client signs it), an empty payload. Signatures are compared in
// constant time. A Signer producing the same signatures is included so that
// tests and tools can act as the client.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/livenessd/livenessd/internal/amplify/eventstream"
)

// Constants of the protocol.
const (
	Algorithm        = "AWS4-HMAC-SHA256"
	PayloadAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD"
	// DefaultService is the service name the liveness client signs for.
	DefaultService = "rekognition"
	// EmptySHA256 is the payload hash of the presigned WebSocket GET.
	EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// DefaultSkew is the clock difference tolerated between client and
	// server, as AWS allows.
	DefaultSkew = 5 * time.Minute
	// MaxExpires is the longest presigned-URL lifetime SigV4 allows.
	MaxExpires = 7 * 24 * time.Hour

	longDate  = "20060102T150405Z"
	shortDate = "20060102"
)

// Errors. Every verification failure wraps ErrInvalidSignature or
// ErrUnknownKey, so the caller can answer without revealing which check
// failed.
var (
	ErrInvalidSignature = errors.New("sigv4: invalid signature")
	ErrUnknownKey       = errors.New("sigv4: unknown access key")
	ErrExpired          = fmt.Errorf("%w: request expired or not yet valid", ErrInvalidSignature)
	ErrMissing          = fmt.Errorf("%w: missing or malformed signing parameters", ErrInvalidSignature)
)

// Credential is one access key and what it belongs to.
type Credential struct {
	AccessKeyID string
	Secret      string
	// Tenant is the API key id that owns the sessions this key may stream.
	Tenant string
}

// Keys looks up credentials by access key id.
type Keys interface {
	Lookup(accessKeyID string) (Credential, bool)
}

// StaticKeys is a fixed set of credentials keyed by access key id.
type StaticKeys map[string]Credential

// Lookup implements Keys.
func (k StaticKeys) Lookup(id string) (Credential, bool) {
	c, ok := k[id]
	return c, ok
}

// NewStaticKeys indexes creds by access key id; duplicates are an error.
func NewStaticKeys(creds ...Credential) (StaticKeys, error) {
	k := make(StaticKeys, len(creds))
	for _, c := range creds {
		if c.AccessKeyID == "" || c.Secret == "" {
			return nil, errors.New("sigv4: credential needs an access key id and a secret")
		}
		if _, dup := k[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("sigv4: access key %q configured twice", c.AccessKeyID)
		}
		k[c.AccessKeyID] = c
	}
	return k, nil
}

// Verifier checks presigned URLs. The zero Service and Skew take the
// defaults; Now defaults to time.Now.
type Verifier struct {
	Keys    Keys
	Service string
	Skew    time.Duration
	Now     func() time.Time
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return DefaultService
	}
	return v.Service
}

func (v *Verifier) skew() time.Duration {
	if v.Skew <= 0 {
		return DefaultSkew
	}
	return v.Skew
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

// Stream is a verified connection: who signed it and the state of its
// chunk-signature chain.
type Stream struct {
	Credential Credential
	Region     string
	Service    string
	// SignedAt is the X-Amz-Date of the URL.
	SignedAt time.Time

	prior   string // hex of the previous signature in the chain
	skew    time.Duration
	now     func() time.Time
	keyDate string
	key     []byte
}

// VerifyPresigned checks the presigned URL of a WebSocket upgrade: method,
// host as received (its port is dropped, since the client signs the bare
// hostname), and URL with path and query exactly as sent.
func (v *Verifier) VerifyPresigned(method, host string, u *url.URL) (*Stream, error) {
	if v.Keys == nil {
		return nil, fmt.Errorf("%w: no keys configured", ErrUnknownKey)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query: %v", ErrMissing, err)
	}
	one := func(name string) (string, error) {
		vs := q[name]
		if len(vs) != 1 || vs[0] == "" {
			return "", fmt.Errorf("%w: %s", ErrMissing, name)
		}
		return vs[0], nil
	}
	alg, err := one("X-Amz-Algorithm")
	if err != nil {
		return nil, err
	}
	if alg != Algorithm {
		return nil, fmt.Errorf("%w: algorithm %q", ErrInvalidSignature, alg)
	}
	cred, err := one("X-Amz-Credential")
	if err != nil {
		return nil, err
	}
	date, err := one("X-Amz-Date")
	if err != nil {
		return nil, err
	}
	expires, err := one("X-Amz-Expires")
	if err != nil {
		return nil, err
	}
	signed, err := one("X-Amz-SignedHeaders")
	if err != nil {
		return nil, err
	}
	sigHex, err := one("X-Amz-Signature")
	if err != nil {
		return nil, err
	}
	if signed != "host" {
		return nil, fmt.Errorf("%w: signed headers %q, only \"host\" is supported", ErrInvalidSignature, signed)
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" || parts[2] == "" {
		return nil, fmt.Errorf("%w: credential scope %q", ErrMissing, cred)
	}
	if parts[3] != v.service() {
		return nil, fmt.Errorf("%w: service %q, want %q", ErrInvalidSignature, parts[3], v.service())
	}
	t, err := time.Parse(longDate, date)
	if err != nil {
		return nil, fmt.Errorf("%w: X-Amz-Date %q", ErrMissing, date)
	}
	if parts[1] != t.Format(shortDate) {
		return nil, fmt.Errorf("%w: credential date %q does not match X-Amz-Date", ErrInvalidSignature, parts[1])
	}
	exp, err := strconv.Atoi(expires)
	if err != nil || exp < 1 || time.Duration(exp)*time.Second > MaxExpires {
		return nil, fmt.Errorf("%w: X-Amz-Expires %q", ErrMissing, expires)
	}
	now := v.now()
	if now.Before(t.Add(-v.skew())) || now.After(t.Add(time.Duration(exp)*time.Second+v.skew())) {
		return nil, fmt.Errorf("%w: signed at %s, now %s", ErrExpired, t.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil || len(got) != sha256.Size {
		return nil, fmt.Errorf("%w: X-Amz-Signature", ErrMissing)
	}
	c, ok := v.Keys.Lookup(parts[0])
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, parts[0])
	}
	region := parts[2]
	key := SigningKey(c.Secret, parts[1], region, v.service())
	creq := CanonicalRequest(method, u.EscapedPath(), q, hostname(host), EmptySHA256)
	want := hmacSHA256(key, []byte(StringToSign(t, Scope(parts[1], region, v.service()), creq)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return nil, fmt.Errorf("%w: URL signature does not match", ErrInvalidSignature)
	}
	return &Stream{
		Credential: c, Region: region, Service: v.service(), SignedAt: t,
		prior: hex.EncodeToString(want), skew: v.skew(), now: v.now,
		keyDate: parts[1], key: key,
	}, nil
}

// VerifyChunk checks one envelope's :chunk-signature against the chain and,
// when it matches, advances the chain. The envelope's :date must lie within
// the skew of the server's clock.
func (s *Stream) VerifyChunk(env eventstream.Envelope) error {
	now := s.now()
	if d := env.Date.Sub(now); d > s.skew || d < -s.skew {
		return fmt.Errorf("%w: event dated %s, now %s", ErrExpired, env.Date.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	day := env.Date.UTC().Format(shortDate)
	if day != s.keyDate {
		s.keyDate, s.key = day, SigningKey(s.Credential.Secret, day, s.Region, s.Service)
	}
	want := ChunkSignature(s.key, Scope(day, s.Region, s.Service), s.prior, env.Date, env.Inner)
	if subtle.ConstantTimeCompare(env.Signature, want) != 1 {
		return fmt.Errorf("%w: chunk signature does not match", ErrInvalidSignature)
	}
	s.prior = hex.EncodeToString(want)
	return nil
}

// hostname drops the port from a Host header value. IPv6 literals keep
// their brackets, as a browser's URL.hostname does.
func hostname(host string) string {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// Scope is the credential scope yyyymmdd/region/service/aws4_request.
func Scope(day, region, service string) string {
	return day + "/" + region + "/" + service + "/aws4_request"
}

// SigningKey derives the SigV4 key for a day (yyyymmdd), region, service.
func SigningKey(secret, day, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(day))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

// CanonicalRequest builds the canonical request of a presigned request
// signing only "host". escapedPath is the path as sent; query holds every
// parameter (X-Amz-Signature is left out here).
func CanonicalRequest(method, escapedPath string, query url.Values, host, payloadHash string) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(canonicalPath(escapedPath))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query))
	b.WriteString("\nhost:")
	b.WriteString(strings.TrimSpace(host))
	b.WriteString("\n\nhost\n")
	b.WriteString(payloadHash)
	return b.String()
}

// StringToSign is the request string to sign for a canonical request.
func StringToSign(t time.Time, scope, canonicalRequest string) string {
	h := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + t.UTC().Format(longDate) + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// ChunkSignature is the signature of one event: HMAC over the payload
// string to sign, chained on the prior signature (hex).
func ChunkSignature(key []byte, scope, priorHex string, date time.Time, inner []byte) []byte {
	dh := sha256.Sum256(eventstream.DateHeader(date))
	ph := sha256.Sum256(inner)
	sts := PayloadAlgorithm + "\n" + date.UTC().Format(longDate) + "\n" + scope + "\n" + priorHex + "\n" +
		hex.EncodeToString(dh[:]) + "\n" + hex.EncodeToString(ph[:])
	return hmacSHA256(key, []byte(sts))
}

// canonicalPath normalises the path as the JS signer does (empty and "."
// segments dropped, ".." resolved) and escapes it once more, keeping "/".
func canonicalPath(p string) string {
	var segs []string
	for s := range strings.SplitSeq(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		out += "/"
	}
	return strings.ReplaceAll(escape(out), "%2F", "/")
}

func canonicalQuery(q url.Values) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		if strings.EqualFold(k, "X-Amz-Signature") {
			continue
		}
		ek := escape(k)
		for _, v := range vs {
			pairs = append(pairs, kv{ek, escape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// escape is RFC 3986 percent-encoding keeping only the unreserved set.
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
