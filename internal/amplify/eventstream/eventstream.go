// Package eventstream encodes and decodes AWS event-stream messages
// (application/vnd.amazon.eventstream), the framing the Rekognition
// streaming API uses in both directions, and the signed envelope a client
// wraps around each of its events.
//
// Wire layout of one message, all integers big-endian:
//
//	total_length uint32 | headers_length uint32 | prelude_crc uint32 |
//	headers [headers_length] | payload | message_crc uint32
//
// Both CRCs are CRC-32/IEEE: the prelude CRC covers the first 8 bytes, the
// message CRC everything before it. Lengths are checked against limits before
// anything is allocated, so a hostile length field costs nothing.
package eventstream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
	"unicode/utf8"
)

// Sizes fixed by the format.
const (
	preludeLen = 12 // total_length, headers_length, prelude_crc
	// MinMessageLen is the size of a message with no headers and no payload.
	MinMessageLen = preludeLen + 4

	// MaxHeaderNameLen is the longest header name (a uint8 length).
	MaxHeaderNameLen = 255
	// MaxHeaderValueLen is the longest string or byte-array header value the
	// AWS codecs accept (the uint16 length is further limited to int16).
	MaxHeaderValueLen = 32767
)

// Default limits: the AWS SDKs cap a message at 16 MiB and its header block
// at 128 KiB.
const (
	DefaultMaxMessageLen = 16 << 20
	DefaultMaxHeadersLen = 128 << 10
)

// Errors returned by the decoder. Every decode error wraps ErrMalformed.
var (
	ErrMalformed     = errors.New("eventstream: malformed message")
	ErrTooLarge      = fmt.Errorf("%w: length exceeds limit", ErrMalformed)
	ErrPreludeCRC    = fmt.Errorf("%w: prelude checksum mismatch", ErrMalformed)
	ErrMessageCRC    = fmt.Errorf("%w: message checksum mismatch", ErrMalformed)
	ErrShort         = fmt.Errorf("%w: truncated", ErrMalformed)
	ErrTrailingBytes = fmt.Errorf("%w: bytes after the message", ErrMalformed)
)

// Type is a header value type.
type Type uint8

// Header value types (the tag byte on the wire).
const (
	TypeTrue      Type = 0
	TypeFalse     Type = 1
	TypeByte      Type = 2
	TypeShort     Type = 3
	TypeInteger   Type = 4
	TypeLong      Type = 5
	TypeByteArray Type = 6
	TypeString    Type = 7
	TypeTimestamp Type = 8 // int64 milliseconds since the Unix epoch
	TypeUUID      Type = 9
)

func (t Type) String() string {
	switch t {
	case TypeTrue:
		return "true"
	case TypeFalse:
		return "false"
	case TypeByte:
		return "byte"
	case TypeShort:
		return "short"
	case TypeInteger:
		return "integer"
	case TypeLong:
		return "long"
	case TypeByteArray:
		return "byte_array"
	case TypeString:
		return "string"
	case TypeTimestamp:
		return "timestamp"
	case TypeUUID:
		return "uuid"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Value is one typed header value. Which field holds the value depends on
// Type: Int for byte, short, integer, long and timestamp (milliseconds);
// Bytes for byte arrays and UUIDs (16 bytes); Str for strings. Booleans are
// the type alone.
type Value struct {
	Type  Type
	Int   int64
	Bytes []byte
	Str   string
}

// Bool returns a boolean value.
func Bool(b bool) Value {
	if b {
		return Value{Type: TypeTrue}
	}
	return Value{Type: TypeFalse}
}

// Int8 returns a byte value.
func Int8(v int8) Value { return Value{Type: TypeByte, Int: int64(v)} }

// Int16 returns a short value.
func Int16(v int16) Value { return Value{Type: TypeShort, Int: int64(v)} }

// Int32 returns an integer value.
func Int32(v int32) Value { return Value{Type: TypeInteger, Int: int64(v)} }

// Int64 returns a long value.
func Int64(v int64) Value { return Value{Type: TypeLong, Int: v} }

// ByteArray returns a byte-array value.
func ByteArray(b []byte) Value { return Value{Type: TypeByteArray, Bytes: b} }

// String returns a string value.
func String(s string) Value { return Value{Type: TypeString, Str: s} }

// Timestamp returns a timestamp value with millisecond precision.
func Timestamp(t time.Time) Value { return Value{Type: TypeTimestamp, Int: t.UnixMilli()} }

// UUID returns a UUID value.
func UUID(u [16]byte) Value { return Value{Type: TypeUUID, Bytes: u[:]} }

// Time returns a timestamp value as a time.
func (v Value) Time() time.Time { return time.UnixMilli(v.Int).UTC() }

// Equal reports whether two values have the same type and content.
func (v Value) Equal(o Value) bool {
	if v.Type != o.Type {
		return false
	}
	switch v.Type {
	case TypeTrue, TypeFalse:
		return true
	case TypeByte, TypeShort, TypeInteger, TypeLong, TypeTimestamp:
		return v.Int == o.Int
	case TypeByteArray, TypeUUID:
		return bytes.Equal(v.Bytes, o.Bytes)
	case TypeString:
		return v.Str == o.Str
	}
	return false
}

// Header is one named header.
type Header struct {
	Name  string
	Value Value
}

// Headers keeps the order of the wire; look headers up by name, never by
// position.
type Headers []Header

// Get returns the first header with the name.
func (h Headers) Get(name string) (Value, bool) {
	for _, x := range h {
		if x.Name == name {
			return x.Value, true
		}
	}
	return Value{}, false
}

// GetString returns a string header's value, or "" when it is absent or
// of another type.
func (h Headers) GetString(name string) string {
	v, ok := h.Get(name)
	if !ok || v.Type != TypeString {
		return ""
	}
	return v.Str
}

// Message is one decoded event-stream message.
type Message struct {
	Headers Headers
	Payload []byte
}

// Limits bound what the decoder accepts. Zero fields take the defaults.
type Limits struct {
	MaxMessageLen int
	MaxHeadersLen int
}

func (l Limits) withDefaults() Limits {
	if l.MaxMessageLen <= 0 {
		l.MaxMessageLen = DefaultMaxMessageLen
	}
	if l.MaxHeadersLen <= 0 {
		l.MaxHeadersLen = DefaultMaxHeadersLen
	}
	return l
}

// Prelude is the fixed 12-byte start of a message.
type Prelude struct {
	TotalLen   uint32
	HeadersLen uint32
}

// ReadPrelude checks the first 12 bytes of b: the prelude CRC, the minimum
// length, that the headers fit and the limits. It needs only those 12 bytes,
// so a reader can check a length before buffering the rest.
func ReadPrelude(b []byte, lim Limits) (Prelude, error) {
	lim = lim.withDefaults()
	if len(b) < preludeLen {
		return Prelude{}, ErrShort
	}
	p := Prelude{TotalLen: binary.BigEndian.Uint32(b[0:4]), HeadersLen: binary.BigEndian.Uint32(b[4:8])}
	if crc32.ChecksumIEEE(b[0:8]) != binary.BigEndian.Uint32(b[8:12]) {
		return Prelude{}, ErrPreludeCRC
	}
	if p.TotalLen < MinMessageLen {
		return Prelude{}, fmt.Errorf("%w: total length %d below %d", ErrMalformed, p.TotalLen, MinMessageLen)
	}
	if uint64(p.TotalLen) > uint64(lim.MaxMessageLen) {
		return Prelude{}, fmt.Errorf("%w: total length %d > %d", ErrTooLarge, p.TotalLen, lim.MaxMessageLen)
	}
	if uint64(p.HeadersLen) > uint64(lim.MaxHeadersLen) {
		return Prelude{}, fmt.Errorf("%w: headers length %d > %d", ErrTooLarge, p.HeadersLen, lim.MaxHeadersLen)
	}
	if uint64(p.HeadersLen) > uint64(p.TotalLen)-MinMessageLen {
		return Prelude{}, fmt.Errorf("%w: headers length %d does not fit in total length %d", ErrMalformed, p.HeadersLen, p.TotalLen)
	}
	return p, nil
}

// Decode decodes exactly one message that fills b.
func Decode(b []byte, lim Limits) (Message, error) {
	m, n, err := DecodeFirst(b, lim)
	if err != nil {
		return Message{}, err
	}
	if n != len(b) {
		return Message{}, fmt.Errorf("%w: %d of %d bytes", ErrTrailingBytes, len(b)-n, len(b))
	}
	return m, nil
}

// DecodeFirst decodes the message at the start of b and returns how many
// bytes it used; ErrShort means b does not yet hold the whole message. The
// returned slices alias b.
func DecodeFirst(b []byte, lim Limits) (Message, int, error) {
	p, err := ReadPrelude(b, lim)
	if err != nil {
		return Message{}, 0, err
	}
	total := int(p.TotalLen)
	if len(b) < total {
		return Message{}, 0, ErrShort
	}
	msg := b[:total]
	if crc32.ChecksumIEEE(msg[:total-4]) != binary.BigEndian.Uint32(msg[total-4:]) {
		return Message{}, 0, ErrMessageCRC
	}
	hend := preludeLen + int(p.HeadersLen)
	hs, err := decodeHeaders(msg[preludeLen:hend])
	if err != nil {
		return Message{}, 0, err
	}
	return Message{Headers: hs, Payload: msg[hend : total-4]}, total, nil
}

func decodeHeaders(b []byte) (Headers, error) {
	var hs Headers
	for len(b) > 0 {
		nameLen := int(b[0])
		b = b[1:]
		if nameLen == 0 {
			return nil, fmt.Errorf("%w: empty header name", ErrMalformed)
		}
		if len(b) < nameLen+1 {
			return nil, fmt.Errorf("%w: header name runs past the header block", ErrMalformed)
		}
		name := string(b[:nameLen])
		if !utf8.ValidString(name) {
			return nil, fmt.Errorf("%w: header name is not UTF-8", ErrMalformed)
		}
		typ := Type(b[nameLen])
		b = b[nameLen+1:]
		v := Value{Type: typ}
		need := func(n int) error {
			if len(b) < n {
				return fmt.Errorf("%w: header %q value runs past the header block", ErrMalformed, name)
			}
			return nil
		}
		switch typ {
		case TypeTrue, TypeFalse:
		case TypeByte:
			if err := need(1); err != nil {
				return nil, err
			}
			v.Int, b = int64(int8(b[0])), b[1:]
		case TypeShort:
			if err := need(2); err != nil {
				return nil, err
			}
			v.Int, b = int64(int16(binary.BigEndian.Uint16(b))), b[2:]
		case TypeInteger:
			if err := need(4); err != nil {
				return nil, err
			}
			v.Int, b = int64(int32(binary.BigEndian.Uint32(b))), b[4:]
		case TypeLong, TypeTimestamp:
			if err := need(8); err != nil {
				return nil, err
			}
			v.Int, b = int64(binary.BigEndian.Uint64(b)), b[8:]
		case TypeByteArray, TypeString:
			if err := need(2); err != nil {
				return nil, err
			}
			n := int(binary.BigEndian.Uint16(b))
			b = b[2:]
			if n > MaxHeaderValueLen {
				return nil, fmt.Errorf("%w: header %q value length %d > %d", ErrMalformed, name, n, MaxHeaderValueLen)
			}
			if err := need(n); err != nil {
				return nil, err
			}
			if typ == TypeString {
				if !utf8.Valid(b[:n]) {
					return nil, fmt.Errorf("%w: header %q string is not UTF-8", ErrMalformed, name)
				}
				v.Str = string(b[:n])
			} else {
				v.Bytes = b[:n:n]
			}
			b = b[n:]
		case TypeUUID:
			if err := need(16); err != nil {
				return nil, err
			}
			v.Bytes, b = b[:16:16], b[16:]
		default:
			return nil, fmt.Errorf("%w: header %q has unknown type %d", ErrMalformed, name, uint8(typ))
		}
		hs = append(hs, Header{Name: name, Value: v})
	}
	return hs, nil
}

// Encode returns the wire form of m.
func Encode(m Message) ([]byte, error) { return Append(nil, m) }

// Append appends the wire form of m to dst.
func Append(dst []byte, m Message) ([]byte, error) {
	hlen, err := headersLen(m.Headers)
	if err != nil {
		return dst, err
	}
	total := uint64(MinMessageLen) + uint64(hlen) + uint64(len(m.Payload))
	if total > DefaultMaxMessageLen {
		return dst, fmt.Errorf("eventstream: message of %d bytes exceeds %d", total, DefaultMaxMessageLen)
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(total))
	dst = binary.BigEndian.AppendUint32(dst, uint32(hlen))
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:start+8]))
	dst = AppendHeaders(dst, m.Headers)
	dst = append(dst, m.Payload...)
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
	return dst, nil
}

func headersLen(hs Headers) (int, error) {
	n := 0
	for _, h := range hs {
		if len(h.Name) == 0 || len(h.Name) > MaxHeaderNameLen {
			return 0, fmt.Errorf("eventstream: header name %q: length must be 1..%d", h.Name, MaxHeaderNameLen)
		}
		n += 1 + len(h.Name) + 1
		switch h.Value.Type {
		case TypeTrue, TypeFalse:
		case TypeByte:
			n++
		case TypeShort:
			n += 2
		case TypeInteger:
			n += 4
		case TypeLong, TypeTimestamp:
			n += 8
		case TypeByteArray:
			if len(h.Value.Bytes) > MaxHeaderValueLen {
				return 0, fmt.Errorf("eventstream: header %q: value longer than %d", h.Name, MaxHeaderValueLen)
			}
			n += 2 + len(h.Value.Bytes)
		case TypeString:
			if len(h.Value.Str) > MaxHeaderValueLen {
				return 0, fmt.Errorf("eventstream: header %q: value longer than %d", h.Name, MaxHeaderValueLen)
			}
			n += 2 + len(h.Value.Str)
		case TypeUUID:
			if len(h.Value.Bytes) != 16 {
				return 0, fmt.Errorf("eventstream: header %q: uuid must be 16 bytes", h.Name)
			}
			n += 16
		default:
			return 0, fmt.Errorf("eventstream: header %q: unknown type %d", h.Name, uint8(h.Value.Type))
		}
	}
	if n > DefaultMaxHeadersLen {
		return 0, fmt.Errorf("eventstream: header block of %d bytes exceeds %d", n, DefaultMaxHeadersLen)
	}
	return n, nil
}

// AppendHeaders appends the wire form of the header block. The headers must
// be valid (Encode checks them); AppendHeaders is exported because a signer
// hashes the encoded :date header on its own.
func AppendHeaders(dst []byte, hs Headers) []byte {
	for _, h := range hs {
		dst = append(dst, byte(len(h.Name)))
		dst = append(dst, h.Name...)
		dst = append(dst, byte(h.Value.Type))
		v := h.Value
		switch v.Type {
		case TypeByte:
			dst = append(dst, byte(int8(v.Int)))
		case TypeShort:
			dst = binary.BigEndian.AppendUint16(dst, uint16(int16(v.Int)))
		case TypeInteger:
			dst = binary.BigEndian.AppendUint32(dst, uint32(int32(v.Int)))
		case TypeLong, TypeTimestamp:
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.Int))
		case TypeByteArray:
			dst = binary.BigEndian.AppendUint16(dst, uint16(len(v.Bytes)))
			dst = append(dst, v.Bytes...)
		case TypeString:
			dst = binary.BigEndian.AppendUint16(dst, uint16(len(v.Str)))
			dst = append(dst, v.Str...)
		case TypeUUID:
			dst = append(dst, v.Bytes...)
		}
	}
	return dst
}
