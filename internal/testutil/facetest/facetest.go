// Package facetest shares one real face pipeline across the tests of a test
// binary, so packages that need real face observations (api, capture,
// amplify, face itself) load the models once and the same way.
package facetest

import (
	"sync"
	"testing"

	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/testutil"
)

var (
	once sync.Once
	pipe *face.Pipeline
	err  error
)

// Pipeline returns the default face pipeline, loaded once per test binary
// (it is never closed: the process ends with the tests). It skips or fails
// like testutil.Cache when the model cache is incomplete.
func Pipeline(tb testing.TB) *face.Pipeline {
	tb.Helper()
	rt, cache := testutil.Runtime(tb), testutil.Cache(tb)
	once.Do(func() { pipe, err = face.NewPipeline(rt, cache, face.DefaultConfig()) })
	if err != nil {
		tb.Fatalf("face pipeline: %v", err)
	}
	return pipe
}
