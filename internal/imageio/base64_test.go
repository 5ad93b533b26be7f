package imageio

import (
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
)

// wrap76 inserts CRLF every 76 characters, as MIME encoders do.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteString("\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

func TestDecodeBase64(t *testing.T) {
	// Pick an image whose encoding contains both '+' / '/' so that the URL
	// alphabet variant really differs.
	data := encPNG(t, gradient(120, 100))
	std := base64.StdEncoding.EncodeToString(data)
	if !strings.ContainsAny(std, "+/") {
		t.Fatal("test image encoding has no '+' or '/'")
	}
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"Std", std},
		{"StdRaw", base64.RawStdEncoding.EncodeToString(data)},
		{"URL", base64.URLEncoding.EncodeToString(data)},
		{"URLRaw", base64.RawURLEncoding.EncodeToString(data)},
		{"DataURL", "data:image/png;base64," + std},
		{"DataURLUpper", "data:image/png;BASE64," + std},
		{"DataURLWrongType", "data:image/jpeg;base64," + std}, // the bytes decide the format
		{"Wrapped", wrap76(std)},
		{"SurroundingSpace", "  \n" + std + "\n\t "},
		{"DataURLWrapped", "data:image/png;base64,\n" + wrap76(std)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeBase64(tc.in, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if m.Rect.Dx() != 120 || m.Rect.Dy() != 100 {
				t.Errorf("bounds %v", m.Rect)
			}
		})
	}
	for _, tc := range []struct {
		name string
		in   string
		lim  Limits
		kind error
	}{
		{"Empty", "", DefaultLimits(), livenessd.ErrInvalidImage},
		{"BadChars", std[:100] + "*&^%" + std[100:], DefaultLimits(), livenessd.ErrInvalidImage},
		{"MixedAlphabets", "-" + std, DefaultLimits(), livenessd.ErrInvalidImage},
		{"DataURLNoComma", "data:image/png;base64" + std, DefaultLimits(), livenessd.ErrInvalidImage},
		{"DataURLNotBase64", "data:image/png," + std, DefaultLimits(), livenessd.ErrInvalidImage},
		{"BadLength", std[:len(std)-len(std)%4-3], DefaultLimits(), livenessd.ErrInvalidImage},
		{"NotAnImage", base64.StdEncoding.EncodeToString([]byte("GIF89a and more")), DefaultLimits(), livenessd.ErrUnsupportedImage},
		{"TooLargeEncoded", std, Limits{MaxBytes: int64(len(data)) - 100}, livenessd.ErrImageTooLarge},
		{"TooLargeWhitespace", std[:8] + strings.Repeat(" ", 3*len(std)+5000) + std[8:], Limits{MaxBytes: int64(len(data))}, livenessd.ErrImageTooLarge},
		{"TooSmallImage", base64.StdEncoding.EncodeToString(encPNG(t, gradient(50, 200))), DefaultLimits(), livenessd.ErrImageTooSmall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeBase64(tc.in, tc.lim); !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
		})
	}
	t.Run("LimitExact", func(t *testing.T) {
		b, err := Base64Bytes(std, int64(len(data)))
		if err != nil || len(b) != len(data) {
			t.Fatalf("len %d err %v", len(b), err)
		}
	})
}

func TestBase64SizeCheckBeforeDecoding(t *testing.T) {
	// 21 MB of base64 would decode to 15.75 MB; the refusal must not allocate it.
	for _, s := range []string{strings.Repeat("A", 21_000_000), "data:image/jpeg;base64," + strings.Repeat("A", 20_000_100)} {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		_, err := Base64Bytes(s, DefaultMaxBytes)
		runtime.ReadMemStats(&ms1)
		if !errors.Is(err, livenessd.ErrImageTooLarge) {
			t.Fatalf("err = %v", err)
		}
		if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 1<<20 {
			t.Errorf("allocated %d bytes while refusing", got)
		}
	}
}
