package imageio

import (
	"encoding/base64"
	"fmt"
	"image"
	"strings"

	"github.com/livenessd/livenessd"
)

// DecodeBase64 decodes an image sent as base64 text: with or without a
// "data:image/...;base64," prefix, standard or URL-safe alphabet, padded or
// not, with whitespace (line breaks) anywhere. The byte limit is checked on
// the decoded size implied by the encoded length before anything is
// decoded; invalid base64 wraps livenessd.ErrInvalidImage. Then as Decode.
func DecodeBase64(s string, lim Limits) (*image.NRGBA, error) {
	data, err := Base64Bytes(s, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	return Decode(data, lim)
}

// Base64Bytes returns the bytes encoded in s (see DecodeBase64), refusing
// before decoding when they would exceed maxBytes (<= 0: no limit).
func Base64Bytes(s string, maxBytes int64) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "data:") {
		comma := strings.IndexByte(s, ',')
		if comma < 0 {
			return nil, fmt.Errorf("imageio: data URL without a comma: %w", livenessd.ErrInvalidImage)
		}
		if meta := s[5:comma]; !strings.HasSuffix(strings.ToLower(meta), ";base64") {
			return nil, fmt.Errorf("imageio: data URL is not base64 (%q): %w", truncate(meta, 40), livenessd.ErrInvalidImage)
		}
		s = s[comma+1:]
	}
	// Whitespace can at most double a reasonable encoding (line breaks every
	// 76 characters add ~3%); refuse absurd inputs before scanning them.
	if maxBytes > 0 && int64(len(s)) > 2*(maxBytes/3*4+4)+1024 {
		return nil, fmt.Errorf("imageio: %w", &LimitError{Kind: livenessd.ErrImageTooLarge, Limit: maxBytes,
			Actual: int64(len(s)) / 4 * 3, Unit: UnitBytes})
	}
	hasWS, urlSafe := false, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n', '\f', '\v':
			hasWS = true
		case '-', '_':
			urlSafe = true
		}
	}
	if hasWS {
		s = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n', '\f', '\v':
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimRight(s, "=")
	if size := int64(len(s)) * 3 / 4; maxBytes > 0 && size > maxBytes {
		return nil, fmt.Errorf("imageio: %w", &LimitError{Kind: livenessd.ErrImageTooLarge, Limit: maxBytes,
			Actual: size, Unit: UnitBytes})
	}
	enc := base64.RawStdEncoding
	if urlSafe {
		enc = base64.RawURLEncoding
	}
	data, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("imageio: base64: %v: %w", err, livenessd.ErrInvalidImage)
	}
	return data, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
