package liveness

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"

	"github.com/livenessd/livenessd"
)

// Audit frames, in the order they are returned: the first frame with a face,
// the frame where the face reached the oval, one ~1 s into the colours, and
// the last observed frame.
const auditMidObservations = 5

func (r *Run) keepImages(idx int, img image.Image) {
	rec := &r.recs[idx]
	s := frameScore(rec, r.inOval)
	if r.tooClose(rec) {
		s = 0 // the identity check did not see it: only while there is no other
	}
	if s > r.best.score || r.best.jpeg == nil {
		if b, err := encodeJPEG(crop(img, expand(rec.face.Box, 1.6)), r.cfg.JPEGQuality); err == nil {
			r.best = candidate{score: s, jpeg: b, box: rec.face.Box.Normalize(r.width, r.height)}
		}
	}
	limit := min(r.settings.AuditImagesLimit, 4)
	if limit <= 0 {
		return
	}
	eager := func(key string) {
		if r.auditAt[key] || len(r.audit) >= limit {
			return
		}
		r.auditAt[key] = true
		if b, err := encodeJPEG(img, r.cfg.JPEGQuality); err == nil {
			r.audit = append(r.audit, livenessd.AuditImage{JPEG: b, Box: rec.face.Box.Normalize(r.width, r.height)})
		}
	}
	eager("first")
	if idx == r.flashRec {
		eager("flash")
	}
	if r.flashed && idx != r.flashRec {
		n := 0
		for _, x := range r.recs[r.flashRec+1:] {
			if x.observed {
				n++
			}
		}
		if n == auditMidObservations {
			r.auditMid = candidateImage{img: img, box: rec.face.Box, ok: true}
		} else {
			r.auditEnd = candidateImage{img: img, box: rec.face.Box, ok: true}
		}
	}
}

// finishAudit encodes the remaining audit frames chosen during the capture.
func (r *Run) finishAudit() []livenessd.AuditImage {
	limit := min(r.settings.AuditImagesLimit, 4)
	out := r.audit
	for _, c := range []candidateImage{r.auditMid, r.auditEnd} {
		if len(out) >= limit || !c.ok {
			continue
		}
		if b, err := encodeJPEG(c.img, r.cfg.JPEGQuality); err == nil {
			out = append(out, livenessd.AuditImage{JPEG: b, Box: c.box.Normalize(r.width, r.height)})
		}
	}
	return out
}

func expand(b livenessd.Rect, f float64) image.Rectangle {
	c := b.Center()
	w, h := b.W*f, b.H*f
	return image.Rect(int(c.X-w/2), int(c.Y-h/2), int(c.X+w/2), int(c.Y+h/2))
}

// crop returns the part of img inside rect (clipped), sharing pixels when
// the image type allows it.
func crop(img image.Image, rect image.Rectangle) image.Image {
	rect = rect.Intersect(img.Bounds())
	if si, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return si.SubImage(rect)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, rect.Dx(), rect.Dy()))
	draw.Draw(dst, dst.Bounds(), img, rect.Min, draw.Src)
	return dst
}

func encodeJPEG(img image.Image, q int) ([]byte, error) {
	if img.Bounds().Empty() {
		return nil, fmt.Errorf("liveness: encode: empty image")
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("liveness: encode: %w", err)
	}
	return buf.Bytes(), nil
}
