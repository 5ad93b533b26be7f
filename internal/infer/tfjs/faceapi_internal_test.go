package tfjs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Weights-only manifests that cannot become a FaceRecognitionNet fail with
// an error that says why.
func TestConvert_WeightsManifestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, manifest string
		shard          int // bytes of the shard file
		want           string
	}{
		{"empty", `[]`, 0, "lists no weights"},
		{"not json", `[{"paths": `, 0, "parse weights manifest"},
		{"escaping shard", `[{"paths":["../w.bin"],"weights":[{"name":"fc","shape":[2],"dtype":"float32"}]}]`, 8, "leaves the model directory"},
		{"unknown architecture", `[{"paths":["w.bin"],"weights":[{"name":"fc","shape":[2],"dtype":"float32"}]}]`, 8, "no known architecture"},
		{"short shard", `[{"paths":["w.bin"],"weights":[{"name":"conv32_down/conv/filters","shape":[7,7,3,32],"dtype":"float32"}]}]`, 8, "needs 18816 bytes"},
		{"wrong filter shape", `[{"paths":["w.bin"],"weights":[{"name":"conv32_down/conv/filters","shape":[3,3,3,32],"dtype":"float32"}]}]`, 4 * 3 * 3 * 3 * 32, "want float [7 7 3 32]"},
		{"missing bias", `[{"paths":["w.bin"],"weights":[{"name":"conv32_down/conv/filters","shape":[7,7,3,32],"dtype":"float32"}]}]`, 4 * 7 * 7 * 3 * 32, `"conv32_down/conv/bias" missing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "m.json"), []byte(tc.manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, tc.shard), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Convert(dir, "m.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
