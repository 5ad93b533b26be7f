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
	if t3 != rec.TenantID() || strings.Contains(t3, stored[4:12]) {
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

// TestKeyring_Lifecycle: several keys act for one tenant; a revoked key
// stops authenticating at the next reload while its sibling keeps working;
// last use is recorded; configured keys keep working without a store.
func TestKeyring_Lifecycle(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	oldKey, oldRec, err := auth.NewKey("old", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	newKey, newRec, err := auth.NewKeyFor(oldRec.TenantID(), "new", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []auth.APIKey{oldRec, newRec} {
		if err := st.CreateAPIKey(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// reloadEvery 0: every authentication re-reads the store.
	kr, err := auth.NewKeyring(ctx, nil, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	t1, err := kr.Authenticate(ctx, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := kr.Authenticate(ctx, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if t1 != t2 || t1 != oldRec.TenantID() {
		t.Fatalf("tenants %q %q, want both %q", t1, t2, oldRec.TenantID())
	}
	if err := st.RevokeAPIKey(ctx, oldRec.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Authenticate(ctx, oldKey); !errors.Is(err, livenessd.ErrUnauthorized) {
		t.Fatalf("revoked key: err = %v, want ErrUnauthorized", err)
	}
	if got, err := kr.Authenticate(ctx, newKey); err != nil || got != t1 {
		t.Fatalf("sibling key after revocation: %q %v", got, err)
	}
	if err := kr.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := st.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		switch k.ID {
		case oldRec.ID:
			if k.Active() || k.LastUsedAt.IsZero() {
				t.Errorf("old key: revoked %v, last used %v", k.RevokedAt, k.LastUsedAt)
			}
		case newRec.ID:
			if !k.Active() || k.LastUsedAt.IsZero() {
				t.Errorf("new key: revoked %v, last used %v", k.RevokedAt, k.LastUsedAt)
			}
		}
	}
	if err := st.RevokeAPIKey(ctx, "nosuchkey", time.Now()); !errors.Is(err, auth.ErrKeyNotFound) {
		t.Fatalf("revoke unknown: %v, want ErrKeyNotFound", err)
	}
}

func TestValidTenant(t *testing.T) {
	_, rec, err := auth.NewKey("x", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{rec.TenantID(): true, "t_0123456789abcdef01234567": true,
		"t_0123456789ABCDEF01234567": false, "t_0123": false, "x_0123456789abcdef01234567": false, "": false} {
		if got := auth.ValidTenant(s); got != want {
			t.Errorf("ValidTenant(%q) = %v, want %v", s, got, want)
		}
	}
}
