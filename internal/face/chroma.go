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
	scratch := make([]float32, 3*n)
	luma, diff, tmp := scratch[:n], scratch[n:2*n], scratch[2*n:3*n]
	// at(c, i) is the index of channel c (model order) of pixel i.
	at := func(c, i int) int { return c*n + i }
	if in.Layout == infer.NHWC {
		at = func(c, i int) int { return 3*i + c }
	}
	wt := [3]float32{0.299, 0.587, 0.114} // R, G, B
	if in.Order == infer.BGR {
		wt = [3]float32{0.114, 0.587, 0.299}
	}
	for i := range n {
		luma[i] = wt[0]*data[at(0, i)] + wt[1]*data[at(1, i)] + wt[2]*data[at(2, i)]
	}
	k := gaussianKernel(sigma)
	for c := range 3 {
		for i := range n {
			diff[i] = data[at(c, i)] - luma[i]
		}
		convolveSeparable(diff, tmp, w, h, k)
		for i := range n {
			data[at(c, i)] = luma[i] + diff[i]
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
		row := p[y*w : (y+1)*w]
		for x := range w {
			var s float32
			for j, kv := range k {
				s += kv * row[min(max(x+j-r, 0), w-1)]
			}
			tmp[y*w+x] = s
		}
	}
	for y := range h {
		for x := range w {
			var s float32
			for j, kv := range k {
				s += kv * tmp[min(max(y+j-r, 0), h-1)*w+x]
			}
			p[y*w+x] = s
		}
	}
}
