package sigv4_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/amplify/eventstream"
	"github.com/livenessd/livenessd/internal/amplify/sigv4"
)

var (
	credA = sigv4.Credential{AccessKeyID: "AKIDTENANTA", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Tenant: "tenant-a"}
	credB = sigv4.Credential{AccessKeyID: "AKIDTENANTB", Secret: "another secret", Tenant: "tenant-b"}
	t0    = time.Date(2026, 11, 26, 10, 50, 3, 0, time.UTC)
)

// clientURL builds the URL the Amplify client opens, with its parameters.
func clientURL(t *testing.T, s *sigv4.Signer, host string, at time.Time) *url.URL {
	t.Helper()
	u := &url.URL{Scheme: "wss", Host: host, Path: "/base/start-face-liveness-session-websocket"}
	q := url.Values{
		"session-id":            {"8a3f6a2c-1b2d-4e5f-9a0b-123456789abc"},
		"challenge-versions":    {"FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0"},
		"video-width":           {"640"},
		"video-height":          {"480"},
		"attempt-count":         {"1"},
		"precheck-view-enabled": {"1"},
		"x-amz-user-agent":      {"aws-sdk-js/3.1112.0 ua/2.1 os/Linux lang/js md/browser#Chromium_156 api/rekognitionstreaming#3.1112.0 m/E aws-amplify/6.22.1-framework/0-ui-react-liveness/3.6.8"},
	}
	u.RawQuery = q.Encode()
	if err := s.Presign(u, at, 299*time.Second); err != nil {
		t.Fatal(err)
	}
	return u
}

func verifier(now time.Time) *sigv4.Verifier {
	keys, err := sigv4.NewStaticKeys(credA, credB)
	if err != nil {
		panic(err)
	}
	return &sigv4.Verifier{Keys: keys, Now: func() time.Time { return now }}
}

func TestVerifyPresigned(t *testing.T) {
	signer := &sigv4.Signer{Credential: credA, Region: "us-east-1", SessionToken: "opaque/token+="}
	good := clientURL(t, signer, "liveness.example.test:8443", t0)
	tamper := func(f func(q url.Values)) *url.URL {
		u := *good
		q := u.Query()
		f(q)
		u.RawQuery = q.Encode()
		return &u
	}
	for _, test := range []struct {
		name string
		host string
		u    *url.URL
		now  time.Time
		want error
	}{
		{"OK", "liveness.example.test:8443", good, t0.Add(10 * time.Second), nil},
		{"OKHostWithoutPort", "liveness.example.test", good, t0, nil},
		{"OKClientClockAhead", "liveness.example.test", good, t0.Add(-4 * time.Minute), nil},
		{"OKNearExpiry", "liveness.example.test", good, t0.Add(299*time.Second + 4*time.Minute), nil},
		{"OtherHost", "evil.example.test:8443", good, t0, sigv4.ErrInvalidSignature},
		{"Expired", "liveness.example.test", good, t0.Add(299*time.Second + 6*time.Minute), sigv4.ErrExpired},
		{"FromFuture", "liveness.example.test", good, t0.Add(-6 * time.Minute), sigv4.ErrExpired},
		{"SessionChanged", "liveness.example.test", tamper(func(q url.Values) { q.Set("session-id", "00000000-1b2d-4e5f-9a0b-123456789abc") }), t0, sigv4.ErrInvalidSignature},
		{"TokenChanged", "liveness.example.test", tamper(func(q url.Values) { q.Set("X-Amz-Security-Token", "other") }), t0, sigv4.ErrInvalidSignature},
		{"ParamAdded", "liveness.example.test", tamper(func(q url.Values) { q.Set("video-width", "1920") }), t0, sigv4.ErrInvalidSignature},
		{"SignatureMissing", "liveness.example.test", tamper(func(q url.Values) { q.Del("X-Amz-Signature") }), t0, sigv4.ErrMissing},
		{"SignatureNotHex", "liveness.example.test", tamper(func(q url.Values) { q.Set("X-Amz-Signature", strings.Repeat("z", 64)) }), t0, sigv4.ErrMissing},
		{"SignatureOtherKey", "liveness.example.test", tamper(func(q url.Values) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), credA.AccessKeyID, credB.AccessKeyID, 1))
		}), t0, sigv4.ErrInvalidSignature},
		{"UnknownKey", "liveness.example.test", tamper(func(q url.Values) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), credA.AccessKeyID, "AKIDNOBODY", 1))
		}), t0, sigv4.ErrUnknownKey},
		{"WrongService", "liveness.example.test", tamper(func(q url.Values) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "rekognition", "s3", 1))
		}), t0, sigv4.ErrInvalidSignature},
		{"ScopeDateMismatch", "liveness.example.test", tamper(func(q url.Values) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "20261126", "20261125", 1))
		}), t0, sigv4.ErrInvalidSignature},
		{"OtherAlgorithm", "liveness.example.test", tamper(func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA1") }), t0, sigv4.ErrInvalidSignature},
		{"MoreSignedHeaders", "liveness.example.test", tamper(func(q url.Values) { q.Set("X-Amz-SignedHeaders", "host;origin") }), t0, sigv4.ErrInvalidSignature},
		{"ExpiresTooLong", "liveness.example.test", tamper(func(q url.Values) { q.Set("X-Amz-Expires", "604801") }), t0, sigv4.ErrMissing},
		{"DuplicateParam", "liveness.example.test", tamper(func(q url.Values) { q.Add("X-Amz-Date", "20261126T105003Z") }), t0, sigv4.ErrMissing},
	} {
		t.Run(test.name, func(t *testing.T) {
			s, err := verifier(test.now).VerifyPresigned("GET", test.host, test.u)
			if test.want == nil {
				if err != nil {
					t.Fatalf("VerifyPresigned: %v", err)
				}
				if s.Credential.Tenant != "tenant-a" || s.Region != "us-east-1" {
					t.Fatalf("stream %+v", s)
				}
				return
			}
			if !errors.Is(err, test.want) {
				t.Fatalf("error %v, want %v", err, test.want)
			}
		})
	}
}

func TestChunkChain(t *testing.T) {
	// Three events signed in order; the third crosses midnight, so its key
	// is derived for the next day.
	start := time.Date(2026, 11, 26, 23, 59, 58, 0, time.UTC)
	signer := &sigv4.Signer{Credential: credA, Region: "eu-west-1"}
	u := clientURL(t, signer, "localhost:8443", start)
	frames := [][]byte{}
	for i, d := range []time.Duration{0, 1200 * time.Millisecond, 2500 * time.Millisecond} {
		inner, err := eventstream.Encode(eventstream.Event("VideoEvent", []byte(`{"VideoChunk":"AAAA","TimestampMillis":`+string(rune('0'+i))+`}`)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := signer.Envelope(inner, start.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	decode := func(b []byte) eventstream.Envelope {
		env, err := eventstream.DecodeEnvelope(b, eventstream.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	open := func() *sigv4.Stream {
		s, err := verifier(start.Add(time.Second)).VerifyPresigned("GET", "localhost:8443", u)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("InOrder", func(t *testing.T) {
		s := open()
		for i, f := range frames {
			if err := s.VerifyChunk(decode(f)); err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
	})
	t.Run("Skipped", func(t *testing.T) {
		s := open()
		if err := s.VerifyChunk(decode(frames[1])); !errors.Is(err, sigv4.ErrInvalidSignature) {
			t.Fatalf("frame 1 first: %v", err)
		}
	})
	t.Run("InnerTampered", func(t *testing.T) {
		s := open()
		env := decode(frames[0])
		env.Inner = append([]byte(nil), env.Inner...)
		env.Inner[len(env.Inner)-10] ^= 1
		if err := s.VerifyChunk(env); !errors.Is(err, sigv4.ErrInvalidSignature) {
			t.Fatalf("tampered inner: %v", err)
		}
	})
	t.Run("DateTampered", func(t *testing.T) {
		s := open()
		env := decode(frames[0])
		env.Date = env.Date.Add(time.Millisecond)
		if err := s.VerifyChunk(env); !errors.Is(err, sigv4.ErrInvalidSignature) {
			t.Fatalf("tampered date: %v", err)
		}
	})
	t.Run("OldEvent", func(t *testing.T) {
		now := start.Add(time.Second)
		v := verifier(now)
		v.Now = func() time.Time { return now }
		s, err := v.VerifyPresigned("GET", "localhost:8443", u)
		if err != nil {
			t.Fatal(err)
		}
		now = start.Add(10 * time.Minute)
		if err := s.VerifyChunk(decode(frames[0])); !errors.Is(err, sigv4.ErrExpired) {
			t.Fatalf("event 10 minutes old: %v", err)
		}
	})
}
