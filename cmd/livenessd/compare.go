package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/imageio"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/infer/tfjs"
	"github.com/livenessd/livenessd/internal/models"
)

// faceFlags are the flags every face command shares.
type faceFlags struct {
	dir    *string
	config *string
}

func addFaceFlags(fs *flag.FlagSet) faceFlags {
	return faceFlags{
		dir:    fs.String("dir", models.Dir(), "model cache directory (env "+models.EnvDir+")"),
		config: fs.String("models-config", os.Getenv("LIVENESS_FACE_CONFIG"), "JSON file overriding the face models (docs/MODELS.md; env LIVENESS_FACE_CONFIG)"),
	}
}

// open verifies the cache, starts ONNX Runtime and loads the face pipeline.
func (f faceFlags) open() (*face.Pipeline, error) {
	cache := models.NewCache(*f.dir)
	if err := cache.Verify(); err != nil {
		return nil, err
	}
	cfg := face.DefaultConfig()
	if *f.config != "" {
		var err error
		if cfg, err = face.LoadConfig(*f.config); err != nil {
			return nil, err
		}
	}
	rt, err := infer.NewRuntime(cache.Path(models.ORTLibrary), infer.Options{})
	if err != nil {
		return nil, err
	}
	return face.NewPipeline(rt, cache, cfg)
}

// openMesh loads the FaceMesh dense landmark model (translated from its
// TF.js graph into the cache, as the pipeline does).
func (f faceFlags) openMesh() (*face.MeshEstimator, error) {
	cache := models.NewCache(*f.dir)
	rt, err := infer.NewRuntime(cache.Path(models.ORTLibrary), infer.Options{})
	if err != nil {
		return nil, err
	}
	s, err := tfjs.Load(rt, tfjs.FaceMesh, cache.Dir, cache.Path(face.TranslatedDir))
	if err != nil {
		return nil, err
	}
	return face.NewMeshEstimator(s, face.DefaultMeshConfig(tfjs.FaceMesh))
}

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ff := addFaceFlags(fs)
	threshold := fs.Float64("threshold", face.DefaultThreshold, "similarity (0-100) at or above which the faces match")
	srcFace := fs.String("source-face", "largest", "which face of SOURCE: largest, central or an index (0 = largest; as compare-faces' faceSelection)")
	tgtFace := fs.String("target-face", "largest", "which face of TARGET: largest, central or an index")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: livenessd compare [flags] SOURCE TARGET\n\nCompares one face of each image (the largest by default) and prints the compare-faces response JSON.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("%w: want two image files, got %d arguments", errUsage, fs.NArg())
	}
	if *threshold < 0 || *threshold > 100 {
		return fmt.Errorf("%w: threshold %v outside 0..100", errUsage, *threshold)
	}
	opt := livenessd.CompareOptions{Threshold: *threshold}
	for _, f := range []struct {
		flag string
		v    string
		sel  *livenessd.FaceSelection
	}{{"--source-face", *srcFace, &opt.Source}, {"--target-face", *tgtFace, &opt.Target}} {
		sel, err := parseFaceFlag(f.v)
		if err != nil {
			return fmt.Errorf("%w: %s %q: want largest, central or a face index", errUsage, f.flag, f.v)
		}
		*f.sel = sel
	}
	p, err := ff.open()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	// Decoded as the compare-faces endpoint decodes.
	src, err := imageio.ReadFileReduced(fs.Arg(0), imageio.DefaultLimits(), p.ImageSide())
	if err != nil {
		return err
	}
	tgt, err := imageio.ReadFileReduced(fs.Arg(1), imageio.DefaultLimits(), p.ImageSide())
	if err != nil {
		return err
	}
	c, err := p.CompareWith(ctx, src, tgt, opt)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// parseFaceFlag reads largest, central or a face index.
func parseFaceFlag(v string) (livenessd.FaceSelection, error) {
	switch r := livenessd.SelectionRule(v); r {
	case livenessd.SelectLargest, livenessd.SelectCentral:
		return livenessd.FaceSelection{Rule: r}, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return livenessd.FaceSelection{}, fmt.Errorf("face selection %q", v)
	}
	return livenessd.FaceSelection{Rule: livenessd.SelectIndex, Index: i}, nil
}
