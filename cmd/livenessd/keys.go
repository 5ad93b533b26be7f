package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/livenessd/livenessd/internal/auth"
)

// runKeys manages API keys stored (as SHA-256 hashes) in the data
// directory's database: `keys create [--name N]` prints a new key once;
// `keys list` shows ids, names and tenants, never keys.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("LIVENESS_DATA_DIR", "var/data"), "data directory (env LIVENESS_DATA_DIR)")
	name := fs.String("name", "default", "label of the new key (create)")
	storeURL := fs.String("store", envOr("LIVENESS_STORE", ""), "session store as for serve: empty for the data directory's SQLite file, or redis://... (env LIVENESS_STORE)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd keys create [--name NAME] [--data DIR]\n       livenessd keys list [--data DIR]")
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: keys needs create or list", errUsage)
	}
	action := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if action != "create" && action != "list" {
		fs.Usage()
		return fmt.Errorf("%w: unknown keys action %q", errUsage, action)
	}
	store, _, err := openStore(ctx, storeConfig{URL: *storeURL, DataDir: *data})
	if err != nil {
		return err
	}
	defer store.Close()
	if action == "list" {
		keys, err := store.APIKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", k.ID, k.Tenant(), k.CreatedAt.Format(time.RFC3339), k.Name)
		}
		return nil
	}
	key, rec, err := auth.NewKey(*name, time.Now())
	if err != nil {
		return err
	}
	if err := store.CreateAPIKey(ctx, rec); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "API key %s (%s, tenant %s) created; it is shown only now, store it safely:\n", rec.ID, rec.Name, rec.Tenant())
	fmt.Fprintln(stdout, key)
	return nil
}
