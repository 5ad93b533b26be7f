package tfjs

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
)

// convModel is a one-conv graph: optional Pad, then Conv2D with the given
// padding attributes, on an input of the given H, W (-1: dynamic).
func convModel(t *testing.T, h, w int, pad []int32, convAttr string) string {
	t.Helper()
	var data []byte
	for i := range 3 * 3 * 3 * 4 {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(i%11-5)/7))
	}
	weights := `{"name":"w","shape":[3,3,3,4],"dtype":"float32"}`
	nodes := []string{
		fmt.Sprintf(`{"name":"x","op":"Placeholder","attr":{"shape":{"shape":{"dim":[{"size":"-1"},{"size":"%d"},{"size":"%d"},{"size":"3"}]}}}}`, h, w),
		`{"name":"w","op":"Const"}`,
	}
	src := "x"
	if pad != nil {
		for _, p := range pad {
			data = binary.LittleEndian.AppendUint32(data, uint32(p))
		}
		weights += `,{"name":"p","shape":[4,2],"dtype":"int32"}`
		nodes = append(nodes, `{"name":"p","op":"Const"}`, `{"name":"pad","op":"Pad","input":["x","p"]}`)
		src = "pad"
	}
	nodes = append(nodes, `{"name":"conv","op":"Conv2D","input":["`+src+`","w"],"attr":`+convAttr+`}`)
	js := `{"modelTopology":{"node":[` + strings.Join(nodes, ",") + `]},"weightsManifest":[{"paths":["m.bin"],"weights":[` + weights + `]}]}`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runConv(t *testing.T, dir string, in infer.Tensor) infer.Tensor {
	t.Helper()
	b, _, err := Convert(dir, "m.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := testutil.Runtime(t).Load(infer.Spec{Name: "conv"}, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// TestConv_PaddingModesAgree checks EXPLICIT padding against an explicit Pad
// plus VALID conv, and SAME with a dynamic spatial size (ONNX auto_pad) against
// SAME with a static one (pads computed at translation), on odd and even sizes.
func TestConv_PaddingModesAgree(t *testing.T) {
	b64 := base64Std
	attr := func(padding string, stride int, extra string) string {
		return fmt.Sprintf(`{"padding":{"s":"%s"},"strides":{"list":{"i":["1","%d","%d","1"]}}%s}`, b64(padding), stride, stride, extra)
	}
	for _, size := range []int{9, 10} {
		in := infer.NewTensor(1, int64(size), int64(size), 3)
		for i := range in.Data {
			in.Data[i] = float32(i%13) / 13
		}
		for _, tc := range []struct {
			name string
			a, b string
		}{
			{"ExplicitVsPad",
				convModel(t, size, size, nil, attr("EXPLICIT", 2, `,"explicit_paddings":{"list":{"i":["0","0","1","2","2","1","0","0"]}}`)),
				convModel(t, size, size, []int32{0, 0, 1, 2, 2, 1, 0, 0}, attr("VALID", 2, ""))},
			{"SameDynamicVsStatic",
				convModel(t, -1, -1, nil, attr("SAME", 2, "")),
				convModel(t, size, size, nil, attr("SAME", 2, ""))},
		} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, size), func(t *testing.T) {
				a, b := runConv(t, tc.a, in), runConv(t, tc.b, in)
				if fmt.Sprint(a.Shape) != fmt.Sprint(b.Shape) {
					t.Fatalf("shapes %v and %v", a.Shape, b.Shape)
				}
				for i := range a.Data {
					if math.Abs(float64(a.Data[i]-b.Data[i])) > 1e-5 {
						t.Fatalf("[%d] %g vs %g", i, a.Data[i], b.Data[i])
					}
				}
			})
		}
	}
}
