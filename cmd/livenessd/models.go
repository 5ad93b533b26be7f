package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/quant"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/quantize"
)

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", models.Dir(), "model cache directory (env "+models.EnvDir+")")
	force := fs.Bool("force", false, "quantize: rebuild the int8 models even when they exist")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd models [fetch|verify|quantize] [-dir DIR] [-force]")
		fs.PrintDefaults()
	}
	action := "fetch"
	if len(args) > 0 && (args[0] == "fetch" || args[0] == "verify" || args[0] == "quantize") {
		action, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := models.NewCache(*dir)
	if action == "quantize" {
		return quantizeModels(ctx, c, *force, stdout)
	}
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

// quantizeModels builds the int8 models the service adopts
// (internal/quantize) when this CPU runs them; `make models` calls it after
// the fetch. Builds that exist are kept unless force.
func quantizeModels(ctx context.Context, c *models.Cache, force bool, stdout io.Writer) error {
	if err := c.Verify(); err != nil {
		return fmt.Errorf("models: %w (run `%s`)", err, models.FixCommand)
	}
	if len(quant.Adopted) == 0 || !quant.CPUHasInt8Dot() {
		fmt.Fprintln(stdout, "models: no int8 build needed (no adopted model, or no int8 dot-product instructions on this CPU)")
		return nil
	}
	// One thread: the calibration's float sums then run in one order, so
	// a build is byte-for-byte the same on every run on this CPU.
	rt, err := infer.NewRuntime(c.Path(models.ORTLibrary), infer.Options{IntraOpThreads: 1})
	if err != nil {
		return err
	}
	res, err := quantize.Build(ctx, rt, c, quant.Adopted, quantize.Options{Force: force})
	if err != nil {
		return err
	}
	for _, r := range res {
		state := "built"
		if r.Skipped {
			state = "up to date"
		}
		fmt.Fprintf(stdout, "models: int8 %s %s (%s)\n", r.Name, state, r.File)
	}
	return nil
}
