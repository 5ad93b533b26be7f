package guard_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/guard"
)

func TestAddresses_Of(t *testing.T) {
	proxies, err := guard.ParsePrefixes("10.0.0.0/8, 192.0.2.7,2001:db8:ffff::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name    string
		trusted bool
		remote  string
		xff     []string
		want    string
	}{
		{"Peer", false, "203.0.113.5:4000", nil, "203.0.113.5"},
		{"UntrustedPeerIgnoresHeader", false, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"IPv6PerSlash64", false, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"MappedIPv4", false, "[::ffff:203.0.113.5]:1", nil, "203.0.113.5"},
		{"TrustedProxy", true, "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"RightmostUntrusted", true, "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1", "192.0.2.7"}, "198.51.100.1"},
		{"SpoofedLeftIgnored", true, "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
		{"MalformedHopStops", true, "10.1.2.3:80", []string{"198.51.100.1, junk"}, "10.1.2.3"},
		{"AllTrusted", true, "10.1.2.3:80", []string{"10.9.9.9"}, "10.9.9.9"},
		{"NoHeader", true, "10.1.2.3:80", nil, "10.1.2.3"},
	} {
		t.Run(test.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = test.remote
			for _, v := range test.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			a := guard.Addresses{}
			if test.trusted {
				a.TrustedProxies = proxies
			}
			if got := a.Of(r); got != test.want {
				t.Errorf("Of = %q, want %q", got, test.want)
			}
		})
	}
}

func TestParsePrefixes_Error(t *testing.T) {
	for _, s := range []string{"10.0.0.0/33", "not-an-ip", "1.2.3.4/x"} {
		if _, err := guard.ParsePrefixes(s); err == nil {
			t.Errorf("ParsePrefixes(%q) = nil error", s)
		}
	}
}

func TestConnLimit(t *testing.T) {
	l := guard.NewConnLimit(2)
	r1, ok1 := l.Acquire("a")
	r2, ok2 := l.Acquire("a")
	_, ok3 := l.Acquire("a")
	rb, okb := l.Acquire("b")
	if !ok1 || !ok2 || ok3 || !okb {
		t.Fatalf("acquire = %v %v %v %v, want true true false true", ok1, ok2, ok3, okb)
	}
	r1()
	r1() // idempotent: must not free a second hold
	if _, ok := l.Acquire("a"); !ok {
		t.Fatal("acquire after release refused")
	}
	if _, ok := l.Acquire("a"); ok {
		t.Fatal("double release freed two holds")
	}
	r2()
	rb()

	// Concurrent holders never exceed the limit.
	l = guard.NewConnLimit(3)
	var mu sync.Mutex
	held, peak := 0, 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			release, ok := l.Acquire("x")
			if !ok {
				return
			}
			mu.Lock()
			held++
			peak = max(peak, held)
			mu.Unlock()
			mu.Lock()
			held--
			mu.Unlock()
			release()
		})
	}
	wg.Wait()
	if peak > 3 {
		t.Fatalf("peak holders = %d, want <= 3", peak)
	}
}

func TestFailureLimit(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	l := guard.NewFailureLimit(3, 10*time.Second, clock)
	ctx := t.Context()
	for i := range 3 {
		if _, ok := l.Allow(ctx, "a"); !ok {
			t.Fatalf("attempt %d refused within the burst", i)
		}
		l.Failed(ctx, "a")
	}
	wait, ok := l.Allow(ctx, "a")
	if ok || wait != 10*time.Second {
		t.Fatalf("after the burst: Allow = %v %v, want false 10s", wait, ok)
	}
	if _, ok := l.Allow(ctx, "b"); !ok {
		t.Fatal("another address is refused")
	}
	now = now.Add(4 * time.Second)
	if wait, ok := l.Allow(ctx, "a"); ok || wait != 6*time.Second {
		t.Fatalf("4 s later: Allow = %v %v, want false 6s", wait, ok)
	}
	now = now.Add(6 * time.Second)
	if _, ok := l.Allow(ctx, "a"); !ok {
		t.Fatal("one interval later still refused")
	}
	l.Failed(ctx, "a")
	if _, ok := l.Allow(ctx, "a"); ok {
		t.Fatal("a failure after the refill did not refuse again")
	}
	now = now.Add(time.Hour)
	for i := range 3 {
		if _, ok := l.Allow(ctx, "a"); !ok {
			t.Fatalf("after an hour, attempt %d refused: the bucket did not refill to the burst", i)
		}
		l.Failed(ctx, "a")
	}
}

// FuzzAddresses: whatever X-Forwarded-For a client sends, the address is
// the peer unless the peer is a trusted proxy, and a parsable one: a
// client behind no proxy cannot pick its limit key.
func FuzzAddresses(f *testing.F) {
	proxies, err := guard.ParsePrefixes("10.0.0.0/8")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("203.0.113.5:1", "198.51.100.1, 10.0.0.2")
	f.Add("10.1.1.1:80", "2001:db8::1,  junk ,10.0.0.3")
	f.Add("[::1]:80", "")
	f.Add("garbage", ",,,")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		trusting := guard.Addresses{TrustedProxies: proxies}.Of(r)
		direct := guard.Addresses{}.Of(r)
		if !strings.HasPrefix(remote, "10.") && trusting != direct {
			t.Fatalf("peer %q (not a trusted proxy) with X-Forwarded-For %q: key %q, want the peer's %q", remote, xff, trusting, direct)
		}
		if trusting == "" && remote != "" {
			t.Fatalf("empty key for peer %q", remote)
		}
	})
}
