package liveness

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkIdentityCosines measures the identity check's medoid at Finish
// for a long capture: 100 analysed frames with a face, 512-d embeddings.
func BenchmarkIdentityCosines(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var embs [][]float32
	for range 100 {
		e := make([]float32, 512)
		for i := range e {
			e[i] = float32(rng.NormFloat64())
		}
		embs = append(embs, e)
	}
	for b.Loop() {
		if c := medoidCosines(embs); len(c) != 99 {
			b.Fatalf("%d cosines", len(c))
		}
	}
}
