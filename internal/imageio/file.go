package imageio

import (
	"fmt"
	"image"
	"os"
)

// ReadFile reads and decodes an image file as Decode does, for the
// command-line tools; errors name the file.
func ReadFile(path string, lim Limits) (*image.NRGBA, error) {
	return readDecode(path, func(b []byte) (*image.NRGBA, error) { return Decode(b, lim) })
}

// ReadFileReduced reads and decodes an image file as DecodeReduced does.
func ReadFileReduced(path string, lim Limits, minSide int) (*image.NRGBA, error) {
	return readDecode(path, func(b []byte) (*image.NRGBA, error) { return DecodeReduced(b, lim, minSide) })
}

func readDecode(path string, decode func([]byte) (*image.NRGBA, error)) (*image.NRGBA, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}
