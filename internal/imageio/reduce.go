package imageio

import (
	"image"
)

// reduceFactor is the largest DCT scale denominator (8, 4 or 2) that keeps
// the longer side of a w x h image at least minSide, or 1.
func reduceFactor(w, h, minSide int) int {
	if minSide <= 0 {
		return 1
	}
	long := max(w, h)
	for _, k := range []int{8, 4, 2} {
		if (long+k-1)/k >= minSide {
			return k
		}
	}
	return 1
}

// DecodeReduced is Decode for consumers that need no more than minSide
// pixels on the longer side (0: the full size). JPEGs are decoded by
// libjpeg-turbo, at 1/2, 1/4 or 1/8 scale in the DCT domain when the image
// is at least twice minSide long (the largest scale that keeps the longer
// side >= minSide): a 12-megapixel photo at 1/2 costs about half of its
// full decode by libjpeg-turbo and a fifth of image/jpeg's. Limits apply
// to the image as stored. Other formats, and any JPEG libjpeg-turbo does
// not decode without complaint (its warnings on corrupt data, CMYK), go
// through Decode, whose verdict stands. The result's size is the reduced
// one: callers report positions as ratios of it. Pixels differ from
// Decode's by JPEG rounding (libjpeg-turbo's IDCT, and chroma upsampled
// with its triangle filter rather than replicated).
func DecodeReduced(data []byte, lim Limits, minSide int) (*image.NRGBA, error) {
	f, cfg, err := Config(data, lim)
	if err != nil {
		return nil, err
	}
	if f != JPEG {
		return Decode(data, lim)
	}
	denom, progressive := reduceFactor(cfg.Width, cfg.Height, minSide), jpegProgressive(data)
	release, err := lim.Budget.reserve(reducedCost(cfg, denom, progressive), cfg.Width, cfg.Height)
	if err != nil {
		return nil, err
	}
	img, err := decodeJPEGScaled(data, cfg.Width, cfg.Height, denom)
	release()
	if err != nil {
		return Decode(data, lim)
	}
	if o := Orientation(data); o > 1 {
		img = Orient(img, o)
	}
	return img, nil
}

// DecodeBase64Reduced is DecodeBase64 through DecodeReduced.
func DecodeBase64Reduced(s string, lim Limits, minSide int) (*image.NRGBA, error) {
	b, err := Base64Bytes(s, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	return DecodeReduced(b, lim, minSide)
}
