//go:build !(cgo && tesseract)

package tesseract

import (
	"context"
	"errors"
	"image"

	"github.com/livenessd/livenessd/internal/ctc"
)

// Alphabet is every character an MRZ may hold.
const Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

// ErrUnavailable: this build has no Tesseract (needs cgo and -tags tesseract).
var ErrUnavailable = errors.New("tesseract: unavailable (build with cgo and -tags tesseract)")

// DefaultLanguage is the traineddata used: Debian's tesseract-ocr-eng.
const DefaultLanguage = "eng"

// Options configure New.
type Options struct {
	TessdataDir string
	Language    string
	Workers     int
}

// Reader is unavailable without cgo.
type Reader struct{}

// New returns ErrUnavailable.
func New(Options) (*Reader, error) { return nil, ErrUnavailable }

// ReadLine returns ErrUnavailable.
func (*Reader) ReadLine(context.Context, *image.Gray) (ctc.Frames, error) {
	return ctc.Frames{}, ErrUnavailable
}

// Close does nothing.
func (*Reader) Close() error { return nil }
