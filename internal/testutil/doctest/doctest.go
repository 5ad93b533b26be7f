// Package doctest shares one real document scanner (PP-OCRv4 recogniser
// and the shared face pipeline) across the tests of a test binary.
package doctest

import (
	"sync"
	"testing"

	"github.com/livenessd/livenessd/internal/document"
	"github.com/livenessd/livenessd/internal/ocr"
	"github.com/livenessd/livenessd/internal/testutil"
	"github.com/livenessd/livenessd/internal/testutil/facetest"
)

var (
	once    sync.Once
	scanner *document.Scanner
	err     error
)

// Scanner returns the default scanner, loaded once per test binary. It
// skips or fails like testutil.Cache when the model cache is incomplete.
func Scanner(tb testing.TB) *document.Scanner {
	tb.Helper()
	rt, cache, p := testutil.Runtime(tb), testutil.Cache(tb), facetest.Pipeline(tb)
	once.Do(func() {
		var r *ocr.Recognizer
		if r, err = ocr.New(rt, cache); err == nil {
			scanner, err = document.New(r, p, document.Options{})
		}
	})
	if err != nil {
		tb.Fatalf("document scanner: %v", err)
	}
	return scanner
}
