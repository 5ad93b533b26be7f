package amplify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd/internal/amplify"
	"github.com/livenessd/livenessd/internal/amplify/eventstream"
	"github.com/livenessd/livenessd/internal/amplify/sigv4"
)

// fakeClient plays the Amplify component's side of the wire protocol: the
// query it sends, the signed envelope around each event, the event JSON.
type fakeClient struct {
	t      testing.TB
	conn   *websocket.Conn
	signer *sigv4.Signer // nil: unsigned envelopes (a server that does not verify ignores them)
}

type dialOptions struct {
	sessionID  string
	token      string
	challenges string
	width      string
	signer     *sigv4.Signer
	signedAt   time.Time
	mutate     func(q url.Values)
}

func dial(t testing.TB, srv *httptest.Server, o dialOptions) *fakeClient {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "ws"
	u.Path = amplify.Path
	if o.challenges == "" {
		o.challenges = "FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0"
	}
	if o.width == "" {
		o.width = "640"
	}
	q := url.Values{
		"session-id": {o.sessionID}, "challenge-versions": {o.challenges},
		"video-width": {o.width}, "video-height": {"480"},
		"attempt-count": {"1"}, "precheck-view-enabled": {"1"},
		"x-amz-user-agent": {"aws-sdk-js/3.1112.0 ua/2.1 api/rekognitionstreaming#3.1112.0 m/E aws-amplify/6.22.1-framework/0-ui-react-liveness/3.6.8"},
	}
	if o.mutate != nil {
		o.mutate(q)
	}
	u.RawQuery = q.Encode()
	c := &fakeClient{t: t, signer: o.signer}
	if o.signer != nil {
		if o.signedAt.IsZero() {
			o.signedAt = time.Now()
		}
		if err := o.signer.Presign(u, o.signedAt, 299*time.Second); err != nil {
			t.Fatal(err)
		}
	} else if o.token != "" {
		q.Set("X-Amz-Security-Token", o.token)
		u.RawQuery = q.Encode()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u.String(), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	c.conn = conn
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

// send wraps one logical event in the client's envelope.
func (c *fakeClient) send(eventType string, body any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	inner, err := eventstream.Encode(eventstream.Message{Headers: eventstream.Headers{
		{Name: ":event-type", Value: eventstream.String(eventType)},
		{Name: ":message-type", Value: eventstream.String("event")},
		{Name: ":content-type", Value: eventstream.String("application/json")},
	}, Payload: payload})
	if err != nil {
		return err
	}
	return c.sendInner(inner)
}

func (c *fakeClient) sendInner(inner []byte) error {
	var frame []byte
	var err error
	if c.signer != nil {
		frame, err = c.signer.Envelope(inner, time.Now())
	} else {
		frame, err = eventstream.EncodeEnvelope(eventstream.Envelope{Date: time.Now(), Signature: make([]byte, 32), Inner: inner})
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageBinary, frame)
}

// serverMessage is one decoded server message.
type serverMessage struct {
	messageType, eventType, exceptionType string
	payload                               []byte
}

// read returns the next server message, or the close error.
func (c *fakeClient) read(timeout time.Duration) (serverMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, b, err := c.conn.Read(ctx)
	if err != nil {
		return serverMessage{}, err
	}
	if typ != websocket.MessageBinary {
		return serverMessage{}, fmt.Errorf("server sent a %v frame", typ)
	}
	m, err := eventstream.Decode(b, eventstream.Limits{})
	if err != nil {
		return serverMessage{}, err
	}
	return serverMessage{
		messageType:   m.Headers.GetString(":message-type"),
		eventType:     m.Headers.GetString(":event-type"),
		exceptionType: m.Headers.GetString(":exception-type"),
		payload:       m.Payload,
	}, nil
}

// expectException reads until an exception and checks its type, then the
// close that follows.
func (c *fakeClient) expectException(want string) {
	c.t.Helper()
	m, err := c.read(10 * time.Second)
	if err != nil {
		c.t.Fatalf("want %s, got error %v", want, err)
	}
	if m.messageType != "exception" || m.exceptionType != want {
		c.t.Fatalf("want exception %s, got %s %s%s: %s", want, m.messageType, m.eventType, m.exceptionType, m.payload)
	}
	var body struct{ Message, Code string }
	if err := json.Unmarshal(m.payload, &body); err != nil || body.Message == "" {
		c.t.Fatalf("exception body %s: %v", m.payload, err)
	}
	if _, err := c.read(5 * time.Second); websocket.CloseStatus(err) == -1 {
		c.t.Fatalf("after the exception: %v, want a close", err)
	}
}

// sessionInfo reads the ServerSessionInformationEvent.
func (c *fakeClient) sessionInfo() map[string]serverChallenge {
	c.t.Helper()
	m, err := c.read(10 * time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	if m.messageType != "event" || m.eventType != "ServerSessionInformationEvent" {
		c.t.Fatalf("first server message %s %s%s: %s", m.messageType, m.eventType, m.exceptionType, m.payload)
	}
	var ev struct {
		SessionInformation struct {
			Challenge map[string]serverChallenge
		}
	}
	if err := json.Unmarshal(m.payload, &ev); err != nil {
		c.t.Fatal(err)
	}
	return ev.SessionInformation.Challenge
}

type serverChallenge struct {
	OvalParameters     struct{ Width, Height, CenterX, CenterY float64 }
	LightChallengeType string
	ChallengeConfig    map[string]float64
	ColorSequences     []struct {
		FreshnessColor                          struct{ RGB [3]int }
		DownscrollDuration, FlatDisplayDuration float64
	}
}

func videoEvent(chunk []byte, ts int64) map[string]any {
	return map[string]any{"VideoChunk": chunk, "TimestampMillis": ts}
}

func challengeEvent(key string, body map[string]any) map[string]any {
	return map[string]any{"Challenge": map[string]any{key: body}}
}
