package tfjs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/livenessd/livenessd/internal/infer"
)

// translatorVersion is part of the cache key: bump it whenever the
// translation changes what it emits.
const translatorVersion = "tfjs-onnx-1"

// ConvertCached is Convert with an on-disk cache: the ONNX bytes are stored
// in cacheDir under a name keyed by the sha256 of model.json, its weight
// shards and the translator version, written atomically (temp file +
// rename). On a cache hit Info has inputs and outputs but no op counts. An
// empty cacheDir disables the cache. A cache that cannot be written (a
// read-only model directory in a container) only costs the translation on
// every load: the translation is returned all the same.
func ConvertCached(cacheDir, dir, modelJSONName string) ([]byte, Info, error) {
	if cacheDir == "" {
		return Convert(dir, modelJSONName)
	}
	key, err := cacheKey(dir, modelJSONName)
	if err != nil {
		return nil, Info{}, err
	}
	base := strings.TrimSuffix(filepath.Base(modelJSONName), ".json")
	path := filepath.Join(cacheDir, fmt.Sprintf("%s-%s.onnx", base, key[:16]))
	if b, err := os.ReadFile(path); err == nil {
		ins, outs, err := infer.GraphIO(b)
		if err == nil {
			return b, Info{Inputs: ins, Outputs: outs}, nil
		}
		// A corrupt cache entry is rebuilt below.
	}
	b, info, err := Convert(dir, modelJSONName)
	if err != nil {
		return nil, Info{}, err
	}
	_ = infer.WriteModelFile(path, b) // the cache only saves time
	return b, info, nil
}

func cacheKey(dir, modelJSONName string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, modelJSONName))
	if err != nil {
		return "", fmt.Errorf("tfjs: %w", err)
	}
	m, err := parseAny(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", modelJSONName, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", translatorVersion, len(data))
	h.Write(data)
	for _, g := range m.Weights {
		for _, p := range g.Paths {
			b, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				return "", fmt.Errorf("tfjs: weight shard: %w", err)
			}
			fmt.Fprintf(h, "\x00%s\x00%d\x00", p, len(b))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Load translates (or takes from cacheDir) the model spec.File names,
// relative to the model cache root modelDir, and loads it into rt, checking
// spec against the graph.
func Load(rt *infer.Runtime, spec infer.Spec, modelDir, cacheDir string) (*infer.Session, error) {
	p := filepath.Join(modelDir, filepath.FromSlash(spec.File))
	b, _, err := ConvertCached(cacheDir, filepath.Dir(p), filepath.Base(p))
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", spec.Name, err)
	}
	return rt.Load(spec, b)
}
