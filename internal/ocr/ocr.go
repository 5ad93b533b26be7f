// Package ocr reads lines of MRZ text with PaddleOCR's PP-OCRv4 text
// recogniser (a CTC model, from the pinned npm package in
// internal/models) on the shared ONNX Runtime. Decoding is restricted to
// the MRZ alphabet: the reader returns, per time step, the probabilities of
// the CTC blank and of A-Z, 0-9 and '<' only (ctc.Frames), so no decoding
// can answer with a character an MRZ cannot hold, and the MRZ parser can
// decide positions where ICAO 9303 allows only letters or only digits
// from what the model saw there.
//
// Everything but the model call (preprocessing, dictionary, CTC decoding)
// is pure Go.
package ocr

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"strings"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/ctc"
	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/mrz"
)

// Alphabet is every character an MRZ may hold.
const Alphabet = mrz.Alphabet

// Height is the line height the recogniser was trained on.
const Height = 48

// Spec describes PP-OCRv4's recogniser: a 3x48xW image, (v/255-0.5)/0.5,
// output [1, W/8, classes] softmax over blank, the dictionary, space.
var Spec = infer.Spec{
	Name: "ppocr_rec",
	File: models.OCRRecognizer,
	Input: infer.ImageInput{
		Name: "x", Width: 320, Height: Height, Layout: infer.NCHW, Order: infer.BGR,
		Mean: [3]float32{127.5, 127.5, 127.5}, Std: [3]float32{127.5, 127.5, 127.5}, DynamicSize: true,
	},
	Outputs: []infer.Output{{Name: "softmax_11.tmp_0", Shape: []int64{-1, -1, 6625}}},
}

// Inferencer runs the model (*infer.Session).
type Inferencer interface {
	Run(ctx context.Context, in infer.Tensor) ([]infer.Tensor, error)
}

// Recognizer reads single lines. It is safe for concurrent use.
type Recognizer struct {
	model Inferencer
	dict  dictionary
}

// dictionary maps class index to character.
type dictionary struct {
	chars []byte             // 0 = not an MRZ character
	class [len(Alphabet)]int // the class of each MRZ character
}

// readDictionary reads PaddleOCR's key file: one character per line, class
// i+1 (class 0 is the CTC blank; the last class is a space).
func readDictionary(r io.Reader) (dictionary, error) {
	d := dictionary{chars: []byte{0}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k := sc.Text()
		var c byte
		if len(k) == 1 && strings.IndexByte(Alphabet, k[0]) >= 0 {
			c = k[0]
		}
		d.chars = append(d.chars, c)
	}
	if err := sc.Err(); err != nil {
		return d, err
	}
	d.chars = append(d.chars, 0) // space
	for k, c := range []byte(Alphabet) {
		d.class[k] = -1
		for i, x := range d.chars {
			if x == c {
				d.class[k] = i
				break
			}
		}
		if d.class[k] < 0 {
			return d, fmt.Errorf("dictionary lacks %q", c)
		}
	}
	return d, nil
}

// New loads the recogniser and its dictionary from the model cache.
// Errors wrap livenessd.ErrModels.
func New(rt *infer.Runtime, cache *models.Cache) (*Recognizer, error) {
	f, err := os.Open(cache.Path(models.OCRDictionary))
	if err != nil {
		return nil, fmt.Errorf("ocr: %w: %w", livenessd.ErrModels, err)
	}
	defer f.Close()
	d, err := readDictionary(f)
	if err != nil {
		return nil, fmt.Errorf("ocr: dictionary: %w: %w", livenessd.ErrModels, err)
	}
	s, err := rt.LoadFile(Spec, cache.Path(Spec.File))
	if err != nil {
		return nil, fmt.Errorf("ocr: %w: %w", livenessd.ErrModels, err)
	}
	return &Recognizer{model: s, dict: d}, nil
}

// NewWith builds a recogniser on a loaded model and a dictionary (tests).
func NewWith(model Inferencer, dict io.Reader) (*Recognizer, error) {
	d, err := readDictionary(dict)
	if err != nil {
		return nil, err
	}
	return &Recognizer{model: model, dict: d}, nil
}

// Close releases the model when it can be closed.
func (r *Recognizer) Close() error {
	if c, ok := r.model.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ReadLine reads one upright line of dark text on a light background.
func (r *Recognizer) ReadLine(ctx context.Context, line *image.Gray) (ctc.Frames, error) {
	in := tensor(line)
	out, err := r.model.Run(ctx, in)
	if err != nil {
		return ctc.Frames{}, fmt.Errorf("ocr: %w", err)
	}
	if len(out) == 0 || len(out[0].Shape) != 3 {
		return ctc.Frames{}, fmt.Errorf("ocr: unexpected output")
	}
	return r.dict.frames(out[0])
}

// tensor scales the line to Height (width in proportion, a multiple of 8)
// and normalises it to [-1, 1] on three equal channels.
func tensor(g *image.Gray) infer.Tensor {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	W := max(8, (w*Height/max(1, h)+7)/8*8)
	t := infer.NewTensor(1, 3, Height, int64(W))
	plane := Height * W
	for y := range Height {
		sy := min(h-1, y*h/Height)
		for x := range W {
			sx := x * h / Height
			v := float32(255)
			if sx < w {
				v = float32(g.Pix[g.PixOffset(g.Rect.Min.X+sx, g.Rect.Min.Y+sy)])
			}
			v = v/127.5 - 1
			i := y*W + x
			t.Data[i], t.Data[plane+i], t.Data[2*plane+i] = v, v, v
		}
	}
	return t
}

// frames keeps, per time step, the blank's and the MRZ characters'
// probabilities.
func (d dictionary) frames(o infer.Tensor) (ctc.Frames, error) {
	T, C := int(o.Shape[1]), int(o.Shape[2])
	if C != len(d.chars) {
		return ctc.Frames{}, fmt.Errorf("ocr: model has %d classes, dictionary %d", C, len(d.chars))
	}
	var f ctc.Frames
	var chars [len(Alphabet)]float32
	for t := range T {
		row := o.Data[t*C : (t+1)*C]
		for k, c := range d.class {
			chars[k] = row[c]
		}
		f.Append(row[0], &chars)
	}
	return f, nil
}
