package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/capture"
	"github.com/livenessd/livenessd/internal/liveness"
)

// WSClient is the browser side of the capture protocol (docs/PROTOCOL.md),
// enough to play a simulated capture against a server.
type WSClient struct {
	conn      *websocket.Conn
	Challenge capture.ChallengeMsg

	flashed atomic.Bool
	done    chan struct{}

	mu       sync.Mutex
	guidance []string
	result   string
	resultAt time.Time
	errMsg   *capture.ErrorMsg
	closeErr error
}

var _ Target = (*WSClient)(nil)

// Dial connects to the capture WebSocket at url (ws:// or wss://, with the
// session's path) with the client token, and waits for the challenge.
func Dial(ctx context.Context, url, token string, header http.Header) (*WSClient, error) {
	conn, _, err := websocket.Dial(ctx, url+"?token="+token, &websocket.DialOptions{
		Subprotocols: []string{capture.Subprotocol}, HTTPHeader: header,
	})
	if err != nil {
		return nil, fmt.Errorf("simulate: dial: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	c := &WSClient{conn: conn, done: make(chan struct{})}
	typ, b, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("simulate: read challenge: %w", err)
	}
	var head struct{ Type string }
	if typ != websocket.MessageText || json.Unmarshal(b, &head) != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("simulate: first message is not JSON")
	}
	if head.Type == "error" {
		var e capture.ErrorMsg
		_ = json.Unmarshal(b, &e)
		conn.CloseNow()
		return nil, fmt.Errorf("simulate: server error %d: %s", e.Code, e.Message)
	}
	if err := json.Unmarshal(b, &c.Challenge); err != nil || head.Type != "challenge" {
		conn.CloseNow()
		return nil, fmt.Errorf("simulate: expected the challenge, got %s", head.Type)
	}
	go c.read()
	return c, nil
}

// Conn is the underlying connection (for tests that misbehave on purpose).
func (c *WSClient) Conn() *websocket.Conn { return c.conn }

func (c *WSClient) read() {
	defer close(c.done)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			return
		}
		var m struct {
			Type, Code, Status string
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		c.mu.Lock()
		switch m.Type {
		case "guidance":
			c.guidance = append(c.guidance, m.Code)
		case "flash":
			c.flashed.Store(true)
		case "result":
			c.result, c.resultAt = m.Status, time.Now()
		case "error":
			var e capture.ErrorMsg
			_ = json.Unmarshal(b, &e)
			c.errMsg = &e
		}
		c.mu.Unlock()
	}
}

// Frame sends one frame.
func (c *WSClient) Frame(ctx context.Context, at time.Duration, jpg []byte) error {
	if err := c.serverError(); err != nil {
		return err
	}
	if err := c.conn.Write(ctx, websocket.MessageBinary, capture.EncodeFrame(at, jpg)); err != nil {
		return c.writeError(err)
	}
	return nil
}

// writeError explains a failed write: when the server closed the
// connection, its error message (read by the reader goroutine, which may
// still be on its way) says why, where the write only sees a closed
// connection.
func (c *WSClient) writeError(err error) error {
	select {
	case <-c.done:
	case <-time.After(time.Second):
	}
	if serr := c.serverError(); serr != nil {
		return fmt.Errorf("%w (write: %v)", serr, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return fmt.Errorf("%w (connection: %v)", err, c.closeErr)
	}
	return err
}

// Flashed reports whether the server sent flash.
func (c *WSClient) Flashed() bool { return c.flashed.Load() }

// Color reports a colour onset.
func (c *WSClient) Color(ctx context.Context, s liveness.ColorShown) error {
	return c.text(ctx, capture.ClientMessage{Type: capture.MsgColor, Index: s.Index, At: ms(s.At)})
}

// End reports the end of the capture.
func (c *WSClient) End(ctx context.Context, at time.Duration) error {
	return c.text(ctx, capture.ClientMessage{Type: capture.MsgEnd, At: ms(at)})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (c *WSClient) text(ctx context.Context, m capture.ClientMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.conn.Write(ctx, websocket.MessageText, b)
}

func (c *WSClient) serverError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errMsg != nil {
		return fmt.Errorf("simulate: server error %d: %s", c.errMsg.Code, c.errMsg.Message)
	}
	return nil
}

// ErrNoResult is returned by Wait when the connection closed without a result.
var ErrNoResult = errors.New("simulate: connection closed without a result")

// Wait waits for the server to close the connection and returns the final
// status, or the server's error.
func (c *WSClient) Wait(ctx context.Context) (string, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		c.conn.CloseNow()
		return "", ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errMsg != nil {
		return "", fmt.Errorf("simulate: server error %d: %s", c.errMsg.Code, c.errMsg.Message)
	}
	if c.result == "" {
		return "", fmt.Errorf("%w: %v", ErrNoResult, c.closeErr)
	}
	return c.result, nil
}

// ResultReceived returns the status received so far ("" before it) and
// when it arrived.
func (c *WSClient) ResultReceived() (string, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.result, c.resultAt
}

// LastGuidance is the latest guidance code received ("" before any).
func (c *WSClient) LastGuidance() liveness.Guidance {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.guidance) == 0 {
		return ""
	}
	return liveness.Guidance(c.guidance[len(c.guidance)-1])
}

// Guidance returns the guidance codes received so far.
func (c *WSClient) Guidance() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.guidance...)
}

// CloseStatus is the close code the server sent (-1 when none yet).
func (c *WSClient) CloseStatus() websocket.StatusCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return websocket.CloseStatus(c.closeErr)
}

// Close closes the connection.
func (c *WSClient) Close() error { return c.conn.Close(websocket.StatusNormalClosure, "") }

// ChallengeOf turns the server's challenge message back into the domain
// type the player renders.
func ChallengeOf(m capture.ChallengeMsg) livenessd.Challenge {
	ch := livenessd.Challenge{ID: m.ChallengeID, Type: livenessd.ChallengeMovementAndLight, Oval: m.Oval, Start: m.Start}
	for _, c := range m.Colors {
		ch.Colors = append(ch.Colors, livenessd.ColorStep{Color: c.Color, Duration: time.Duration(c.DurationMs) * time.Millisecond})
	}
	if len(ch.Colors) == 0 {
		ch.Type = livenessd.ChallengeMovement
	}
	return ch
}
