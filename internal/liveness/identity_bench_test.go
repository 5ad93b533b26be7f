package liveness

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkIdentityCosines measures the identity check's medoid at Finish
// for a long capture: 100 analysed frames with a face, 512-d embeddings.
func BenchmarkIdentityCosines(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := &Run{}
	for range 100 {
		e := make([]float32, 512)
		for i := range e {
			e[i] = float32(rng.NormFloat64())
		}
		r.embs = append(r.embs, e)
	}
	for b.Loop() {
		if c := r.identityCosines(); len(c) != 99 {
			b.Fatalf("%d cosines", len(c))
		}
	}
}
