//go:build cgo && tesseract

// Package tesseract reads MRZ text lines with Tesseract OCR (Debian's
// libtesseract through gosseract), its character set restricted to the
// MRZ's A-Z, 0-9 and '<' and its dictionaries off: an MRZ holds no words.
// It is the only package that links libtesseract.
package tesseract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"runtime"
	"sync"

	"github.com/otiai10/gosseract/v2"

	"github.com/livenessd/livenessd/internal/ctc"
	"github.com/livenessd/livenessd/internal/mrz"
)

// Alphabet is every character an MRZ may hold.
const Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

// ErrUnavailable: Tesseract or its English model could not be loaded.
var ErrUnavailable = errors.New("tesseract: unavailable")

// DefaultLanguage is the traineddata used: Debian's tesseract-ocr-eng.
const DefaultLanguage = "eng"

// config turns off what helps prose and hurts an MRZ (init-only
// variables, so they go through a config file).
const config = `load_system_dawg F
load_freq_dawg F
load_punc_dawg F
load_number_dawg F
load_unambig_dawg F
load_bigram_dawg F
load_fixed_length_dawgs F
`

// Reader reads single text lines. Tesseract's API object is not safe for
// concurrent use, so Reader keeps one per worker and hands them out.
type Reader struct {
	clients chan *gosseract.Client
	cfgPath string
	once    sync.Once
	cerr    error
}

// Options configure New.
type Options struct {
	// TessdataDir holds <Language>.traineddata; empty means Tesseract's
	// default (Debian: /usr/share/tesseract-ocr/5/tessdata).
	TessdataDir string
	Language    string // default DefaultLanguage
	Workers     int    // concurrent readers; default GOMAXPROCS
}

// New loads Tesseract for each worker and checks it reads. Errors wrap
// ErrUnavailable.
func New(opts Options) (*Reader, error) {
	if opts.Language == "" {
		opts.Language = DefaultLanguage
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	f, err := os.CreateTemp("", "livenessd-tesseract-*.cfg")
	if err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrUnavailable, err)
	}
	_, werr := f.WriteString(config)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("%w: config: %v", ErrUnavailable, err)
	}
	r := &Reader{clients: make(chan *gosseract.Client, opts.Workers), cfgPath: f.Name()}
	probe := image.NewGray(image.Rect(0, 0, 16, 16))
	for range opts.Workers {
		c := gosseract.NewClient()
		r.clients <- c
		if err := r.setup(c, opts); err != nil {
			return nil, errors.Join(fmt.Errorf("%w: %v", ErrUnavailable, err), r.Close())
		}
		// Init happens on first use: load the model now, not in a request.
		if err := read(c, probe); err != nil {
			return nil, errors.Join(fmt.Errorf("%w: %v", ErrUnavailable, err), r.Close())
		}
	}
	return r, nil
}

func (r *Reader) setup(c *gosseract.Client, opts Options) error {
	if opts.TessdataDir != "" {
		if err := c.SetTessdataPrefix(opts.TessdataDir); err != nil {
			return err
		}
	}
	if err := c.SetLanguage(opts.Language); err != nil {
		return err
	}
	if err := c.SetConfigFile(r.cfgPath); err != nil {
		return err
	}
	if err := c.SetWhitelist(Alphabet); err != nil {
		return err
	}
	return c.SetPageSegMode(gosseract.PSM_SINGLE_LINE)
}

func read(c *gosseract.Client, img *image.Gray) error {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		return err
	}
	if err := c.SetImageFromBytes(buf.Bytes()); err != nil {
		return err
	}
	_, err := c.Text()
	return err
}

// ReadLine reads one line of MRZ text from an upright image of it.
// Tesseract gives no probabilities here: every character is certain.
func (r *Reader) ReadLine(ctx context.Context, line *image.Gray) (ctc.Frames, error) {
	var c *gosseract.Client
	select {
	case c = <-r.clients:
	case <-ctx.Done():
		return ctc.Frames{}, ctx.Err()
	}
	defer func() { r.clients <- c }()
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, line); err != nil {
		return ctc.Frames{}, fmt.Errorf("tesseract: encode line: %w", err)
	}
	if err := c.SetImageFromBytes(buf.Bytes()); err != nil {
		return ctc.Frames{}, fmt.Errorf("tesseract: %w", err)
	}
	t, err := c.Text()
	if err != nil {
		return ctc.Frames{}, fmt.Errorf("tesseract: %w", err)
	}
	// The whitelist keeps other characters out; anything else is an error.
	g, err := mrz.Glyphs(t)
	if err != nil {
		return ctc.Frames{}, fmt.Errorf("tesseract: %w", err)
	}
	return ctc.Certain(g), nil
}

// Close releases every Tesseract instance. It is idempotent; the reader
// must not be used afterwards.
func (r *Reader) Close() error {
	r.once.Do(func() {
		for {
			select {
			case c := <-r.clients:
				r.cerr = errors.Join(r.cerr, c.Close())
				continue
			default:
			}
			break
		}
		r.cerr = errors.Join(r.cerr, os.Remove(r.cfgPath))
	})
	return r.cerr
}
