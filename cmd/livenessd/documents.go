package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/livenessd/livenessd/internal/document"
	"github.com/livenessd/livenessd/internal/face"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/ocr"
	"github.com/livenessd/livenessd/internal/tesseract"
)

// openScanner builds the document scanner on a face pipeline: the PP-OCRv4
// recogniser by default, or Tesseract (builds with -tags tesseract) for
// the comparison in docs/ACCURACY.md.
// The reader is closed with the returned closer.
func openScanner(rt *infer.Runtime, cache *models.Cache, p *face.Pipeline, engine string) (*document.Scanner, io.Closer, error) {
	var r interface {
		document.LineReader
		io.Closer
	}
	var err error
	switch engine {
	case "ppocr", "":
		r, err = ocr.New(rt, cache)
	case "tesseract":
		r, err = tesseract.New(tesseract.Options{})
	default:
		return nil, nil, fmt.Errorf("%w: unknown OCR %q (ppocr or tesseract)", errUsage, engine)
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := document.New(r, p, document.Options{})
	if err != nil {
		return nil, nil, errors.Join(err, r.Close())
	}
	return s, r, nil
}

// documentFlags are the scanner's flags for eval documents.
type documentFlags struct {
	face faceFlags
	ocr  *string
}

func addDocumentFlags(fs *flag.FlagSet) documentFlags {
	return documentFlags{face: addFaceFlags(fs), ocr: fs.String("ocr", "ppocr", "MRZ reader: ppocr (PP-OCRv4 on ONNX Runtime) or tesseract (needs a build with -tags tesseract)")}
}

func (f documentFlags) open() (*document.Scanner, string, error) {
	p, err := f.face.open()
	if err != nil {
		return nil, "", err
	}
	cache := models.NewCache(*f.face.dir)
	rt, err := infer.NewRuntime(cache.Path(models.ORTLibrary), infer.Options{})
	if err != nil {
		return nil, "", errors.Join(err, p.Close())
	}
	s, _, err := openScanner(rt, cache, p, *f.ocr)
	if err != nil {
		return nil, "", errors.Join(err, p.Close())
	}
	return s, *f.ocr, nil
}
