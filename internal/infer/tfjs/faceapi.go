package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// face-api.js ships its networks as weights-only manifests: a JSON array of
// weight groups and no graph, the graph being built by the library's code
// from the weight names. The architectures livenessd uses are rebuilt here
// as TF graphs (the ops face-api.js's code calls, in its order) and then
// translated like any graph model.

// isWeightsManifest reports whether a model file is a weights-only
// manifest (a JSON array) rather than a model.json (an object).
func isWeightsManifest(data []byte) bool {
	b := bytes.TrimLeft(data, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// parseWeightsManifest parses a weights-only manifest into a Model that has
// weights but no nodes yet.
func parseWeightsManifest(data []byte) (*Model, error) {
	var groups []jsonWeightGroup
	if err := json.Unmarshal(data, &groups); err != nil {
		return nil, fmt.Errorf("tfjs: parse weights manifest: %w", err)
	}
	w, err := weightGroups(groups)
	if err != nil {
		return nil, err
	}
	if len(w) == 0 {
		return nil, fmt.Errorf("tfjs: weights manifest lists no weights")
	}
	return &Model{Format: "weights-manifest", Weights: w}, nil
}

// parseAny parses a model.json or a weights-only manifest.
func parseAny(data []byte) (*Model, error) {
	if isWeightsManifest(data) {
		return parseWeightsManifest(data)
	}
	return ParseModel(data)
}

// buildWeightsOnly gives m the graph of the architecture its weights belong
// to and returns the constants the graph's Const nodes name.
func (m *Model) buildWeightsOnly(w map[string]*constant) (map[string]*constant, error) {
	if _, ok := w["conv32_down/conv/filters"]; ok {
		return m.buildFaceRecognitionNet(w)
	}
	return nil, fmt.Errorf("tfjs: weights manifest of no known architecture (a face-api.js FaceRecognitionNet is)")
}

// FaceRecognitionNet geometry: face-api.js feeds it 150x150 RGB crops.
const faceRecognitionSide = 150

// graphBuilder appends TF nodes and the constants they use.
type graphBuilder struct {
	nodes  []Node
	consts map[string]*constant
	seq    int
}

func (b *graphBuilder) name(hint string) string {
	b.seq++
	return fmt.Sprintf("%s_%d", hint, b.seq)
}

func (b *graphBuilder) op(name, op string, inputs []string, attr map[string]AttrValue) string {
	b.nodes = append(b.nodes, Node{Name: name, Op: op, Inputs: inputs, Attr: attr})
	return name
}

func (b *graphBuilder) constant(hint string, k *constant) string {
	name := b.name(hint)
	b.consts[name] = k
	return b.op(name, "Const", nil, nil)
}

func strAttr(s string) AttrValue {
	e := base64.StdEncoding.EncodeToString([]byte(s))
	return AttrValue{S: &e}
}

func intAttr(v int64) AttrValue {
	return AttrValue{I: json.RawMessage(strconv.Quote(strconv.FormatInt(v, 10)))}
}

func intsAttr(v ...int64) AttrValue {
	l := &attrList{}
	for _, x := range v {
		l.I = append(l.I, json.RawMessage(strconv.Quote(strconv.FormatInt(x, 10))))
	}
	return AttrValue{List: l}
}

func stringsAttr(v ...string) AttrValue {
	l := &attrList{}
	for _, s := range v {
		l.S = append(l.S, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return AttrValue{List: l}
}

// tensor4 is a value of the built graph and its NHWC spatial size and depth.
type tensor4 struct {
	name    string
	side, c int64
}

// weight returns a named weight of the expected shape.
func weight(w map[string]*constant, name string, shape ...int64) (*constant, error) {
	k, ok := w[name]
	if !ok {
		return nil, fmt.Errorf("tfjs: weight %q missing", name)
	}
	if !k.isFloat() || fmt.Sprint(k.shape) != fmt.Sprint(shape) {
		return nil, fmt.Errorf("tfjs: weight %q has shape %v, want float %v", name, k.shape, shape)
	}
	return k, nil
}

// convLayer is face-api.js's convLayer: conv2d, + conv/bias, then the scale
// layer (* scale/weights + scale/biases), optionally relu. The bias and the
// per-channel scale are folded into the filters and one bias, exactly the
// same affine map in one fused convolution.
func (b *graphBuilder) convLayer(w map[string]*constant, prefix string, x tensor4, cout, k, stride int64, same, relu bool) (tensor4, error) {
	f, err := weight(w, prefix+"/conv/filters", k, k, x.c, cout)
	if err != nil {
		return tensor4{}, err
	}
	bias, err := weight(w, prefix+"/conv/bias", cout)
	if err != nil {
		return tensor4{}, err
	}
	sw, err := weight(w, prefix+"/scale/weights", cout)
	if err != nil {
		return tensor4{}, err
	}
	sb, err := weight(w, prefix+"/scale/biases", cout)
	if err != nil {
		return tensor4{}, err
	}
	folded := &constant{shape: f.shape, f: make([]float32, len(f.f))}
	for i, v := range f.f { // HWIO: the output channel is the fastest index
		folded.f[i] = float32(float64(v) * float64(sw.f[int64(i)%cout]))
	}
	fb := &constant{shape: []int64{cout}, f: make([]float32, cout)}
	for o := range cout {
		fb.f[o] = float32(float64(bias.f[o])*float64(sw.f[o]) + float64(sb.f[o]))
	}
	fused := []string{"BiasAdd"}
	if relu {
		fused = append(fused, "Relu")
	}
	pad := "VALID"
	if same {
		pad = "SAME"
	}
	name := b.op(prefix, "_FusedConv2D", []string{x.name, b.constant(prefix+"/filters", folded), b.constant(prefix+"/bias", fb)},
		map[string]AttrValue{
			"strides": intsAttr(1, stride, stride, 1), "padding": strAttr(pad),
			"fused_ops": stringsAttr(fused...), "num_args": intAttr(1),
		})
	return tensor4{name: name, side: windowOut(x.side, k, stride, 1, same), c: cout}, nil
}

func (b *graphBuilder) pool(op string, x tensor4, k, stride int64) tensor4 {
	name := b.op(b.name(op), op, []string{x.name}, map[string]AttrValue{
		"ksize": intsAttr(1, k, k, 1), "strides": intsAttr(1, stride, stride, 1), "padding": strAttr("VALID"),
	})
	return tensor4{name: name, side: windowOut(x.side, k, stride, 1, false), c: x.c}
}

func (b *graphBuilder) addRelu(x, y tensor4) tensor4 {
	sum := b.op(b.name("add"), "AddV2", []string{x.name, y.name}, nil)
	return tensor4{name: b.op(b.name("relu"), "Relu", []string{sum}, nil), side: x.side, c: x.c}
}

// padEnd zero-pads the end of the spatial axes by hw and of the channels by c.
func (b *graphBuilder) padEnd(x tensor4, hw, c int64) tensor4 {
	p := b.constant("paddings", &constant{shape: []int64{4, 2}, i: []int64{0, 0, 0, hw, 0, hw, 0, c}})
	return tensor4{name: b.op(b.name("pad"), "Pad", []string{x.name, p}, nil), side: x.side + hw, c: x.c + c}
}

// residual is face-api.js's residual block: relu(conv2(relu(conv1(x))) + x).
func (b *graphBuilder) residual(w map[string]*constant, prefix string, x tensor4) (tensor4, error) {
	y, err := b.convLayer(w, prefix+"/conv1", x, x.c, 3, 1, true, true)
	if err != nil {
		return tensor4{}, err
	}
	if y, err = b.convLayer(w, prefix+"/conv2", y, x.c, 3, 1, true, false); err != nil {
		return tensor4{}, err
	}
	return b.addRelu(y, x), nil
}

// residualDown is face-api.js's downsampling block: a stride-2 VALID conv
// path against a 2x2 average pool of x; where their sizes differ (odd
// sides) the conv path gets one zero row and column at the end, and the
// pooled path zero channels up to the conv path's depth.
func (b *graphBuilder) residualDown(w map[string]*constant, prefix string, x tensor4, cout int64) (tensor4, error) {
	y, err := b.convLayer(w, prefix+"/conv1", x, cout, 3, 2, false, true)
	if err != nil {
		return tensor4{}, err
	}
	if y, err = b.convLayer(w, prefix+"/conv2", y, cout, 3, 1, true, false); err != nil {
		return tensor4{}, err
	}
	pooled := b.pool("AvgPool", x, 2, 2)
	switch d := pooled.side - y.side; d {
	case 0:
	case 1:
		y = b.padEnd(y, 1, 0)
	default:
		return tensor4{}, fmt.Errorf("tfjs: %s: pooled side %d vs conv side %d", prefix, pooled.side, y.side)
	}
	if pooled.c != cout {
		if cout != 2*pooled.c {
			return tensor4{}, fmt.Errorf("tfjs: %s: %d channels cannot be zero-doubled to %d", prefix, pooled.c, cout)
		}
		pooled = b.padEnd(pooled, 0, pooled.c)
	}
	return b.addRelu(pooled, y), nil
}

// buildFaceRecognitionNet is face-api.js's FaceRecognitionNet (a TF.js port
// of dlib's ResNet-34-style face descriptor network): a 150x150 NHWC input
// already normalised as (pixel - mean RGB) / 255 (the Spec does that), a
// 128-d descriptor out.
func (m *Model) buildFaceRecognitionNet(w map[string]*constant) (map[string]*constant, error) {
	b := &graphBuilder{consts: map[string]*constant{}}
	const input = "input"
	shape := json.RawMessage(fmt.Sprintf(`{"dim":[{"size":"-1"},{"size":"%d"},{"size":"%d"},{"size":"3"}]}`, faceRecognitionSide, faceRecognitionSide))
	b.op(input, "Placeholder", nil, map[string]AttrValue{"shape": {Shape: shape}, "dtype": {Type: "DT_FLOAT"}})
	x := tensor4{name: input, side: faceRecognitionSide, c: 3}
	x, err := b.convLayer(w, "conv32_down", x, 32, 7, 2, false, true)
	if err != nil {
		return nil, err
	}
	x = b.pool("MaxPool", x, 3, 2)
	for _, s := range []struct {
		prefix string
		c      int64
		down   bool
	}{
		{"conv32_1", 32, false}, {"conv32_2", 32, false}, {"conv32_3", 32, false},
		{"conv64_down", 64, true}, {"conv64_1", 64, false}, {"conv64_2", 64, false}, {"conv64_3", 64, false},
		{"conv128_down", 128, true}, {"conv128_1", 128, false}, {"conv128_2", 128, false},
		{"conv256_down", 256, true}, {"conv256_1", 256, false}, {"conv256_2", 256, false},
		{"conv256_down_out", 256, true},
	} {
		if s.down {
			x, err = b.residualDown(w, s.prefix, x, s.c)
		} else {
			x, err = b.residual(w, s.prefix, x)
		}
		if err != nil {
			return nil, err
		}
	}
	axes := b.constant("axes", &constant{shape: []int64{2}, i: []int64{1, 2}})
	mean := b.op(b.name("mean"), "Mean", []string{x.name, axes}, nil)
	fc, err := weight(w, "fc", x.c, 128)
	if err != nil {
		return nil, err
	}
	b.consts["fc"] = fc
	b.op("fc", "Const", nil, nil)
	const out = "descriptor"
	b.op(out, "MatMul", []string{mean, "fc"}, nil)
	m.Nodes, m.Outputs = b.nodes, []string{out}
	return b.consts, nil
}
