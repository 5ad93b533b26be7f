package eventstream_test

import (
	"bytes"
	"testing"

	"github.com/livenessd/livenessd/internal/amplify/eventstream"
)

// FuzzDecodeMessage checks that the decoder never panics, never accepts more
// than the limits, and that whatever it accepts re-encodes to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(readHex(f, "disconnection-event.hex"))
	f.Add(readHex(f, "video-event-inner.hex"))
	f.Add(readHex(f, "video-event-outer.hex"))
	empty, _ := eventstream.Encode(eventstream.Message{})
	f.Add(empty)
	lim := eventstream.Limits{MaxMessageLen: 1 << 20, MaxHeadersLen: 1 << 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := eventstream.DecodeFirst(b, lim)
		if err != nil {
			return
		}
		if n > lim.MaxMessageLen || n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		re, err := eventstream.Encode(m)
		if err != nil {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
		if !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoded\n%x\nwant\n%x", re, b[:n])
		}
	})
}

// FuzzDecodeEnvelope checks the outer-frame path the endpoint runs on every
// WebSocket message: envelope, then the inner message.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(readHex(f, "video-event-outer.hex"))
	f.Add(readHex(f, "disconnection-event.hex"))
	lim := eventstream.Limits{MaxMessageLen: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := eventstream.DecodeEnvelope(b, lim)
		if err != nil {
			return
		}
		if len(env.Signature) != eventstream.SignatureLen {
			t.Fatalf("signature of %d bytes accepted", len(env.Signature))
		}
		re, err := eventstream.EncodeEnvelope(env)
		if err != nil {
			t.Fatal(err)
		}
		back, err := eventstream.DecodeEnvelope(re, lim)
		if err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		if !back.Date.Equal(env.Date) || !bytes.Equal(back.Signature, env.Signature) || !bytes.Equal(back.Inner, env.Inner) {
			t.Fatalf("envelope round trip: %+v != %+v", back, env)
		}
		if len(env.Inner) > 0 {
			_, _ = eventstream.Decode(env.Inner, lim)
		}
	})
}
