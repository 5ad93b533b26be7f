package imageio

// libjpeg-turbo (the system's libjpeg, Debian package libjpeg62-turbo-dev to
// build) decodes JPEGs at 1/2, 1/4 or 1/8 scale in the DCT domain: each
// 8x8 block is inverse-transformed straight to 4x4, 2x2 or 1x1 pixels, so a
// large photo costs little more than its entropy decoding. No Go wrapper of
// it is served by the module proxy; this is the thin part we need.

/*
#cgo LDFLAGS: -ljpeg
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <jpeglib.h>

#ifndef JCS_ALPHA_EXTENSIONS
#error "libjpeg-turbo (JCS_EXT_RGBA) is required: install libjpeg62-turbo-dev"
#endif

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
} lv_error;

static void lv_error_exit(j_common_ptr c) { longjmp(((lv_error *)c->err)->jump, 1); }

// Messages are never printed: errors and warnings are returned.
static void lv_output_message(j_common_ptr c) { (void)c; }

// lv_decode decodes in[0:n] at scale 1/denom into out, RGBA rows of stride
// bytes, which must hold exactly w x h pixels. It returns 0 on success, 1
// when libjpeg warned (corrupt data it papered over), 2 when the output
// size differs from w x h, -1 on error.
static int lv_decode(const unsigned char *in, unsigned long n, int denom,
		unsigned char *out, int stride, int w, int h) {
	struct jpeg_decompress_struct d;
	lv_error e;
	d.err = jpeg_std_error(&e.pub);
	e.pub.error_exit = lv_error_exit;
	e.pub.output_message = lv_output_message;
	if (setjmp(e.jump)) {
		jpeg_destroy_decompress(&d);
		return -1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, in, n);
	jpeg_read_header(&d, TRUE);
	d.scale_num = 1;
	d.scale_denom = denom;
	d.out_color_space = JCS_EXT_RGBA;
	jpeg_calc_output_dimensions(&d);
	if ((int)d.output_width != w || (int)d.output_height != h) {
		jpeg_destroy_decompress(&d);
		return 2;
	}
	jpeg_start_decompress(&d);
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = out + (size_t)d.output_scanline * (size_t)stride;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	int warned = d.err->num_warnings > 0;
	jpeg_destroy_decompress(&d);
	return warned ? 1 : 0;
}
*/
import "C"

import (
	"errors"
	"image"
	"unsafe"
)

// errTurbo means libjpeg-turbo did not decode the data cleanly; the caller
// falls back to image/jpeg, whose verdict stands.
var errTurbo = errors.New("imageio: libjpeg-turbo could not decode cleanly")

// decodeJPEGScaled decodes a w x h JPEG (from its header) at scale 1/denom
// (1, 2, 4 or 8) into an opaque NRGBA of ceil(w/denom) x ceil(h/denom).
func decodeJPEGScaled(data []byte, w, h, denom int) (*image.NRGBA, error) {
	if len(data) == 0 {
		return nil, errTurbo
	}
	ow, oh := (w+denom-1)/denom, (h+denom-1)/denom
	img := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	rc := C.lv_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(denom),
		(*C.uchar)(unsafe.Pointer(&img.Pix[0])), C.int(img.Stride), C.int(ow), C.int(oh))
	if rc != 0 {
		return nil, errTurbo
	}
	return img, nil
}
