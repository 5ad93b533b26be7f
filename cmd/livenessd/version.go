package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3"
// (the Dockerfile's VERSION argument).
var version = "dev"

// runVersion prints the version, the Go toolchain and, when the build
// recorded it, the commit.
func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	line := "livenessd " + version + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				line += " commit " + s.Value[:12]
			}
		}
	}
	fmt.Fprintln(stdout, line)
	return nil
}
