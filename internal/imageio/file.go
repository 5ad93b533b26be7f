package imageio

import (
	"fmt"
	"image"
	"os"
)

// ReadFile reads and decodes an image file as Decode does, for the
// command-line tools; errors name the file.
func ReadFile(path string, lim Limits) (*image.NRGBA, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := Decode(b, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}
