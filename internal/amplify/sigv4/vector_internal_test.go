package sigv4

import (
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/amplify/eventstream"
)

func readVector(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "eventstream", "testdata", "video-event-signature.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}

func readFrame(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "eventstream", "testdata", "video-event-outer.hex"))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for line := range strings.SplitSeq(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			sb.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChunkSignatureVector checks the captured client frame of
// amplify-protocol.md §3.5 against its chain.
func TestChunkSignatureVector(t *testing.T) {
	v := readVector(t)
	env, err := eventstream.DecodeEnvelope(readFrame(t), eventstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Date.UTC().Format(longDate); got != v["long_date"] {
		t.Fatalf("long date %s, want %s", got, v["long_date"])
	}
	day := env.Date.UTC().Format(shortDate)
	key := SigningKey(v["secret"], day, v["region"], DefaultService)
	got := ChunkSignature(key, Scope(day, v["region"], DefaultService), v["prior_sig"], env.Date, env.Inner)
	if hex.EncodeToString(got) != v["sig"] {
		t.Fatalf("signature %x, want %s", got, v["sig"])
	}

	s := &Stream{
		Credential: Credential{AccessKeyID: "AKIDEXAMPLE", Secret: v["secret"]},
		Region:     v["region"], Service: DefaultService, prior: v["prior_sig"],
		skew: DefaultSkew, now: func() time.Time { return env.Date.Add(2 * time.Second) },
	}
	if err := s.VerifyChunk(env); err != nil {
		t.Fatalf("VerifyChunk: %v", err)
	}
	if s.prior != v["sig"] {
		t.Errorf("chain did not advance to the frame's signature")
	}
	// The same frame again is a replay: the chain has moved on.
	if err := s.VerifyChunk(env); err == nil {
		t.Error("replayed frame verified")
	}
}

// TestPresignedS3Vector checks the canonical request and key derivation
// against AWS's published presigned-URL example (S3 GET /test.txt, 2013-05-24),
// which uses the same algorithm with payload hash UNSIGNED-PAYLOAD.
func TestPresignedS3Vector(t *testing.T) {
	q := url.Values{
		"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
		"X-Amz-Credential":    {"AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"},
		"X-Amz-Date":          {"20130524T000000Z"},
		"X-Amz-Expires":       {"86400"},
		"X-Amz-SignedHeaders": {"host"},
	}
	creq := CanonicalRequest("GET", "/test.txt", q, "examplebucket.s3.amazonaws.com", "UNSIGNED-PAYLOAD")
	wantCreq := "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
	if creq != wantCreq {
		t.Fatalf("canonical request\n%s\nwant\n%s", creq, wantCreq)
	}
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	key := SigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3")
	sig := hex.EncodeToString(hmacSHA256(key, []byte(StringToSign(at, Scope("20130524", "us-east-1", "s3"), creq))))
	if want := "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"; sig != want {
		t.Fatalf("signature %s, want %s", sig, want)
	}
}

func TestCanonicalPath(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"/start-face-liveness-session-websocket", "/start-face-liveness-session-websocket"},
		{"/base//start-face-liveness-session-websocket", "/base/start-face-liveness-session-websocket"},
		{"/a/./b/../c/", "/a/c/"},
		{"/a%20b", "/a%2520b"},
		{"", "/"},
	} {
		if got := canonicalPath(test.in); got != test.want {
			t.Errorf("canonicalPath(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func TestHostname(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"localhost:8443", "localhost"},
		{"liveness.example.test", "liveness.example.test"},
		{"127.0.0.1:9000", "127.0.0.1"},
		{"[::1]:8443", "[::1]"},
	} {
		if got := hostname(test.in); got != test.want {
			t.Errorf("hostname(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}
