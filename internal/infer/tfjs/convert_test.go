package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
)

// tinyModel is a small graph model exercising most translated ops: conv
// (SAME, stride 2), depthwise conv, prelu, pad, pool, resize, depth-to-space,
// the Shape/StridedSlice/Pack/Reshape pattern, concat, matmul, softmax.
func tinyModel(ops ...string) (string, []byte) {
	type w struct {
		Name  string  `json:"name"`
		Shape []int64 `json:"shape"`
		DType string  `json:"dtype"`
		Quant any     `json:"quantization,omitempty"`
	}
	var weights []w
	var data []byte
	f32 := func(name string, shape []int64, vals func(i int) float32) {
		weights = append(weights, w{Name: name, Shape: shape, DType: "float32"})
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		for i := range n {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(vals(i)))
		}
	}
	i32 := func(name string, shape []int64, vals ...int32) {
		weights = append(weights, w{Name: name, Shape: shape, DType: "int32"})
		for _, v := range vals {
			data = binary.LittleEndian.AppendUint32(data, uint32(v))
		}
	}
	f16 := func(name string, shape []int64, vals ...uint16) {
		weights = append(weights, w{Name: name, Shape: shape, DType: "float32", Quant: map[string]string{"dtype": "float16", "original_dtype": "float32"}})
		for _, v := range vals {
			data = binary.LittleEndian.AppendUint16(data, v)
		}
	}
	u8 := func(name string, shape []int64, scale, min float64, vals ...byte) {
		weights = append(weights, w{Name: name, Shape: shape, DType: "float32", Quant: map[string]any{"dtype": "uint8", "scale": scale, "min": min}})
		data = append(data, vals...)
	}
	f32("conv/w", []int64{3, 3, 3, 8}, func(i int) float32 { return float32(i%7-3) / 10 })
	u8("conv/b", []int64{8}, 0.1, -0.4, 0, 1, 2, 3, 4, 5, 6, 7)
	f16("alpha", []int64{8}, 0x3800, 0x3400, 0x3800, 0x3400, 0x3800, 0x3400, 0x3800, 0x3400)
	f32("dw/w", []int64{3, 3, 8, 1}, func(i int) float32 { return float32(i%5) / 8 })
	i32("pad/p", []int64{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0)
	i32("size", []int64{2}, 8, 8)
	i32("ss/b", []int64{1}, 0)
	i32("ss/e", []int64{1}, 1)
	i32("ss/s", []int64{1}, 1)
	i32("shape/1", nil, -1)
	i32("shape/2", nil, 8)
	i32("axis", nil, 1)
	f32("fc/w", []int64{8, 3}, func(i int) float32 { return float32(i%3) - 1 })
	f32("fc/b", []int64{3}, func(i int) float32 { return float32(i) })
	node := func(name, op string, inputs []string, attr string) string {
		in, _ := json.Marshal(inputs)
		if attr == "" {
			attr = "{}"
		}
		return `{"name":"` + name + `","op":"` + op + `","input":` + string(in) + `,"attr":` + attr + `}`
	}
	b64 := func(s string) string { return `"` + base64Std(s) + `"` }
	nodes := []string{
		node("input", "Placeholder", nil, `{"dtype":{"type":"DT_FLOAT"},"shape":{"shape":{"dim":[{"size":"-1"},{"size":"16"},{"size":"16"},{"size":"3"}]}}}`),
	}
	for _, n := range []string{"conv/w", "conv/b", "alpha", "dw/w", "pad/p", "size", "ss/b", "ss/e", "ss/s", "shape/1", "shape/2", "axis", "fc/w", "fc/b"} {
		nodes = append(nodes, node(n, "Const", nil, ""))
	}
	nodes = append(nodes,
		node("conv", "_FusedConv2D", []string{"input", "conv/w", "conv/b", "alpha"},
			`{"padding":{"s":`+b64("SAME")+`},"strides":{"list":{"i":["1","2","2","1"]}},"fused_ops":{"list":{"s":[`+b64("BiasAdd")+`,`+b64("Prelu")+`]}},"num_args":{"i":"2"}}`),
		node("dw", "DepthwiseConv2dNative", []string{"conv", "dw/w"}, `{"padding":{"s":`+b64("SAME")+`},"strides":{"list":{"i":["1","1","1","1"]}}}`),
		node("pad", "Pad", []string{"dw", "pad/p"}, ""),
		node("pool", "MaxPool", []string{"pad", "^conv"}, `{"padding":{"s":`+b64("VALID")+`},"ksize":{"list":{"i":["1","2","2","1"]}},"strides":{"list":{"i":["1","2","2","1"]}}}`),
		node("resize", "ResizeBilinear", []string{"pool", "size"}, `{"half_pixel_centers":{"b":true}}`),
		node("d2s", "DepthToSpace", []string{"resize"}, `{"block_size":{"i":"2"}}`),
		node("shape", "Shape", []string{"d2s"}, ""),
		node("batch", "StridedSlice", []string{"shape", "ss/b", "ss/e", "ss/s"}, `{"shrink_axis_mask":{"i":"1"}}`),
		node("target", "Pack", []string{"batch", "shape/1", "shape/2"}, `{"axis":{"i":"0"}}`),
		node("flat", "Reshape", []string{"d2s", "target"}, ""),
		node("cat", "ConcatV2", []string{"flat", "flat", "axis"}, ""),
		node("fc", "_FusedMatMul", []string{"mean2", "fc/w", "fc/b"}, `{"fused_ops":{"list":{"s":[`+b64("BiasAdd")+`]}},"num_args":{"i":"1"}}`),
		node("mean2", "Mean", []string{"conv", "shape2"}, ""),
		node("shape2", "Pack", []string{"one", "ss/e2"}, ""),
		node("one", "Const", nil, ""),
		node("ss/e2", "Const", nil, ""),
		node("soft", "Softmax", []string{"fc"}, ""),
		node("Identity", "Identity", []string{"cat"}, ""),
		node("Identity_1", "Identity", []string{"soft"}, ""),
	)
	i32("ss/e2", nil, 2)
	i32("one", nil, 1)
	// Callers may append nodes.
	nodes = append(nodes, ops...)
	man, _ := json.Marshal([]map[string]any{{"paths": []string{"tiny.bin"}, "weights": weights}})
	js := `{"format":"graph-model","modelTopology":{"node":[` + strings.Join(nodes, ",") + `]},"weightsManifest":` + string(man) + `}`
	return js, data
}

func base64Std(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	b := []byte(s)
	for len(b) > 0 {
		var v uint32
		n := min(3, len(b))
		for i := range 3 {
			v <<= 8
			if i < n {
				v |= uint32(b[i])
			}
		}
		for i := range 4 {
			if i <= n {
				out = append(out, enc[(v>>(18-6*i))&63])
			} else {
				out = append(out, '=')
			}
		}
		b = b[n:]
	}
	return string(out)
}

func writeTiny(t *testing.T, js string, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tiny.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tiny.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestConvert_TinyModelRuns(t *testing.T) {
	js, data := tinyModel()
	dir := writeTiny(t, js, data)
	b, info, err := Convert(dir, "tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	wantOps := map[string]int{"_FusedConv2D": 1, "DepthwiseConv2dNative": 1, "Pad": 1, "MaxPool": 1, "ResizeBilinear": 1,
		"DepthToSpace": 1, "Shape": 1, "StridedSlice": 1, "Pack": 2, "Reshape": 1, "ConcatV2": 1, "_FusedMatMul": 1, "Softmax": 1, "Mean": 1}
	for op, n := range wantOps {
		if info.Ops[op] != n {
			t.Errorf("translated %d %s, want %d (ops %v)", info.Ops[op], op, n, info.Ops)
		}
	}
	if got := info.Outputs; len(got) != 2 || got[0].Name != "Identity" || got[1].Name != "Identity_1" {
		t.Fatalf("outputs %v", got)
	}
	// conv SAME stride 2: 16 -> 8; pad 8 -> 10; pool -> 5; resize -> 8; d2s -> 16x16x2
	// reshaped to [N, -1, 8] = [N, 64, 8], concatenated on axis 1.
	if got, want := info.Outputs[0].Shape, []int64{-1, 128, 8}; !equal(got, want) {
		t.Errorf("output shape %v, want %v", got, want)
	}
	rt := testutil.Runtime(t)
	s, err := rt.Load(infer.Spec{Name: "tiny"}, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, batch := range []int64{1, 3} {
		in := infer.NewTensor(batch, 16, 16, 3)
		for i := range in.Data {
			in.Data[i] = float32(i%17) / 17
		}
		out, err := s.Run(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if !equal(out[0].Shape, []int64{batch, 128, 8}) || !equal(out[1].Shape, []int64{batch, 3}) {
			t.Fatalf("batch %d: shapes %v %v", batch, out[0].Shape, out[1].Shape)
		}
		for b := range batch {
			var sum float32
			for _, v := range out[1].Data[b*3 : b*3+3] {
				sum += v
			}
			if math.Abs(float64(sum-1)) > 1e-5 {
				t.Errorf("softmax row sums to %g", sum)
			}
		}
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConvert_ErrorsNameNodeAndOp(t *testing.T) {
	js, data := tinyModel()
	for _, tc := range []struct {
		name   string
		mutate func(js string, data []byte) (string, []byte)
		want   string
	}{
		{"UnsupportedOp", func(js string, d []byte) (string, []byte) {
			return strings.Replace(js, `"name":"soft","op":"Softmax"`, `"name":"soft","op":"LogSoftmax"`, 1), d
		}, `node "soft" (LogSoftmax): unsupported op`},
		{"MissingInput", func(js string, d []byte) (string, []byte) {
			return strings.Replace(js, `"input":["pool","size"]`, `"input":["pool","nosuch"]`, 1), d
		}, `node "resize" (ResizeBilinear): input "nosuch" is not a node`},
		{"NonConstFilter", func(js string, d []byte) (string, []byte) {
			return strings.Replace(js, `"input":["conv","dw/w"]`, `"input":["conv","conv"]`, 1), d
		}, `node "dw" (DepthwiseConv2dNative): filter must be a constant`},
		{"ShortWeights", func(js string, d []byte) (string, []byte) { return js, d[:len(d)-3] }, `weight "one" needs`},
		{"BadPadding", func(js string, d []byte) (string, []byte) {
			return strings.Replace(js, `"padding":{"s":"VkFMSUQ="}`, `"padding":{"s":"`+base64Std("WEIRD")+`"}`, 1), d
		}, `node "pool" (MaxPool): padding "WEIRD" not supported`},
		{"Cycle", func(js string, d []byte) (string, []byte) {
			return strings.Replace(js, `"input":["pad","^conv"]`, `"input":["resize"]`, 1), d
		}, "cycle"},
		{"FusedBatchNorm", func(js string, d []byte) (string, []byte) {
			return strings.Replace(js, `[`+`"`+base64Std("BiasAdd")+`","`+base64Std("Prelu")+`"]`, `["`+base64Std("FusedBatchNorm")+`"]`, 1), d
		}, `node "conv" (_FusedConv2D): fused op [FusedBatchNorm] not supported`},
		{"NotJSON", func(js string, d []byte) (string, []byte) { return js[:len(js)/2], d }, "parse model.json"},
		{"ShardOutsideDir", func(js string, d []byte) (string, []byte) {
			return strings.Replace(js, `"tiny.bin"`, `"../tiny.bin"`, 1), d
		}, "leaves the model directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mjs, md := tc.mutate(js, data)
			if mjs == js && len(md) == len(data) {
				t.Fatal("mutation did not apply")
			}
			dir := writeTiny(t, mjs, md)
			_, _, err := Convert(dir, "tiny.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestHalfToFloat(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x7bff, 65504},
		{0x0001, 5.960464477539063e-08}, {0x8400, -6.103515625e-05}, {0x7c00, float32(math.Inf(1))},
	} {
		if got := halfToFloat(tc.h); got != tc.want {
			t.Errorf("halfToFloat(%#04x) = %g, want %g", tc.h, got, tc.want)
		}
	}
	if got := halfToFloat(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("NaN became %g", got)
	}
}

func TestConvertCached_WritesOnceAndReuses(t *testing.T) {
	js, data := tinyModel()
	dir := writeTiny(t, js, data)
	cache := t.TempDir()
	entries := func() []string {
		files, err := filepath.Glob(filepath.Join(cache, "*.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	a, info, err := ConvertCached(cache, dir, "tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Ops) == 0 {
		t.Error("a fresh translation reports no ops")
	}
	files := entries()
	if len(files) != 1 {
		t.Fatalf("cache holds %v", files)
	}
	// A hit returns the stored bytes without translating.
	b, info, err := ConvertCached(cache, dir, "tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) || info.Ops != nil || len(info.Outputs) != 2 {
		t.Errorf("cache hit returned %d bytes (first %d), info %+v", len(b), len(a), info)
	}
	// A corrupt entry is rebuilt.
	if err := os.WriteFile(files[0], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _, err = ConvertCached(cache, dir, "tiny.json"); err != nil || string(a) != string(b) {
		t.Fatalf("after corruption: %d bytes, %v", len(b), err)
	}
	if stored, _ := os.ReadFile(files[0]); string(stored) != string(a) {
		t.Error("corrupt cache entry was not rewritten")
	}
	// Changing the weights changes the key.
	data[0] ^= 1
	if err := os.WriteFile(filepath.Join(dir, "tiny.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ConvertCached(cache, dir, "tiny.json"); err != nil {
		t.Fatal(err)
	}
	if files := entries(); len(files) != 2 {
		t.Fatalf("after a weight change the cache holds %v, want 2 entries", files)
	}
}

// A cache that cannot be written costs the translation, not the load.
func TestConvertCached_UnwritableCache(t *testing.T) {
	js, data := tinyModel()
	dir := writeTiny(t, js, data)
	want, _, err := Convert(dir, "tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	// A cache "directory" below a regular file cannot be made, even by root.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, info, err := ConvertCached(filepath.Join(blocker, "cache"), dir, "tiny.json")
	if err != nil {
		t.Fatalf("unwritable cache: %v", err)
	}
	if string(got) != string(want) || len(info.Outputs) != 2 {
		t.Errorf("unwritable cache returned %d bytes (want %d), info %+v", len(got), len(want), info)
	}
}

func TestWindowGeometry(t *testing.T) {
	for _, tc := range []struct {
		in, k, s, d      int64
		same             bool
		out, before, aft int64
	}{
		{in: 128, k: 3, s: 2, d: 1, same: true, out: 64, before: 0, aft: 1}, // TF puts the extra pad at the end
		{in: 127, k: 3, s: 2, d: 1, same: true, out: 64, before: 1, aft: 1},
		{in: 64, k: 5, s: 1, d: 1, same: true, out: 64, before: 2, aft: 2},
		{in: 16, k: 3, s: 1, d: 2, same: true, out: 16, before: 2, aft: 2},
		{in: 192, k: 3, s: 3, d: 1, same: true, out: 64, before: 0, aft: 0},
		{in: 10, k: 3, s: 2, d: 1, same: false, out: 4},
		{in: 2, k: 3, s: 1, d: 1, same: false, out: 0},
	} {
		if got := windowOut(tc.in, tc.k, tc.s, tc.d, tc.same); got != tc.out {
			t.Errorf("windowOut(%+v) = %d, want %d", tc, got, tc.out)
		}
		if tc.same {
			b, a := samePads(tc.in, tc.k, tc.s, tc.d)
			if b != tc.before || a != tc.aft {
				t.Errorf("samePads(%+v) = %d, %d", tc, b, a)
			}
		}
	}
}
