package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/livenessd/livenessd/internal/auth"
	"github.com/livenessd/livenessd/internal/store/sealed"
)

// runKeys manages API keys stored (as SHA-256 hashes) in the store:
// `keys create [--name N] [--tenant T]` prints a new key once (a new tenant,
// or another key of tenant T for rotation); `keys list` shows ids, tenants,
// creation, last use, status and names, never keys; `keys revoke ID` stops
// a key within the server's reload interval (5 s).
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("LIVENESS_DATA_DIR", "var/data"), "data directory (env LIVENESS_DATA_DIR)")
	name := fs.String("name", "default", "label of the new key (create)")
	tenant := fs.String("tenant", "", "create: add the key to this existing tenant (as keys list shows it) instead of a new one")
	storeURL := fs.String("store", envOr("LIVENESS_STORE", ""), "session store as for serve: empty for the data directory's SQLite file, or redis://... (env LIVENESS_STORE)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd keys create [--name NAME] [--tenant TENANT] [--data DIR]\n"+
			"       livenessd keys list [--data DIR]\n       livenessd keys revoke ID [--data DIR]\n"+
			"       livenessd keys data-key    (prints a new data key for LIVENESS_DATA_KEYS)")
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: keys needs create, list, revoke or data-key", errUsage)
	}
	action, rest := args[0], args[1:]
	if action == "data-key" {
		// A fresh AES-256 key for LIVENESS_DATA_KEYS; nothing is stored.
		k, err := sealed.NewKey()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, k)
		return nil
	}
	var revokeID string
	if action == "revoke" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		revokeID, rest = rest[0], rest[1:] // keys revoke ID [flags]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	switch {
	case action == "revoke" && revokeID == "" && fs.NArg() == 1:
		revokeID = fs.Arg(0)
	case action == "revoke" && revokeID != "" && fs.NArg() == 0:
	case action == "revoke":
		fs.Usage()
		return fmt.Errorf("%w: keys revoke needs one key id", errUsage)
	case action != "create" && action != "list":
		fs.Usage()
		return fmt.Errorf("%w: unknown keys action %q", errUsage, action)
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *tenant != "" && !auth.ValidTenant(*tenant) {
		return fmt.Errorf("%w: --tenant %q is not a tenant id (t_ and 24 hex digits, as `keys list` shows)", errUsage, *tenant)
	}
	store, _, err := openStore(ctx, storeConfig{URL: *storeURL, DataDir: *data})
	if err != nil {
		return err
	}
	defer store.Close()
	switch action {
	case "list":
		keys, err := store.APIKeys(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "ID\tTENANT\tCREATED\tLAST USED\tSTATUS\tNAME")
		for _, k := range keys {
			used, status := "never", "active"
			if !k.LastUsedAt.IsZero() {
				used = k.LastUsedAt.Format(time.RFC3339)
			}
			if !k.Active() {
				status = "revoked " + k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.TenantID(), k.CreatedAt.Format(time.RFC3339), used, status, k.Name)
		}
		return nil
	case "revoke":
		if err := store.RevokeAPIKey(ctx, revokeID, time.Now()); err != nil {
			if errors.Is(err, auth.ErrKeyNotFound) {
				return fmt.Errorf("%w: no API key with id %q (see `livenessd keys list`)", errUsage, revokeID)
			}
			return err
		}
		fmt.Fprintf(stderr, "API key %s revoked; running servers refuse it within seconds\n", revokeID)
		return nil
	}
	if *tenant != "" {
		keys, err := store.APIKeys(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(keys, func(k auth.APIKey) bool { return k.TenantID() == *tenant }) {
			return fmt.Errorf("%w: no key of tenant %s is stored (see `livenessd keys list`)", errUsage, *tenant)
		}
	}
	key, rec, err := auth.NewKeyFor(*tenant, *name, time.Now())
	if err != nil {
		return err
	}
	if err := store.CreateAPIKey(ctx, rec); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "API key %s (%s, tenant %s) created; it is shown only now, store it safely:\n", rec.ID, rec.Name, rec.TenantID())
	fmt.Fprintln(stdout, key)
	return nil
}
