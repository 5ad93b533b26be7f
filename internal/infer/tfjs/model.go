// Package tfjs translates TensorFlow.js graph models (model.json plus weight
// shards) into ONNX models that ONNX Runtime runs through package infer.
//
// The translation is pure Go. Activations keep TF's NHWC semantics at the
// model boundary (graph inputs and outputs are NHWC, exactly as TF.js sees
// them) while the interior runs in NCHW, ONNX Runtime's native layout: the
// input is transposed once, weights are rearranged at translation time, and a
// tensor goes back to NHWC only where an op depends on element order
// (Reshape, Shape, MatMul...) or at a graph output.
package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Model is a parsed TF.js graph model (model.json).
type Model struct {
	Format      string
	GeneratedBy string
	ConvertedBy string
	Nodes       []Node
	// Outputs lists output node names in the order TF.js returns them
	// (signature order when the model has one, else graph leaves in node order).
	Outputs []string
	Weights []WeightGroup
}

// Node is one TF graph node.
type Node struct {
	Name   string
	Op     string
	Inputs []string
	Attr   map[string]AttrValue
}

// WeightGroup is one entry of weightsManifest: shard files holding the
// concatenated bytes of its weights, in order.
type WeightGroup struct {
	Paths   []string
	Weights []WeightSpec
}

// WeightSpec describes one stored weight.
type WeightSpec struct {
	Name  string
	Shape []int64
	DType string // float32, int32, bool
	// Quantization, when set, says the stored bytes are Quant.DType values.
	Quant *Quantization
}

// Quantization is TF.js weight quantisation: uint8/uint16 values mapped
// linearly (value = q*Scale + Min) or float16 values.
type Quantization struct {
	DType         string  // uint8, uint16, float16
	Scale         float64 // affine quantisation only
	Min           float64
	OriginalDType string
}

// AttrValue is a TF AttrValue in TF.js's JSON form.
type AttrValue struct {
	S      *string         `json:"s"`
	I      json.RawMessage `json:"i"`
	F      json.RawMessage `json:"f"`
	B      *bool           `json:"b"`
	Type   string          `json:"type"`
	List   *attrList       `json:"list"`
	Tensor json.RawMessage `json:"tensor"`
	Shape  json.RawMessage `json:"shape"`
}

type attrList struct {
	S []string          `json:"s"`
	I []json.RawMessage `json:"i"`
	F []json.RawMessage `json:"f"`
}

type jsonModel struct {
	Format        string `json:"format"`
	GeneratedBy   string `json:"generatedBy"`
	ConvertedBy   string `json:"convertedBy"`
	ModelTopology *struct {
		Node []struct {
			Name  string               `json:"name"`
			Op    string               `json:"op"`
			Input []string             `json:"input"`
			Attr  map[string]AttrValue `json:"attr"`
		} `json:"node"`
		Library json.RawMessage `json:"library"`
	} `json:"modelTopology"`
	Signature *struct {
		Outputs orderedMap `json:"outputs"`
	} `json:"signature"`
	WeightsManifest []jsonWeightGroup `json:"weightsManifest"`
}

// jsonWeightGroup is one weightsManifest entry, as model.json has it and as
// a weights-only manifest (a JSON array of them) is written.
type jsonWeightGroup struct {
	Paths   []string `json:"paths"`
	Weights []struct {
		Name         string  `json:"name"`
		Shape        []int64 `json:"shape"`
		DType        string  `json:"dtype"`
		Quantization *struct {
			DType         string  `json:"dtype"`
			Scale         float64 `json:"scale"`
			Min           float64 `json:"min"`
			OriginalDType string  `json:"original_dtype"`
		} `json:"quantization"`
	} `json:"weights"`
}

// orderedMap keeps the key order of a JSON object whose values carry a "name".
type orderedMap []struct{ Key, Name string }

func (o *orderedMap) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if tok == nil {
			return nil
		}
		return fmt.Errorf("signature outputs: want an object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		var v struct {
			Name string `json:"name"`
		}
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("signature output %q: %w", key, err)
		}
		*o = append(*o, struct{ Key, Name string }{key, v.Name})
	}
	_, err = dec.Token()
	return err
}

// maxNodes and maxRank bound what a model may declare, so a hostile file
// cannot make the translator allocate without limit.
const (
	maxNodes   = 1 << 16
	maxRank    = 8
	maxElement = 1 << 28
)

// ParseModel parses a model.json. It checks structure (names, ops, inputs,
// weight shapes and dtypes) but not weights' bytes.
func ParseModel(data []byte) (*Model, error) {
	var jm jsonModel
	if err := json.Unmarshal(data, &jm); err != nil {
		return nil, fmt.Errorf("tfjs: parse model.json: %w", err)
	}
	if jm.ModelTopology == nil {
		return nil, fmt.Errorf("tfjs: model.json has no modelTopology (layers models are not supported)")
	}
	if jm.Format != "" && jm.Format != "graph-model" {
		return nil, fmt.Errorf("tfjs: format %q, want graph-model", jm.Format)
	}
	if l := bytes.TrimSpace(jm.ModelTopology.Library); len(l) > 0 && !bytes.Equal(l, []byte("{}")) && !bytes.Equal(l, []byte("null")) {
		var lib struct {
			Function []json.RawMessage `json:"function"`
		}
		if err := json.Unmarshal(l, &lib); err != nil || len(lib.Function) > 0 {
			return nil, fmt.Errorf("tfjs: graph functions (control flow) are not supported")
		}
	}
	nodes := jm.ModelTopology.Node
	if len(nodes) == 0 {
		return nil, fmt.Errorf("tfjs: model has no nodes")
	}
	if len(nodes) > maxNodes {
		return nil, fmt.Errorf("tfjs: model has %d nodes, limit %d", len(nodes), maxNodes)
	}
	m := &Model{Format: jm.Format, GeneratedBy: jm.GeneratedBy, ConvertedBy: jm.ConvertedBy}
	seen := make(map[string]bool, len(nodes))
	consumed := map[string]bool{}
	for i, n := range nodes {
		if n.Name == "" {
			return nil, fmt.Errorf("tfjs: node %d has no name", i)
		}
		if n.Op == "" {
			return nil, fmt.Errorf("tfjs: node %q has no op", n.Name)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("tfjs: duplicate node name %q", n.Name)
		}
		seen[n.Name] = true
		for _, in := range n.Input {
			if src, _, ctrl := splitInput(in); !ctrl {
				consumed[src] = true
			}
		}
		m.Nodes = append(m.Nodes, Node{Name: n.Name, Op: n.Op, Inputs: n.Input, Attr: n.Attr})
	}
	for _, n := range m.Nodes {
		for _, in := range n.Inputs {
			src, idx, _ := splitInput(in)
			if !seen[src] {
				return nil, fmt.Errorf("tfjs: node %q (%s): input %q is not a node", n.Name, n.Op, in)
			}
			if idx < 0 {
				return nil, fmt.Errorf("tfjs: node %q (%s): bad input reference %q", n.Name, n.Op, in)
			}
		}
	}
	if jm.Signature != nil && len(jm.Signature.Outputs) > 0 {
		for _, o := range jm.Signature.Outputs {
			name := o.Name
			if name == "" {
				name = o.Key
			}
			src, idx, _ := splitInput(name)
			if !seen[src] || idx != 0 {
				return nil, fmt.Errorf("tfjs: signature output %q names no node output", name)
			}
			m.Outputs = append(m.Outputs, src)
		}
	} else {
		for _, n := range m.Nodes {
			if !consumed[n.Name] && n.Op != "Const" && n.Op != "Placeholder" && n.Op != "NoOp" {
				m.Outputs = append(m.Outputs, n.Name)
			}
		}
	}
	if len(m.Outputs) == 0 {
		return nil, fmt.Errorf("tfjs: model has no outputs")
	}
	groups, err := weightGroups(jm.WeightsManifest)
	if err != nil {
		return nil, err
	}
	m.Weights = groups
	return m, nil
}

// weightGroups checks and converts the manifest's weight groups: shard paths
// stay inside the model directory, shapes are bounded, dtypes known.
func weightGroups(manifest []jsonWeightGroup) ([]WeightGroup, error) {
	var out []WeightGroup
	for _, g := range manifest {
		wg := WeightGroup{Paths: g.Paths}
		for _, p := range g.Paths {
			if !filepath.IsLocal(p) {
				return nil, fmt.Errorf("tfjs: weight shard path %q leaves the model directory", p)
			}
		}
		for _, w := range g.Weights {
			ws := WeightSpec{Name: w.Name, Shape: w.Shape, DType: w.DType}
			if _, err := numElements(w.Shape); err != nil {
				return nil, fmt.Errorf("tfjs: weight %q: %w", w.Name, err)
			}
			switch w.DType {
			case "float32", "int32", "bool":
			default:
				return nil, fmt.Errorf("tfjs: weight %q: dtype %q not supported", w.Name, w.DType)
			}
			if q := w.Quantization; q != nil {
				ws.Quant = &Quantization{DType: q.DType, Scale: q.Scale, Min: q.Min, OriginalDType: q.OriginalDType}
				switch q.DType {
				case "uint8", "uint16":
				case "float16":
					if w.DType != "float32" {
						return nil, fmt.Errorf("tfjs: weight %q: float16 quantisation of %s", w.Name, w.DType)
					}
				default:
					return nil, fmt.Errorf("tfjs: weight %q: quantisation dtype %q not supported", w.Name, q.DType)
				}
			}
			wg.Weights = append(wg.Weights, ws)
		}
		out = append(out, wg)
	}
	return out, nil
}

// splitInput splits "node:1" into ("node", 1); "^node" is a control input.
func splitInput(in string) (name string, idx int, control bool) {
	if strings.HasPrefix(in, "^") {
		return in[1:], 0, true
	}
	if i := strings.LastIndexByte(in, ':'); i >= 0 {
		n, err := strconv.Atoi(in[i+1:])
		if err != nil || n < 0 {
			return in[:i], -1, false
		}
		return in[:i], n, false
	}
	return in, 0, false
}

func numElements(shape []int64) (int, error) {
	if len(shape) > maxRank {
		return 0, fmt.Errorf("rank %d exceeds %d", len(shape), maxRank)
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d > maxElement {
			return 0, fmt.Errorf("shape %v too large", shape)
		}
		n *= d
		if n > maxElement {
			return 0, fmt.Errorf("shape %v too large", shape)
		}
	}
	return int(n), nil
}

// constant is a decoded weight: float32 data or integer data (int32 and bool
// widened to int64, the ONNX index type).
type constant struct {
	shape []int64
	f     []float32 // float32 tensors
	i     []int64   // int32/bool tensors
}

func (c *constant) isFloat() bool { return c.i == nil }
func (c *constant) size() int {
	if c.isFloat() {
		return len(c.f)
	}
	return len(c.i)
}

// loadWeights reads the shards the manifest names from dir and decodes every
// weight (dequantising uint8/uint16/float16 storage).
func (m *Model) loadWeights(dir string) (map[string]*constant, error) {
	var shards [][]byte
	for _, g := range m.Weights {
		var buf []byte
		for _, p := range g.Paths {
			b, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				return nil, fmt.Errorf("tfjs: weight shard: %w", err)
			}
			buf = append(buf, b...)
		}
		shards = append(shards, buf)
	}
	return m.decodeWeights(shards)
}

// decodeWeights decodes the weights of each group from its concatenated shard bytes.
func (m *Model) decodeWeights(groups [][]byte) (map[string]*constant, error) {
	out := map[string]*constant{}
	for gi, g := range m.Weights {
		if gi >= len(groups) {
			return nil, fmt.Errorf("tfjs: weight group %d has no data", gi)
		}
		data := groups[gi]
		off := 0
		for _, w := range g.Weights {
			n, err := numElements(w.Shape)
			if err != nil {
				return nil, fmt.Errorf("tfjs: weight %q: %w", w.Name, err)
			}
			width := 4
			stored := w.DType
			if w.Quant != nil {
				stored = w.Quant.DType
			}
			switch stored {
			case "uint8", "bool":
				width = 1
			case "uint16", "float16":
				width = 2
			}
			nb := n * width
			if off+nb > len(data) {
				return nil, fmt.Errorf("tfjs: weight %q needs %d bytes at offset %d, shard data has %d", w.Name, nb, off, len(data))
			}
			b := data[off : off+nb]
			off += nb
			c := &constant{shape: append([]int64{}, w.Shape...)}
			if w.DType == "float32" {
				c.f = make([]float32, n)
			} else {
				c.i = make([]int64, n)
			}
			for k := range n {
				var v float64
				switch stored {
				case "float32":
					c.f[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
					continue
				case "int32":
					c.i[k] = int64(int32(binary.LittleEndian.Uint32(b[4*k:])))
					continue
				case "bool":
					if b[k] != 0 {
						c.i[k] = 1
					}
					continue
				case "float16":
					c.f[k] = halfToFloat(binary.LittleEndian.Uint16(b[2*k:]))
					continue
				case "uint8":
					v = float64(b[k])*w.Quant.Scale + w.Quant.Min
				case "uint16":
					v = float64(binary.LittleEndian.Uint16(b[2*k:]))*w.Quant.Scale + w.Quant.Min
				}
				if c.f != nil {
					c.f[k] = float32(v)
				} else {
					c.i[k] = int64(math.Round(v))
				}
			}
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("tfjs: weight %q listed twice", w.Name)
			}
			out[w.Name] = c
		}
	}
	return out, nil
}

// halfToFloat converts IEEE 754 binary16 to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal half: frac * 2^-24
		f := float32(frac) * float32(1.0/16777216.0)
		if sign != 0 {
			f = -f
		}
		return f
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	}
}

// Attribute accessors. TF.js writes ints as strings and strings base64.

func (a AttrValue) str() string {
	if a.S == nil {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(*a.S)
	if err != nil {
		return *a.S
	}
	return string(b)
}

func parseInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	s := strings.Trim(string(raw), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

func parseFloat(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	s := strings.Trim(string(raw), `"`)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func (n *Node) attrString(k string) string {
	if a, ok := n.Attr[k]; ok {
		return a.str()
	}
	return ""
}

func (n *Node) attrInt(k string, def int64) int64 {
	if a, ok := n.Attr[k]; ok {
		if v, ok := parseInt(a.I); ok {
			return v
		}
	}
	return def
}

func (n *Node) attrFloat(k string, def float64) float64 {
	if a, ok := n.Attr[k]; ok {
		if v, ok := parseFloat(a.F); ok {
			return v
		}
	}
	return def
}

func (n *Node) attrBool(k string) bool {
	if a, ok := n.Attr[k]; ok && a.B != nil {
		return *a.B
	}
	return false
}

func (n *Node) attrInts(k string) ([]int64, error) {
	a, ok := n.Attr[k]
	if !ok || a.List == nil {
		return nil, nil
	}
	out := make([]int64, 0, len(a.List.I))
	for _, r := range a.List.I {
		v, ok := parseInt(r)
		if !ok {
			return nil, fmt.Errorf("attribute %s: bad integer %s", k, r)
		}
		out = append(out, v)
	}
	return out, nil
}

func (n *Node) attrStrings(k string) []string {
	a, ok := n.Attr[k]
	if !ok || a.List == nil {
		return nil
	}
	out := make([]string, 0, len(a.List.S))
	for _, s := range a.List.S {
		v := AttrValue{S: &s}
		out = append(out, v.str())
	}
	return out
}

// jsonInt accepts an integer written as a JSON number or string.
type jsonInt int64

func (j *jsonInt) UnmarshalJSON(b []byte) error {
	v, ok := parseInt(b)
	if !ok {
		return fmt.Errorf("bad integer %s", b)
	}
	*j = jsonInt(v)
	return nil
}
