package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/testutil"
)

// TestDemoFlag: the demo is on with --dev unless turned off, off otherwise
// unless turned on, by flag or LIVENESS_DEMO.
func TestDemoFlag(t *testing.T) {
	for _, test := range []struct {
		name string
		env  string
		args []string
		want bool
	}{
		{"DevDefault", "", []string{"--dev"}, true},
		{"ProdDefault", "", nil, false},
		{"DevFlagOff", "", []string{"--dev", "--demo=false"}, false},
		{"ProdFlagOn", "", []string{"--demo"}, true},
		{"DevEnvOff", "false", []string{"--dev"}, false},
		{"ProdEnvOn", "true", nil, true},
		{"FlagBeatsEnv", "false", []string{"--demo=true"}, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			t.Setenv("LIVENESS_DEMO", test.env)
			cfg, err := parseServeFlags(test.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Demo.enabled(cfg.Dev); got != test.want {
				t.Errorf("demo enabled=%v, want %v", got, test.want)
			}
		})
	}
	t.Run("BadEnv", func(t *testing.T) {
		t.Setenv("LIVENESS_DEMO", "maybe")
		if _, err := parseServeFlags(nil, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("err=%v, want a usage error", err)
		}
	})
}

func TestDemoAuth(t *testing.T) {
	a := demoAuth{secret: "s3cret-demo-value"}
	for _, test := range []struct {
		key    string
		tenant string
	}{
		{"s3cret-demo-value", demoTenant},
		{"", ""},
		{"s3cret-demo-valuE", ""},
		{"s3cret", ""},
	} {
		got, err := a.Authenticate(context.Background(), test.key)
		if got != test.tenant {
			t.Errorf("Authenticate(%q)=%q, want %q", test.key, got, test.tenant)
		}
		if test.tenant == "" && !errors.Is(err, livenessd.ErrUnauthorized) {
			t.Errorf("Authenticate(%q) err=%v, want ErrUnauthorized", test.key, err)
		}
	}
}

// TestServe_CaptureFraming: by default no site may frame /capture, as the
// README's default says; LIVENESS_CAPTURE_FRAME_ANCESTORS opts origins in.
func TestServe_CaptureFraming(t *testing.T) {
	testutil.Cache(t)
	t.Setenv("LIVENESS_API_KEYS", "serve-test-key-0123456789")
	readme, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile("(?m)^\\| `LIVENESS_CAPTURE_FRAME_ANCESTORS` \\| `'none'`").Match(readme) {
		t.Fatal("README does not give 'none' as the default of LIVENESS_CAPTURE_FRAME_ANCESTORS")
	}
	for _, test := range []struct{ env, want string }{
		{"", "frame-ancestors 'none'"},
		{"https://shop.example", "frame-ancestors 'self' https://shop.example"},
	} {
		t.Setenv("LIVENESS_CAPTURE_FRAME_ANCESTORS", test.env)
		base, _, _, stop := startServe(t, "--data", t.TempDir())
		res, err := http.Get(base + "/capture")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.HasSuffix(csp, test.want) {
			t.Errorf("env %q: %d, CSP %q, want it to end with %q", test.env, res.StatusCode, csp, test.want)
		}
		stop()
	}
}
