package eventstream_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/amplify/eventstream"
)

// readHex reads a testdata file of hex bytes with spaces, newlines and
// '#' comment lines, as the protocol document prints them.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for line := range strings.SplitSeq(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func TestDisconnectionEventVector(t *testing.T) {
	want := readHex(t, "disconnection-event.hex")
	if len(want) != 137 {
		t.Fatalf("vector is %d bytes, want 137", len(want))
	}
	got, err := eventstream.Encode(eventstream.Event("DisconnectionEvent", []byte(`{"TimestampMillis":1700000000000}`)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoded\n%x\nwant\n%x", got, want)
	}
	m, err := eventstream.Decode(want, eventstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{":message-type": "event", ":event-type": "DisconnectionEvent", ":content-type": "application/json"} {
		if got := m.Headers.GetString(name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	if got, want := string(m.Payload), `{"TimestampMillis":1700000000000}`; got != want {
		t.Errorf("payload %s, want %s", got, want)
	}
}

func TestVideoEventEnvelopeVector(t *testing.T) {
	frame := readHex(t, "video-event-outer.hex")
	inner := readHex(t, "video-event-inner.hex")
	if len(frame) != 236 || len(inner) != 153 {
		t.Fatalf("vector sizes %d/%d, want 236/153", len(frame), len(inner))
	}
	env, err := eventstream.DecodeEnvelope(frame, eventstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := env.Date.UnixMilli(), int64(1795690203826); got != want {
		t.Errorf(":date = %d, want %d", got, want)
	}
	if got, want := hex.EncodeToString(env.Signature), "90b87e65d7ef4ebf1f13bb800487f1c24b6f263be6fcd0022b9424eacad403e3"; got != want {
		t.Errorf(":chunk-signature = %s, want %s", got, want)
	}
	if !bytes.Equal(env.Inner, inner) {
		t.Fatalf("inner\n%x\nwant\n%x", env.Inner, inner)
	}
	if got, want := hex.EncodeToString(eventstream.DateHeader(env.Date)), "053a6461746508000001a2177a0ab2"; got != want {
		t.Errorf("date header %s, want %s", got, want)
	}
	m, err := eventstream.Decode(env.Inner, eventstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Headers.GetString(":event-type"); got != "VideoEvent" {
		t.Errorf(":event-type = %q", got)
	}
	if got := m.Headers[0].Name; got != ":event-type" {
		t.Errorf("first client header %q, want :event-type (client order)", got)
	}
	if got, want := string(m.Payload), `{"VideoChunk":"GkXfow==","TimestampMillis":1700000001100}`; got != want {
		t.Errorf("payload %s, want %s", got, want)
	}
	// Re-encoding gives the captured bytes back: header order, lengths and
	// both CRCs of the SDK.
	reInner, err := eventstream.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reInner, inner) {
		t.Errorf("re-encoded inner differs")
	}
	reFrame, err := eventstream.EncodeEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reFrame, frame) {
		t.Errorf("re-encoded frame\n%x\nwant\n%x", reFrame, frame)
	}
	if got := binary.BigEndian.Uint32(frame[4:8]); got != 0x43 {
		t.Errorf("outer header block %d bytes, want 67", got)
	}
}

func TestRoundTripAllHeaderTypes(t *testing.T) {
	u := [16]byte{0x1f, 0x0c, 0x9a, 0x6e, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1}
	at := time.UnixMilli(1795690203826)
	for _, test := range []struct {
		name string
		v    eventstream.Value
		wire string // hex of the value bytes after the type tag
	}{
		{"True", eventstream.Bool(true), ""},
		{"False", eventstream.Bool(false), ""},
		{"Byte", eventstream.Int8(-2), "fe"},
		{"Short", eventstream.Int16(-300), "fed4"},
		{"Integer", eventstream.Int32(-70000), "fffeee90"},
		{"Long", eventstream.Int64(-1), "ffffffffffffffff"},
		{"ByteArray", eventstream.ByteArray([]byte{0, 1, 0xff}), "000300" + "01ff"},
		{"EmptyByteArray", eventstream.ByteArray([]byte{}), "0000"},
		{"String", eventstream.String("héllo"), "0006" + hex.EncodeToString([]byte("héllo"))},
		{"Timestamp", eventstream.Timestamp(at), "000001a2177a0ab2"},
		{"UUID", eventstream.UUID(u), hex.EncodeToString(u[:])},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := eventstream.Message{Headers: eventstream.Headers{{Name: "h", Value: test.v}}, Payload: []byte("p")}
			b, err := eventstream.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			hend := 12 + int(binary.BigEndian.Uint32(b[4:8]))
			wantHdr := "0168" + hex.EncodeToString([]byte{byte(test.v.Type)}) + test.wire
			if got := hex.EncodeToString(b[12:hend]); got != wantHdr {
				t.Errorf("header bytes %s, want %s", got, wantHdr)
			}
			got, err := eventstream.Decode(b, eventstream.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Headers) != 1 || got.Headers[0].Name != "h" || !got.Headers[0].Value.Equal(test.v) {
				t.Errorf("decoded %+v, want %+v", got.Headers, test.v)
			}
			if string(got.Payload) != "p" {
				t.Errorf("payload %q", got.Payload)
			}
		})
	}
	if got := eventstream.Timestamp(at).Time(); !got.Equal(at) {
		t.Errorf("Time() = %v, want %v", got, at)
	}
}

func TestEmptyMessage(t *testing.T) {
	b, err := eventstream.Encode(eventstream.Message{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != eventstream.MinMessageLen {
		t.Fatalf("empty message is %d bytes, want %d", len(b), eventstream.MinMessageLen)
	}
	m, err := eventstream.Decode(b, eventstream.Limits{})
	if err != nil || len(m.Headers) != 0 || len(m.Payload) != 0 {
		t.Fatalf("Decode = %+v, %v", m, err)
	}
}

// fixCRCs recomputes both CRCs so a test reaches the check behind them.
func fixCRCs(b []byte) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b[8:12], crc32.ChecksumIEEE(b[0:8]))
	if len(b) >= 16 {
		binary.BigEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	good := readHex(t, "disconnection-event.hex")
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, test := range []struct {
		name string
		in   []byte
		lim  eventstream.Limits
		want error
	}{
		{"Empty", nil, eventstream.Limits{}, eventstream.ErrShort},
		{"ShortPrelude", good[:11], eventstream.Limits{}, eventstream.ErrShort},
		{"Truncated", good[:100], eventstream.Limits{}, eventstream.ErrShort},
		{"Trailing", append(bytes.Clone(good), 0), eventstream.Limits{}, eventstream.ErrTrailingBytes},
		{"PreludeCRC", mutate(func(b []byte) []byte { b[8] ^= 1; return b }), eventstream.Limits{}, eventstream.ErrPreludeCRC},
		{"MessageCRC", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), eventstream.Limits{}, eventstream.ErrMessageCRC},
		{"PayloadFlip", mutate(func(b []byte) []byte { b[110] ^= 1; return b }), eventstream.Limits{}, eventstream.ErrMessageCRC},
		// A 4 GiB length with a valid prelude CRC must be refused before
		// anything is read or allocated.
		{"HugeTotal", fixCRCs([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}), eventstream.Limits{}, eventstream.ErrTooLarge},
		{"OverLimit", good, eventstream.Limits{MaxMessageLen: 100}, eventstream.ErrTooLarge},
		{"HeadersOverLimit", good, eventstream.Limits{MaxHeadersLen: 10}, eventstream.ErrTooLarge},
		{"TotalBelowMin", fixCRCs([]byte{0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), eventstream.Limits{}, eventstream.ErrMalformed},
		{"HeadersPastTotal", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[4:8], 200); return fixCRCs(b) }), eventstream.Limits{}, eventstream.ErrMalformed},
		{"UnknownType", mutate(func(b []byte) []byte { b[12+1+13] = 10; return fixCRCs(b) }), eventstream.Limits{}, eventstream.ErrMalformed},
		{"ZeroNameLen", mutate(func(b []byte) []byte { b[12] = 0; return fixCRCs(b) }), eventstream.Limits{}, eventstream.ErrMalformed},
		{"StringPastBlock", mutate(func(b []byte) []byte { b[12+1+13+1] = 0x7f; return fixCRCs(b) }), eventstream.Limits{}, eventstream.ErrMalformed},
		{"StringNotUTF8", mutate(func(b []byte) []byte { b[12+1+13+3] = 0xff; return fixCRCs(b) }), eventstream.Limits{}, eventstream.ErrMalformed},
	} {
		t.Run(test.name, func(t *testing.T) {
			_, err := eventstream.Decode(test.in, test.lim)
			if !errors.Is(err, test.want) {
				t.Fatalf("Decode error %v, want %v", err, test.want)
			}
			if !errors.Is(err, eventstream.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestDecodeFirstSplitsConcatenated(t *testing.T) {
	a := readHex(t, "disconnection-event.hex")
	b := readHex(t, "video-event-inner.hex")
	buf := append(bytes.Clone(a), b...)
	var types []string
	for len(buf) > 0 {
		m, n, err := eventstream.DecodeFirst(buf, eventstream.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, m.Headers.GetString(":event-type"))
		buf = buf[n:]
	}
	if got, want := strings.Join(types, ","), "DisconnectionEvent,VideoEvent"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	inner := readHex(t, "video-event-inner.hex")
	sig := bytes.Repeat([]byte{7}, 32)
	at := time.UnixMilli(1795690203826)
	enc := func(hs eventstream.Headers) []byte {
		b, err := eventstream.Encode(eventstream.Message{Headers: hs, Payload: inner})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, test := range []struct {
		name string
		in   []byte
	}{
		{"NoDate", enc(eventstream.Headers{{Name: ":chunk-signature", Value: eventstream.ByteArray(sig)}})},
		{"DateWrongType", enc(eventstream.Headers{{Name: ":date", Value: eventstream.Int64(1)}, {Name: ":chunk-signature", Value: eventstream.ByteArray(sig)}})},
		{"NoSignature", enc(eventstream.Headers{{Name: ":date", Value: eventstream.Timestamp(at)}})},
		{"ShortSignature", enc(eventstream.Headers{{Name: ":date", Value: eventstream.Timestamp(at)}, {Name: ":chunk-signature", Value: eventstream.ByteArray(sig[:31])}})},
		{"LogicalMessage", inner},
	} {
		t.Run(test.name, func(t *testing.T) {
			if _, err := eventstream.DecodeEnvelope(test.in, eventstream.Limits{}); !errors.Is(err, eventstream.ErrMalformed) {
				t.Fatalf("DecodeEnvelope error %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := eventstream.EncodeEnvelope(eventstream.Envelope{Date: at, Signature: sig[:5]}); err == nil {
		t.Error("EncodeEnvelope accepted a 5-byte signature")
	}
	// The SDK's end-of-stream frame: an envelope with no inner message.
	end, err := eventstream.EncodeEnvelope(eventstream.Envelope{Date: at, Signature: sig})
	if err != nil {
		t.Fatal(err)
	}
	if len(end) != 83 {
		t.Errorf("end frame %d bytes, want 83", len(end))
	}
	env, err := eventstream.DecodeEnvelope(end, eventstream.Limits{})
	if err != nil || len(env.Inner) != 0 {
		t.Errorf("end frame decoded as %+v, %v", env, err)
	}
}

func TestEncodeRejectsInvalidHeaders(t *testing.T) {
	for _, test := range []struct {
		name string
		h    eventstream.Header
	}{
		{"EmptyName", eventstream.Header{Name: "", Value: eventstream.Bool(true)}},
		{"LongName", eventstream.Header{Name: strings.Repeat("n", 256), Value: eventstream.Bool(true)}},
		{"LongString", eventstream.Header{Name: "s", Value: eventstream.String(strings.Repeat("x", 32768))}},
		{"LongBytes", eventstream.Header{Name: "b", Value: eventstream.ByteArray(make([]byte, 32768))}},
		{"ShortUUID", eventstream.Header{Name: "u", Value: eventstream.Value{Type: eventstream.TypeUUID, Bytes: []byte{1}}}},
		{"UnknownType", eventstream.Header{Name: "x", Value: eventstream.Value{Type: 10}}},
	} {
		t.Run(test.name, func(t *testing.T) {
			if _, err := eventstream.Encode(eventstream.Message{Headers: eventstream.Headers{test.h}}); err == nil {
				t.Fatal("Encode accepted an invalid header")
			}
		})
	}
}
