// Package webhook posts a session's results to its callbackUrl when the
// session reaches a final status: signed with HMAC-SHA256 over the
// timestamp and the body, retried with exponential backoff a bounded number
// of times, from a bounded queue, never on the path of the verdict.
//
// Receivers verify a delivery as docs/WEBHOOKS.md shows: recompute
// hex(HMAC-SHA256(secret, timestamp + "." + body)), compare it in constant
// time with the v1= value of the signature header, and refuse timestamps
// older than a few minutes (replays).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livenessd/livenessd"
)

// Headers of a delivery.
const (
	HeaderTimestamp = "X-Livenessd-Timestamp" // unix seconds
	HeaderSignature = "X-Livenessd-Signature" // v1=<hex HMAC-SHA256>
	HeaderDelivery  = "X-Livenessd-Delivery"  // id, the same on every retry
	HeaderEvent     = "X-Livenessd-Event"
	// EventFinished is the only event: a session reached SUCCEEDED or FAILED.
	EventFinished = "liveness.session.finished"
)

// Defaults of Config.
const (
	DefaultMaxAttempts    = 6
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultTimeout        = 10 * time.Second
	DefaultQueueSize      = 1000
	DefaultWorkers        = 2
	// MaxURLLength bounds a callbackUrl.
	MaxURLLength = 2048
	// MinSecretLength is the shortest accepted signing secret.
	MinSecretLength = 16
)

// Delivery outcomes reported to Config.Observe.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"  // gave up after the last attempt or a permanent refusal
	OutcomeDropped   = "dropped" // queue full or shutting down
)

// Config configures a Dispatcher. Secret and AllowedHosts are required.
type Config struct {
	// Secret signs every delivery (at least MinSecretLength bytes).
	Secret []byte
	// AllowedHosts are the host[:port] patterns (path.Match) a callbackUrl
	// may point to, so the service cannot be made to post anywhere.
	AllowedHosts []string
	// AllowHTTP accepts http:// callback URLs (tests, internal networks);
	// otherwise only https://.
	AllowHTTP      bool
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Timeout        time.Duration // of one attempt
	QueueSize      int
	Workers        int
	// Client posts the deliveries (an http.Client with Timeout; redirects
	// are not followed, so an allowed host cannot bounce elsewhere).
	Client *http.Client
	// Observe, when set, is told each attempt's outcome (metrics).
	Observe func(outcome string)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Dispatcher queues and delivers webhooks. Start it with Start and stop it
// with Close.
type Dispatcher struct {
	cfg   Config
	queue chan *delivery

	mu      sync.Mutex
	closed  bool
	pending sync.WaitGroup // deliveries queued or waiting for a retry
	stop    chan struct{}
	workers sync.WaitGroup
	// ctx ends the attempts in flight when Close gives up waiting.
	ctx    context.Context
	cancel context.CancelFunc
}

type delivery struct {
	id        string
	url       string
	sessionID string
	body      []byte
	attempt   int
}

// New validates cfg and returns a Dispatcher.
func New(cfg Config) (*Dispatcher, error) {
	if len(cfg.Secret) < MinSecretLength {
		return nil, fmt.Errorf("webhook: signing secret of %d bytes is too short (at least %d)", len(cfg.Secret), MinSecretLength)
	}
	if len(cfg.AllowedHosts) == 0 {
		return nil, errors.New("webhook: no allowed callback hosts")
	}
	for _, p := range cfg.AllowedHosts {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("webhook: allowed host pattern %q: %w", p, err)
		}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = DefaultInitialBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout:       cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{cfg: cfg, queue: make(chan *delivery, cfg.QueueSize), stop: make(chan struct{}), ctx: ctx, cancel: cancel}, nil
}

// ErrCallbackURL is wrapped by CheckURL's errors; it wraps
// livenessd.ErrInvalidRequest (400).
var ErrCallbackURL = fmt.Errorf("callbackUrl not allowed: %w", livenessd.ErrInvalidRequest)

// CheckURL checks a callbackUrl given at session creation: absolute
// https:// (http:// with AllowHTTP), no credentials, at most MaxURLLength,
// host allowed. A nil *Dispatcher (webhooks not configured) refuses every
// URL.
func (d *Dispatcher) CheckURL(raw string) error {
	if d == nil {
		return fmt.Errorf("webhooks are not configured on this server: %w", ErrCallbackURL)
	}
	if len(raw) > MaxURLLength {
		return fmt.Errorf("longer than %d characters: %w", MaxURLLength, ErrCallbackURL)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("not an absolute URL: %w", ErrCallbackURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && d.cfg.AllowHTTP:
	default:
		return fmt.Errorf("scheme %q (want https): %w", u.Scheme, ErrCallbackURL)
	}
	if u.User != nil {
		return fmt.Errorf("credentials in the URL: %w", ErrCallbackURL)
	}
	host := strings.ToLower(u.Host)
	for _, p := range d.cfg.AllowedHosts {
		if ok, _ := path.Match(strings.ToLower(p), host); ok {
			return nil
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Hostname())); ok && u.Port() == "" {
			return nil
		}
	}
	return fmt.Errorf("host %q is not among the allowed callback hosts: %w", truncate(u.Host, 64), ErrCallbackURL)
}

// Start starts the delivery workers.
func (d *Dispatcher) Start() {
	for range d.cfg.Workers {
		d.workers.Add(1)
		go d.work()
	}
}

// Enqueue schedules a delivery of body to url for session id. It never
// blocks: when the queue is full the delivery is dropped (and logged).
func (d *Dispatcher) Enqueue(sessionID, url string, body []byte) {
	id, _ := newID()
	d.push(&delivery{id: id, url: url, sessionID: sessionID, body: body})
}

func (d *Dispatcher) push(dl *delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.observe(OutcomeDropped)
		d.cfg.Logger.Warn("webhook dropped: shutting down", "session", dl.sessionID, "delivery", dl.id)
		return
	}
	d.pending.Add(1)
	select {
	case d.queue <- dl:
	default:
		d.pending.Done()
		d.observe(OutcomeDropped)
		d.cfg.Logger.Error("webhook dropped: queue full", "session", dl.sessionID, "delivery", dl.id, "queue", cap(d.queue))
	}
}

// Close stops taking deliveries and waits until the queued ones and their
// retries are done or ctx ends; what is left is dropped.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	already := d.closed
	d.closed = true
	d.mu.Unlock()
	if already {
		return nil
	}
	done := make(chan struct{})
	go func() { d.pending.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("webhook: close: deliveries left: %w", ctx.Err())
	}
	d.cancel()
	close(d.stop)
	d.workers.Wait()
	return err
}

func (d *Dispatcher) work() {
	defer d.workers.Done()
	for {
		select {
		case <-d.stop:
			return
		case dl := <-d.queue:
			d.attempt(dl)
		}
	}
}

// attempt posts once; on a retryable failure it schedules the next
// attempt after the backoff without holding a worker.
func (d *Dispatcher) attempt(dl *delivery) {
	dl.attempt++
	status, err := d.post(dl)
	log := d.cfg.Logger.With("session", dl.sessionID, "delivery", dl.id, "attempt", dl.attempt, "status", status)
	switch {
	case err == nil && status/100 == 2:
		d.observe(OutcomeDelivered)
		log.Info("webhook delivered")
		d.pending.Done()
		return
	case err == nil && !retryable(status):
		d.observe(OutcomeFailed)
		log.Warn("webhook refused by the receiver; not retried")
		d.pending.Done()
		return
	case dl.attempt >= d.cfg.MaxAttempts:
		d.observe(OutcomeFailed)
		log.Warn("webhook failed; giving up", "err", err)
		d.pending.Done()
		return
	}
	d.observe(OutcomeRetry)
	wait := d.backoff(dl.attempt)
	log.Info("webhook failed; will retry", "err", err, "in", wait)
	t := time.NewTimer(wait)
	go func() {
		defer t.Stop()
		select {
		case <-t.C:
			select {
			case d.queue <- dl:
			case <-d.stop:
				d.observe(OutcomeDropped)
				d.pending.Done()
			}
		case <-d.stop:
			d.observe(OutcomeDropped)
			d.pending.Done()
		}
	}()
}

// retryable: server errors, timeouts and rate limits are retried; other
// client errors mean the receiver will never accept this delivery.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// backoff is InitialBackoff * 2^(attempt-1), at most MaxBackoff, with up
// to 20% jitter so many retries do not arrive together.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	b := d.cfg.InitialBackoff << min(attempt-1, 20)
	if b > d.cfg.MaxBackoff || b <= 0 {
		b = d.cfg.MaxBackoff
	}
	if j, err := rand.Int(rand.Reader, big.NewInt(int64(b)/5+1)); err == nil {
		b += time.Duration(j.Int64())
	}
	return b
}

func (d *Dispatcher) post(dl *delivery) (int, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.url, bytes.NewReader(dl.body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(d.cfg.Now().Unix(), 10)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "livenessd-webhook/1")
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, "v1="+Sign(d.cfg.Secret, ts, dl.body))
	h.Set(HeaderDelivery, dl.id)
	h.Set(HeaderEvent, EventFinished)
	res, err := d.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}

func (d *Dispatcher) observe(outcome string) {
	if d.cfg.Observe != nil {
		d.cfg.Observe(outcome)
	}
}

// Sign returns hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's signature header (v1=...) and timestamp, in
// constant time, refusing timestamps further than tolerance from now: the
// receiver side of Sign, for Go receivers and the tests.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	got, ok := strings.CutPrefix(signature, "v1=")
	if !ok {
		return errors.New("webhook: signature is not v1=")
	}
	if !hmac.Equal([]byte(got), []byte(Sign(secret, timestamp, body))) {
		return errors.New("webhook: signature mismatch")
	}
	return nil
}

func newID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
