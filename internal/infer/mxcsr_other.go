//go:build !amd64

package infer

// withDenormalsAsZero runs fn: the caller-thread flush is measured and
// implemented for amd64 only (mxcsr_amd64.go).
func withDenormalsAsZero(fn func() error) error { return fn() }
