package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/livenessd/livenessd/internal/models"
)

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", models.Dir(), "model cache directory (env "+models.EnvDir+")")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd models [fetch|verify] [-dir DIR]")
		fs.PrintDefaults()
	}
	action := "fetch"
	if len(args) > 0 && (args[0] == "fetch" || args[0] == "verify") {
		action, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := models.NewCache(*dir)
	if action == "verify" {
		if err := c.Verify(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "models: %s complete\n", *dir)
		return nil
	}
	if err := c.Fetch(ctx, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "models: %s complete\n", *dir)
	return nil
}
