package infer

/*
#include <xmmintrin.h>

static unsigned int livenessd_getcsr(void) { return _mm_getcsr(); }
static void livenessd_setcsr(unsigned int v) { _mm_setcsr(v); }
*/
import "C"

import "runtime"

// ftzDAZ are MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
const ftzDAZ = 0x8040

// withDenormalsAsZero runs fn on one OS thread with SSE flush-to-zero and
// denormals-are-zero set, and restores the thread's MXCSR afterwards.
//
// Why: ORT's session.set_denormal_as_zero sets these bits on its pool
// threads and on the thread that created the session, but a Go caller runs
// each cgo call on whichever OS thread its goroutine is on. A one-thread
// session computes entirely on the caller's thread, so without this it
// took the slow microcode path on every subnormal activation: fr_feature
// 13 ms instead of 5 ms in BenchmarkRuntimeOptions.
func withDenormalsAsZero(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old := C.livenessd_getcsr()
	C.livenessd_setcsr(old | ftzDAZ)
	defer C.livenessd_setcsr(old)
	return fn()
}
