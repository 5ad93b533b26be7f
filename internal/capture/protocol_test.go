package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/capture"
)

func TestParseClientMessage(t *testing.T) {
	for _, test := range []struct {
		name string
		in   string
		want capture.ClientMessage
		ok   bool
	}{
		{"Hello", `{"type":"hello","width":640,"height":480,"userAgent":"x"}`, capture.ClientMessage{Type: "hello", Width: 640, Height: 480, UserAgent: "x"}, true},
		{"Color", `{"type":"color","index":3,"at":1234.5}`, capture.ClientMessage{Type: "color", Index: 3, At: 1234.5}, true},
		{"End", `{"type":"end","at":4000}`, capture.ClientMessage{Type: "end", At: 4000}, true},
		{"UnknownFieldIgnored", `{"type":"end","at":1,"extra":true}`, capture.ClientMessage{Type: "end", At: 1}, true},
		{"NegativeAt", `{"type":"end","at":-1}`, capture.ClientMessage{}, false},
		{"HugeAt", `{"type":"color","index":0,"at":1e300}`, capture.ClientMessage{}, false},
		{"BadIndex", `{"type":"color","index":64,"at":1}`, capture.ClientMessage{}, false},
		{"Unknown", `{"type":"frame"}`, capture.ClientMessage{}, false},
		{"Trailing", `{"type":"end","at":1}{}`, capture.ClientMessage{}, false},
		{"NotJSON", `end`, capture.ClientMessage{}, false},
		{"WrongTypeField", `{"type":"end","at":"1"}`, capture.ClientMessage{}, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			got, err := capture.ParseClientMessage([]byte(test.in))
			if (err == nil) != test.ok {
				t.Fatalf("err = %v, want ok=%v", err, test.ok)
			}
			if err != nil && !errors.Is(err, capture.ErrBadMessage) {
				t.Errorf("err = %v, want ErrBadMessage", err)
			}
			if got != test.want {
				t.Errorf("got %+v, want %+v", got, test.want)
			}
		})
	}
}

func TestParseFrame(t *testing.T) {
	jpg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2}
	at, b, err := capture.ParseFrame(capture.EncodeFrame(1500*time.Millisecond, jpg))
	if err != nil || at != 1500*time.Millisecond || !bytes.Equal(b, jpg) {
		t.Fatalf("round trip = %v %x %v", at, b, err)
	}
	nan := make([]byte, 8)
	binary.LittleEndian.PutUint64(nan, math.Float64bits(math.NaN()))
	for _, bad := range [][]byte{nil, {1, 2, 3}, append(nan, jpg...), capture.EncodeFrame(-time.Second, jpg), capture.EncodeFrame(time.Hour, jpg), capture.EncodeFrame(0, []byte("PNG..."))} {
		if _, _, err := capture.ParseFrame(bad); !errors.Is(err, capture.ErrBadMessage) {
			t.Errorf("ParseFrame(%x) err = %v, want ErrBadMessage", bad, err)
		}
	}
}

func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{`{"type":"hello","width":640,"height":480}`, `{"type":"color","index":1,"at":12.5}`, `{"type":"end","at":4000}`, `{}`, `[]`, `{"type":"color","index":-1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := capture.ParseClientMessage(b)
		if err != nil {
			if !errors.Is(err, capture.ErrBadMessage) {
				t.Fatalf("err = %v, want ErrBadMessage", err)
			}
			return
		}
		switch m.Type {
		case capture.MsgHello:
		case capture.MsgColor, capture.MsgEnd:
			if m.At < 0 || m.At > 600_000 || math.IsNaN(m.At) || m.AtDuration() < 0 {
				t.Fatalf("accepted at = %v", m.At)
			}
			if m.Type == capture.MsgColor && (m.Index < 0 || m.Index > 63) {
				t.Fatalf("accepted index %d", m.Index)
			}
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	f.Add(capture.EncodeFrame(66*time.Millisecond, []byte{0xFF, 0xD8, 0xFF, 0xDB, 0, 0}))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xF0, 0x7F, 0xFF, 0xD8, 0xFF})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		at, jpg, err := capture.ParseFrame(b)
		if err != nil {
			if !errors.Is(err, capture.ErrBadMessage) {
				t.Fatalf("err = %v", err)
			}
			return
		}
		if at < 0 || at > 600*time.Second || len(jpg) != len(b)-8 || !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8, 0xFF}) {
			t.Fatalf("accepted at=%v len=%d", at, len(jpg))
		}
	})
}
