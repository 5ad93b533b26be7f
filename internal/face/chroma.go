package face

import (
	"math"

	"github.com/livenessd/livenessd/internal/infer"
)

// smoothChroma low-passes the colour of a sampled 3-channel model input and
// keeps its luma: each channel becomes Y + G*(c - Y), where Y is the
// Rec. 601 luma and G a Gaussian of sigma input pixels, so the luma of every
// pixel is unchanged (the weights sum to one) and only the differences
// between channels are smoothed. It is what a camera's image processor
// does to sensor noise before a frame reaches the browser (chroma noise
// reduction, 4:2:0 subsampling): a frame whose noise is independent per
// channel and per pixel makes fr_liveness read a live face as a recapture
// (docs/ACCURACY.md, "Passive texture"). sigma <= 0 leaves data unchanged.
// data is w x h in the input's layout and channel order.
func smoothChroma(data []float32, in infer.ImageInput, w, h int, sigma float64) {
	if sigma <= 0 || in.Order.Channels() != 3 {
		return
	}
	n := w * h
	// Planar views of the three channels: the data itself when planar,
	// else a copy written back at the end.
	var planes [3][]float32
	var scratch []float32
	if in.Layout == infer.NHWC {
		scratch = make([]float32, 5*n)
		for c := range 3 {
			planes[c] = scratch[c*n : (c+1)*n]
			for i := range n {
				planes[c][i] = data[3*i+c]
			}
		}
	} else {
		scratch = make([]float32, 2*n)
		for c := range 3 {
			planes[c] = data[c*n : (c+1)*n]
		}
	}
	luma, tmp := scratch[len(scratch)-2*n:len(scratch)-n], scratch[len(scratch)-n:]
	wt := [3]float32{0.299, 0.587, 0.114} // R, G, B
	if in.Order == infer.BGR {
		wt = [3]float32{0.114, 0.587, 0.299}
	}
	for i := range n {
		luma[i] = wt[0]*planes[0][i] + wt[1]*planes[1][i] + wt[2]*planes[2][i]
	}
	// Smooth the differences of the two outer channels (red and blue in
	// either order); green follows from the luma, which keeps it exactly.
	k := gaussianKernel(sigma)
	for _, c := range [2]int{0, 2} {
		p := planes[c]
		for i := range n {
			p[i] -= luma[i]
		}
		convolveSeparable(p, tmp, w, h, k)
		for i := range n {
			p[i] += luma[i]
		}
	}
	g := planes[1]
	for i := range n {
		g[i] = (luma[i] - wt[0]*planes[0][i] - wt[2]*planes[2][i]) / wt[1]
	}
	if in.Layout == infer.NHWC {
		for c := range 3 {
			for i := range n {
				data[3*i+c] = planes[c][i]
			}
		}
	}
}

// gaussianKernel is a normalised Gaussian of the given sigma, 3 sigma wide
// on each side.
func gaussianKernel(sigma float64) []float32 {
	r := max(1, int(math.Ceil(3*sigma)))
	k := make([]float32, 2*r+1)
	var sum float64
	for i := -r; i <= r; i++ {
		v := math.Exp(-float64(i*i) / (2 * sigma * sigma))
		k[i+r] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] = float32(float64(k[i]) / sum)
	}
	return k
}

// convolveSeparable filters the w x h plane p in place with kernel k along
// rows and then columns, replicating the edges; tmp holds w*h values.
func convolveSeparable(p, tmp []float32, w, h int, k []float32) {
	r := len(k) / 2
	for y := range h {
		src, dst := p[y*w:(y+1)*w], tmp[y*w:(y+1)*w]
		for x := range w {
			var s float32
			if x >= r && x+r < w {
				for j, kv := range k {
					s += kv * src[x+j-r]
				}
			} else {
				for j, kv := range k {
					s += kv * src[min(max(x+j-r, 0), w-1)]
				}
			}
			dst[x] = s
		}
	}
	// Columns a row at a time: each output row is a weighted sum of whole
	// rows, read in order.
	for y := range h {
		dst := p[y*w : (y+1)*w]
		clear(dst)
		for j, kv := range k {
			yy := min(max(y+j-r, 0), h-1)
			src := tmp[yy*w : (yy+1)*w]
			for x, v := range src {
				dst[x] += kv * v
			}
		}
	}
}
