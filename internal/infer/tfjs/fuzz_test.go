package tfjs

import (
	"testing"
)

// FuzzParseModel feeds arbitrary model.json or weights-only manifest bytes
// through parsing, weight decoding (with zero-filled shards of the declared
// size), graph building and translation: every failure must be an error,
// never a panic or runaway allocation.
func FuzzParseModel(f *testing.F) {
	js, _ := tinyModel()
	f.Add([]byte(js))
	f.Add([]byte(`[{"paths":["w.bin"],"weights":[{"name":"conv32_down/conv/filters","shape":[7,7,3,32],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.1,"min":-1}},{"name":"fc","shape":[256,128],"dtype":"float32"}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseAny(data)
		if err != nil {
			return
		}
		var groups [][]byte
		total := 0
		for _, g := range m.Weights {
			n := 0
			for _, w := range g.Weights {
				k, err := numElements(w.Shape)
				if err != nil {
					t.Fatalf("ParseModel accepted weight %q with bad shape: %v", w.Name, err)
				}
				n += 4 * k
			}
			total += n
			if total > 1<<22 {
				return
			}
			groups = append(groups, make([]byte, n))
		}
		weights, err := m.decodeWeights(groups)
		if err != nil {
			return
		}
		if len(m.Nodes) == 0 {
			if weights, err = m.buildWeightsOnly(weights); err != nil {
				return
			}
		}
		b, info, err := m.toONNX(weights)
		if err != nil {
			return
		}
		if len(b) == 0 || len(info.Outputs) == 0 {
			t.Fatalf("translation succeeded with %d bytes and outputs %v", len(b), info.Outputs)
		}
	})
}
