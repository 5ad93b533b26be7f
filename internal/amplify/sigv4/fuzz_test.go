package sigv4_test

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/amplify/sigv4"
)

// FuzzVerifyPresigned: any query string a client sends to the Amplify
// endpoint is refused with one of the package's errors or accepted only
// when it carries a valid signature by a known key; never a panic.
func FuzzVerifyPresigned(f *testing.F) {
	keys, err := sigv4.NewStaticKeys(sigv4.Credential{AccessKeyID: "AKIDA", Secret: "secret-a", Tenant: "tenant-a"})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	v := &sigv4.Verifier{Keys: keys, Now: func() time.Time { return now }}
	good := &url.URL{Scheme: "wss", Host: "verify.example", Path: "/start-face-liveness-session-websocket",
		RawQuery: "session-id=2450bd2e-220b-42c8-90f1-14293292ac79&video-width=640&video-height=480"}
	s := &sigv4.Signer{Credential: sigv4.Credential{AccessKeyID: "AKIDA", Secret: "secret-a"}, Region: "us-east-1"}
	if err := s.Presign(good, now, time.Minute); err != nil {
		f.Fatal(err)
	}
	signed, err := url.ParseQuery(good.RawQuery)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.RawQuery)
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDA%2F20261124%2Fus-east-1%2Frekognition%2Faws4_request")
	f.Add("%zz&&==;")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if len(rawQuery) > 8192 {
			return
		}
		u := *good
		u.RawQuery = rawQuery
		st, err := v.VerifyPresigned("GET", "verify.example:443", &u)
		if err == nil {
			if st == nil || st.Credential.Tenant != "tenant-a" {
				t.Fatalf("accepted %q without a stream of the key's tenant", rawQuery)
			}
			// Only the signed parameters verify (in any order: the
			// canonical query sorts them); anything else is a forgery.
			got, _ := url.ParseQuery(rawQuery)
			if !reflect.DeepEqual(got, signed) {
				t.Fatalf("accepted a query that is not the signed one: %q", rawQuery)
			}
			return
		}
		if !errors.Is(err, sigv4.ErrInvalidSignature) && !errors.Is(err, sigv4.ErrUnknownKey) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
