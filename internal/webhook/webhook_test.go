package webhook_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/webhook"
)

var secret = []byte("0123456789abcdef-webhook-secret")

// receiver is a real HTTP server that verifies signatures as a customer's
// would and answers with the scripted statuses, then 200.
type receiver struct {
	*httptest.Server
	secret []byte
	script []int

	mu       sync.Mutex
	got      []received
	arrivals chan struct{}
}

type received struct {
	delivery, event string
	body            string
	verifyErr       error
	status          int
}

func newReceiver(t *testing.T, secret []byte, script ...int) *receiver {
	r := &receiver{secret: secret, script: script, arrivals: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		err := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute)
		r.mu.Lock()
		status := http.StatusOK
		if n := len(r.got); n < len(r.script) {
			status = r.script[n]
		}
		if err != nil {
			status = http.StatusUnauthorized
		}
		r.got = append(r.got, received{req.Header.Get(webhook.HeaderDelivery), req.Header.Get(webhook.HeaderEvent), string(body), err, status})
		r.mu.Unlock()
		w.WriteHeader(status)
		r.arrivals <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	for range n {
		select {
		case <-r.arrivals:
		case <-time.After(10 * time.Second):
			t.Fatalf("fewer than %d deliveries arrived", n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type outcomes struct {
	mu  sync.Mutex
	seq []string
}

func (o *outcomes) add(s string) { o.mu.Lock(); o.seq = append(o.seq, s); o.mu.Unlock() }
func (o *outcomes) get() string  { o.mu.Lock(); defer o.mu.Unlock(); return strings.Join(o.seq, ",") }

func newDispatcher(t *testing.T, o *outcomes, mod func(*webhook.Config)) *webhook.Dispatcher {
	t.Helper()
	cfg := webhook.Config{
		Secret: secret, AllowedHosts: []string{"127.0.0.1:*"}, AllowHTTP: true,
		InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAttempts: 4,
		Observe: o.add, Logger: slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	d, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

const body = `{"sessionId":"s1","status":"SUCCEEDED","confidence":97.5,"isLive":true,"referenceImage":"","auditImages":[]}`

func TestDelivery_SignedAndRetried(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   []int
		arrivals int
		outcomes string
	}{
		{"Delivered", nil, 1, "delivered"},
		{"RetriedUntilAccepted", []int{500, 503, 429}, 4, "retry,retry,retry,delivered"},
		{"GivesUpAfterMaxAttempts", []int{500, 500, 500, 500, 500}, 4, "retry,retry,retry,failed"},
		{"PermanentRefusalNotRetried", []int{410}, 1, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recv := newReceiver(t, secret, tc.script...)
			var o outcomes
			d := newDispatcher(t, &o, nil)
			d.Enqueue("s1", recv.URL+"/hooks/liveness", []byte(body))
			got := recv.wait(t, tc.arrivals)
			if err := d.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.arrivals {
				t.Fatalf("%d deliveries, want %d", len(got), tc.arrivals)
			}
			for _, g := range got {
				if g.verifyErr != nil || g.body != body || g.event != webhook.EventFinished || g.delivery == "" || g.delivery != got[0].delivery {
					t.Fatalf("delivery %+v (first id %s)", g, got[0].delivery)
				}
			}
			if o.get() != tc.outcomes {
				t.Fatalf("outcomes %s, want %s", o.get(), tc.outcomes)
			}
		})
	}
}

// TestDelivery_BadSignature: a receiver with another secret refuses the
// delivery (401), and Verify refuses tampered bodies, stale timestamps and
// foreign schemes.
func TestDelivery_BadSignature(t *testing.T) {
	recv := newReceiver(t, []byte("another-secret-of-the-receiver"))
	var o outcomes
	d := newDispatcher(t, &o, nil)
	d.Enqueue("s1", recv.URL, []byte(body))
	got := recv.wait(t, 1)
	d.Close(context.Background())
	if got[0].verifyErr == nil || got[0].status != http.StatusUnauthorized || o.get() != "failed" {
		t.Fatalf("delivery with a wrong secret: %+v, outcomes %s", got[0], o.get())
	}

	now := time.Now()
	ts := "1700000000"
	sig := "v1=" + webhook.Sign(secret, ts, []byte(body))
	at := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name          string
		ts, sig, body string
		now           time.Time
		wantOK        bool
	}{
		{"Valid", ts, sig, body, at.Add(time.Minute), true},
		{"TamperedBody", ts, sig, strings.Replace(body, "97.5", "99.9", 1), at, false},
		{"OtherTimestamp", "1700000001", sig, body, at, false},
		{"Stale", ts, sig, body, at.Add(6 * time.Minute), false},
		{"NoScheme", ts, strings.TrimPrefix(sig, "v1="), body, at, false},
		{"Garbage", "x", sig, body, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(secret, tc.ts, tc.sig, []byte(tc.body), tc.now, 5*time.Minute)
			if (err == nil) != tc.wantOK {
				t.Fatalf("Verify = %v, want ok=%v", err, tc.wantOK)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	d, err := webhook.New(webhook.Config{Secret: secret, AllowedHosts: []string{"hooks.example.com", "*.bank.test"}})
	if err != nil {
		t.Fatal(err)
	}
	for u, ok := range map[string]bool{
		"https://hooks.example.com/liveness":                     true,
		"https://HOOKS.example.com/x?y=1":                        true,
		"https://api.bank.test/cb":                               true,
		"https://hooks.example.com:8443/x":                       false,
		"http://hooks.example.com/x":                             false,
		"https://evil.example.com/x":                             false,
		"https://user:pw@hooks.example.com/x":                    false,
		"/relative":                                              false,
		"javascript:alert(1)":                                    false,
		"https://hooks.example.com/" + strings.Repeat("a", 3000): false,
	} {
		err := d.CheckURL(u)
		if (err == nil) != ok {
			t.Errorf("CheckURL(%.60q) = %v, want ok=%v", u, err, ok)
		}
		if err != nil && !errors.Is(err, livenessd.ErrInvalidRequest) {
			t.Errorf("CheckURL(%.60q): %v does not wrap ErrInvalidRequest", u, err)
		}
	}
	var none *webhook.Dispatcher
	if err := none.CheckURL("https://hooks.example.com/x"); !errors.Is(err, livenessd.ErrInvalidRequest) {
		t.Fatalf("without webhooks configured: %v", err)
	}
	for _, bad := range []webhook.Config{{Secret: []byte("short"), AllowedHosts: []string{"x"}}, {Secret: secret}, {Secret: secret, AllowedHosts: []string{"["}}} {
		if _, err := webhook.New(bad); err == nil {
			t.Errorf("New(%+v) succeeded", bad)
		}
	}
}

// TestEnqueue_NeverBlocks: with the receiver stalled and the queue full,
// Enqueue returns at once and drops; Close ends by its context.
func TestEnqueue_NeverBlocks(t *testing.T) {
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer stall.Close()
	defer close(release)
	var o outcomes
	d := newDispatcher(t, &o, func(c *webhook.Config) { c.QueueSize = 2; c.Workers = 1; c.Timeout = 30 * time.Second })
	start := time.Now()
	for range 10 {
		d.Enqueue("s1", stall.URL, []byte(body))
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Enqueue blocked for %v", el)
	}
	if n := strings.Count(o.get(), "dropped"); n < 7 {
		t.Fatalf("%d dropped of 10 with one stalled worker and a queue of 2 (%s)", n, o.get())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := d.Close(ctx); err == nil {
		t.Fatal("Close returned nil with deliveries stuck")
	}
}
