package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/livenessd/livenessd"
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
