package sigv4

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/livenessd/livenessd/internal/amplify/eventstream"
)

// Signer signs as the Amplify liveness client does: a presigned WebSocket
// URL, then every event chained from it. It exists for tests and tools that
// play the client; the server only verifies.
type Signer struct {
	Credential   Credential
	Region       string
	Service      string // default DefaultService
	SessionToken string // sent as X-Amz-Security-Token when set

	prior string
}

func (s *Signer) service() string {
	if s.Service == "" {
		return DefaultService
	}
	return s.Service
}

// Presign adds the X-Amz-* parameters to u (whose Host may carry a port,
// which is not signed) for a GET at time t valid for expires.
func (s *Signer) Presign(u *url.URL, t time.Time, expires time.Duration) error {
	if s.Credential.AccessKeyID == "" || s.Credential.Secret == "" {
		return fmt.Errorf("sigv4: signer has no credential")
	}
	t = t.UTC()
	day := t.Format(shortDate)
	q := u.Query()
	q.Set("X-Amz-Algorithm", Algorithm)
	q.Set("X-Amz-Credential", s.Credential.AccessKeyID+"/"+Scope(day, s.Region, s.service()))
	q.Set("X-Amz-Date", t.Format(longDate))
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	q.Set("X-Amz-SignedHeaders", "host")
	if s.SessionToken != "" {
		q.Set("X-Amz-Security-Token", s.SessionToken)
	}
	q.Del("X-Amz-Signature")
	key := SigningKey(s.Credential.Secret, day, s.Region, s.service())
	creq := CanonicalRequest("GET", u.EscapedPath(), q, u.Hostname(), EmptySHA256)
	sig := hex.EncodeToString(hmacSHA256(key, []byte(StringToSign(t, Scope(day, s.Region, s.service()), creq))))
	q.Set("X-Amz-Signature", sig)
	u.RawQuery = canonicalQuery(q) + "&X-Amz-Signature=" + sig
	s.prior = sig
	return nil
}

// Envelope wraps inner in a signed outer message dated t and advances the
// chain. Presign must have been called first.
func (s *Signer) Envelope(inner []byte, t time.Time) ([]byte, error) {
	if s.prior == "" {
		return nil, fmt.Errorf("sigv4: Envelope before Presign")
	}
	t = time.UnixMilli(t.UnixMilli()).UTC()
	day := t.Format(shortDate)
	key := SigningKey(s.Credential.Secret, day, s.Region, s.service())
	sig := ChunkSignature(key, Scope(day, s.Region, s.service()), s.prior, t, inner)
	s.prior = hex.EncodeToString(sig)
	return eventstream.EncodeEnvelope(eventstream.Envelope{Date: t, Signature: sig, Inner: inner})
}
