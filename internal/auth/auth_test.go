package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/store/sqlite"
)

func TestKeyring(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	envKeys, err := auth.ParseKeyList(" key-one-0123456789 ,, key-two-0123456789 ")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := auth.NewKeyring(ctx, envKeys, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored, rec, err := auth.NewKey("later", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, auth.KeyPrefix) || len(stored) != len(auth.KeyPrefix)+43 {
		t.Fatalf("key %q has the wrong shape", stored)
	}
	// Created after the keyring loaded: found through the reload on a miss.
	if err := st.CreateAPIKey(ctx, rec); err != nil {
		t.Fatal(err)
	}
	t1, err := kr.Authenticate(ctx, "key-one-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	t2, err := kr.Authenticate(ctx, "key-two-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	t3, err := kr.Authenticate(ctx, stored)
	if err != nil {
		t.Fatalf("stored key: %v", err)
	}
	if t1 == t2 || t1 == t3 || !strings.HasPrefix(t1, "t_") {
		t.Fatalf("tenants %q %q %q: want distinct t_ ids", t1, t2, t3)
	}
	if t3 != rec.Tenant() || strings.Contains(t3, stored[4:12]) {
		t.Fatalf("tenant %q is not derived from the hash alone", t3)
	}
	if again, _ := kr.Authenticate(ctx, "key-one-0123456789"); again != t1 {
		t.Fatalf("tenant not stable: %q then %q", t1, again)
	}
	for _, bad := range []string{"", "key-one-012345678", "key-one-0123456789 ", strings.ToUpper("key-one-0123456789")} {
		if _, err := kr.Authenticate(ctx, bad); !errors.Is(err, livenessd.ErrUnauthorized) {
			t.Errorf("Authenticate(%q): err=%v, want ErrUnauthorized", bad, err)
		}
	}
	if _, err := auth.ParseKeyList("short"); err == nil {
		t.Fatal("a 5-character key was accepted")
	}
}
