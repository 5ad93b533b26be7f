package sealed_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/store/sealed"
)

func mustKey(t testing.TB) string {
	t.Helper()
	k, err := sealed.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustParse(t testing.TB, s string) *sealed.Keys {
	t.Helper()
	ks, err := sealed.ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestParseKeys(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	raw, _ := base64.StdEncoding.DecodeString(a)
	for _, test := range []struct {
		name string
		in   string
		n    int
		err  string
	}{
		{"Empty", " , ", 0, ""},
		{"One", a, 1, ""},
		{"TwoWithSpaces", " " + b + " , " + a + " ", 2, ""},
		{"URLAlphabetUnpadded", base64.RawURLEncoding.EncodeToString(raw), 1, ""},
		{"Short", base64.StdEncoding.EncodeToString(raw[:16]), 0, "not 32 bytes"},
		{"NotBase64", "not base64!", 0, "not 32 bytes"},
		{"Duplicate", a + "," + a, 0, "twice"},
	} {
		t.Run(test.name, func(t *testing.T) {
			ks, err := sealed.ParseKeys(test.in)
			if test.err != "" {
				if err == nil || !strings.Contains(err.Error(), test.err) {
					t.Fatalf("err = %v, want %q", err, test.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := 0; ks != nil {
				n = ks.Len()
				if n != test.n {
					t.Fatalf("Len = %d, want %d", n, test.n)
				}
			} else if test.n != 0 {
				t.Fatalf("nil keys, want %d", test.n)
			}
		})
	}
}

func TestKeys_SealOpen(t *testing.T) {
	old, cur := mustKey(t), mustKey(t)
	oldKeys, both, curOnly := mustParse(t, old), mustParse(t, cur+","+old), mustParse(t, cur)
	plain := []byte("\xff\xd8\xff\xdb a JPEG, say")
	aad := []byte("livenessd/s1/reference")

	byOld, err := oldKeys.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	byCur, err := both.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(byCur, plain) || !sealed.IsSealed(byCur) {
		t.Fatal("sealed value holds the plaintext or lacks the header")
	}
	again, _ := both.Seal(plain, aad)
	if bytes.Equal(again, byCur) {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	for _, test := range []struct {
		name   string
		keys   *sealed.Keys
		sealed []byte
		aad    []byte
		want   error
	}{
		{"NewestFirstOpensOld", both, byOld, aad, nil},
		{"NewestOpensNew", curOnly, byCur, aad, nil},
		{"OldDropped", curOnly, byOld, aad, sealed.ErrUnknownKey},
		{"OtherSession", both, byCur, []byte("livenessd/s2/reference"), sealed.ErrCorrupt},
		{"Flipped", both, flip(byCur, len(byCur)-1), aad, sealed.ErrCorrupt},
		{"FlippedNonce", both, flip(byCur, 9), aad, sealed.ErrCorrupt},
		{"Truncated", both, byCur[:10], aad, sealed.ErrCorrupt},
		{"Plaintext", both, plain, aad, sealed.ErrCorrupt},
		{"Empty", both, nil, aad, sealed.ErrCorrupt},
	} {
		t.Run(test.name, func(t *testing.T) {
			got, err := test.keys.Open(test.sealed, test.aad)
			if test.want != nil {
				if !errors.Is(err, test.want) {
					t.Fatalf("err = %v, want %v", err, test.want)
				}
				return
			}
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("Open = %q, %v", got, err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// FuzzKeys_Open: any stored bytes open to an error or to data, never a
// panic, and only what was sealed with the aad opens.
func FuzzKeys_Open(f *testing.F) {
	ks := mustParse(f, "l0bbVpKxrRf1jR5JYdMpKyH7Pp7eK1MPNaj3y5RKOKE=")
	good, err := ks.Seal([]byte("image"), []byte("a"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("LVE1"))
	f.Add([]byte("\xff\xd8\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		plain, err := ks.Open(b, []byte("a"))
		if err == nil && !bytes.Equal(plain, []byte("image")) {
			t.Fatalf("opened %q from unsealed bytes %q", plain, b)
		}
	})
}
