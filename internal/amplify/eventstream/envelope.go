package eventstream

import (
	"fmt"
	"time"
)

// Header names of the signed envelope and of logical messages.
const (
	HeaderDate           = ":date"
	HeaderChunkSignature = ":chunk-signature"
	HeaderMessageType    = ":message-type"
	HeaderEventType      = ":event-type"
	HeaderExceptionType  = ":exception-type"
	HeaderContentType    = ":content-type"
	HeaderErrorCode      = ":error-code"
	HeaderErrorMessage   = ":error-message"
)

// Values of :message-type.
const (
	MessageTypeEvent     = "event"
	MessageTypeException = "exception"
	MessageTypeError     = "error"
)

// SignatureLen is the size of a :chunk-signature (an HMAC-SHA256 digest).
const SignatureLen = 32

// Envelope is the outer message a client wraps around each event it sends:
// headers :date (timestamp) and :chunk-signature (32 bytes), and the inner
// message's bytes as payload. An empty Inner is the SDK's end-of-stream
// frame.
type Envelope struct {
	Date      time.Time
	Signature []byte // SignatureLen bytes
	// Inner is the encoded inner message exactly as signed; it aliases the
	// frame given to DecodeEnvelope.
	Inner []byte
}

// DecodeEnvelope decodes one outer message that fills frame. It checks the
// outer CRCs and the two envelope headers, not the signature and not the
// inner message (decode that with Decode).
func DecodeEnvelope(frame []byte, lim Limits) (Envelope, error) {
	m, err := Decode(frame, lim)
	if err != nil {
		return Envelope{}, err
	}
	d, ok := m.Headers.Get(HeaderDate)
	if !ok || d.Type != TypeTimestamp {
		return Envelope{}, fmt.Errorf("%w: envelope has no %s timestamp header", ErrMalformed, HeaderDate)
	}
	s, ok := m.Headers.Get(HeaderChunkSignature)
	if !ok || s.Type != TypeByteArray || len(s.Bytes) != SignatureLen {
		return Envelope{}, fmt.Errorf("%w: envelope has no %d-byte %s header", ErrMalformed, SignatureLen, HeaderChunkSignature)
	}
	if _, ok := m.Headers.Get(HeaderMessageType); ok {
		return Envelope{}, fmt.Errorf("%w: envelope carries %s", ErrMalformed, HeaderMessageType)
	}
	return Envelope{Date: d.Time(), Signature: s.Bytes, Inner: m.Payload}, nil
}

// EncodeEnvelope returns the outer message for inner, with the headers in
// the order the AWS SDK writes them.
func EncodeEnvelope(e Envelope) ([]byte, error) {
	if len(e.Signature) != SignatureLen {
		return nil, fmt.Errorf("eventstream: signature must be %d bytes, got %d", SignatureLen, len(e.Signature))
	}
	return Encode(Message{
		Headers: Headers{
			{Name: HeaderDate, Value: Timestamp(e.Date)},
			{Name: HeaderChunkSignature, Value: ByteArray(e.Signature)},
		},
		Payload: e.Inner,
	})
}

// DateHeader returns the encoded header block holding only :date = t, the
// bytes whose SHA-256 enters each chunk signature.
func DateHeader(t time.Time) []byte {
	return AppendHeaders(nil, Headers{{Name: HeaderDate, Value: Timestamp(t)}})
}

// Event returns a logical event message with a JSON payload, headers in the
// order the AWS SDK's own encoder writes them for server events.
func Event(eventType string, payload []byte) Message {
	return Message{
		Headers: Headers{
			{Name: HeaderMessageType, Value: String(MessageTypeEvent)},
			{Name: HeaderEventType, Value: String(eventType)},
			{Name: HeaderContentType, Value: String("application/json")},
		},
		Payload: payload,
	}
}

// Exception returns a modeled-exception message with a JSON payload.
func Exception(exceptionType string, payload []byte) Message {
	return Message{
		Headers: Headers{
			{Name: HeaderMessageType, Value: String(MessageTypeException)},
			{Name: HeaderExceptionType, Value: String(exceptionType)},
			{Name: HeaderContentType, Value: String("application/json")},
		},
		Payload: payload,
	}
}
