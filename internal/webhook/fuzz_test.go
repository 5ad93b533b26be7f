package webhook_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/webhook"
)

// FuzzCheckURL: any callbackUrl a client sends is accepted only when it is
// an absolute https URL on an allowed host without credentials, and every
// refusal is a client error (400), never a panic.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.com/liveness", "http://hooks.example.com/x", "https://user:pw@hooks.example.com/",
		"https://hooks.example.com:8443/x", "https://api.bank.test/cb?x=1#f", "//hooks.example.com/x", "https://[::1]/",
		"https://hooks.example.com%2f@evil.test/", "https:hooks.example.com", "", "\x00", "https://HOOKS.EXAMPLE.COM/x",
	} {
		f.Add(s)
	}
	d, err := webhook.New(webhook.Config{Secret: []byte("0123456789abcdef-secret"), AllowedHosts: []string{"hooks.example.com", "*.bank.test"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := d.CheckURL(raw)
		if err != nil {
			if !errors.Is(err, livenessd.ErrInvalidRequest) {
				t.Fatalf("CheckURL(%q) = %v, not an invalid request", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Scheme != "https" || u.User != nil || len(raw) > webhook.MaxURLLength {
			t.Fatalf("accepted %q", raw)
		}
		host := strings.ToLower(u.Host)
		if host != "hooks.example.com" && !strings.HasSuffix(host, ".bank.test") {
			t.Fatalf("accepted %q on host %q", raw, host)
		}
	})
}
