package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
	"time"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/session"
	"github.com/livenessd/livenessd/internal/store/sealed"
)

// OpenDump returns a fresh, empty store and a function that returns every
// byte the store holds at that moment (database files, every value).
type OpenDump func(t *testing.T) (Store, func() []byte)

// SealedAtRest checks encryption at rest on a store: with the store wrapped
// in sealed.Store, the bytes at rest contain no JPEG or PNG data (neither
// raw nor base64, neither file signatures nor pieces of the images), while
// the images read back intact; a rotated key list still opens old data; a
// sealed image moved to another session does not open. A control run on an
// unwrapped store shows the check finds images when they are there.
func SealedAtRest(t *testing.T, open OpenDump) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	imgs := [][]byte{testJPEG(t, 1), testPNG(t), testJPEG(t, 2)}
	result := func() *livenessd.Result {
		res := Result(now)
		res.ReferenceImage = imgs[0]
		res.AuditImages = []livenessd.AuditImage{{JPEG: imgs[1]}, {JPEG: imgs[2]}}
		return res
	}
	finish := func(t *testing.T, s session.Store, id string) {
		t.Helper()
		sess := Session(id, now)
		if err := s.Create(ctx, sess); err != nil {
			t.Fatal(err)
		}
		sess.Status, sess.Result = livenessd.StatusSucceeded, result()
		if err := s.Update(ctx, sess, livenessd.StatusCreated, sess.Version); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("ControlFindsPlainImages", func(t *testing.T) {
		s, dump := open(t)
		finish(t, s, id1)
		if found := FindImageBytes(dump(), imgs...); found == "" {
			t.Fatal("the check found no image in an unencrypted store: it cannot fail")
		}
	})

	t.Run("NoImageBytesAtRest", func(t *testing.T) {
		inner, dump := open(t)
		keyA := mustKeys(t, 1)
		s, err := sealed.New(inner, keyA.keys)
		if err != nil {
			t.Fatal(err)
		}
		finish(t, s, id1)
		if found := FindImageBytes(dump(), imgs...); found != "" {
			t.Fatalf("the store holds image data in the clear: %s", found)
		}
		got, err := s.Get(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Result.ReferenceImage, imgs[0]) || len(got.Result.AuditImages) != 2 ||
			!bytes.Equal(got.Result.AuditImages[0].JPEG, imgs[1]) || !bytes.Equal(got.Result.AuditImages[1].JPEG, imgs[2]) {
			t.Fatal("images do not read back intact")
		}
		raw, err := inner.Get(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if !sealed.IsSealed(raw.Result.ReferenceImage) {
			t.Fatal("the store below holds an unsealed reference image")
		}

		// Rotation: a new key in front seals new data; the old key still
		// opens old data; without the old key old data is refused.
		keyB := mustKeys(t, 1)
		rotated, err := sealed.New(inner, joinKeys(t, keyB, keyA))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := rotated.Get(ctx, id1); err != nil || !bytes.Equal(got.Result.ReferenceImage, imgs[0]) {
			t.Fatalf("old data after rotation: %v", err)
		}
		finish(t, rotated, id2)
		onlyB, err := sealed.New(inner, keyB.keys)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := onlyB.Get(ctx, id2); err != nil || !bytes.Equal(got.Result.ReferenceImage, imgs[0]) {
			t.Fatalf("new data with the new key alone: %v", err)
		}
		if _, err := onlyB.Get(ctx, id1); !errors.Is(err, sealed.ErrUnknownKey) {
			t.Fatalf("old data without the old key: err = %v, want ErrUnknownKey", err)
		}
		if found := FindImageBytes(dump(), imgs...); found != "" {
			t.Fatalf("after rotation the store holds image data in the clear: %s", found)
		}

		// Moving session 1's sealed reference into session 2 (someone with
		// write access to the store) does not pass it off as session 2's.
		victim, err := inner.Get(ctx, id2)
		if err != nil {
			t.Fatal(err)
		}
		victim.Result.ReferenceImage = raw.Result.ReferenceImage
		if err := inner.Update(ctx, victim, victim.Status, victim.Version); err != nil {
			t.Fatal(err)
		}
		if _, err := rotated.Get(ctx, id2); !errors.Is(err, sealed.ErrCorrupt) {
			t.Fatalf("moved image: err = %v, want ErrCorrupt", err)
		}
	})
}

type dataKeys struct {
	text string
	keys *sealed.Keys
}

func mustKeys(t *testing.T, n int) dataKeys {
	t.Helper()
	var text string
	for i := range n {
		k, err := sealed.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			text += ","
		}
		text += k
	}
	ks, err := sealed.ParseKeys(text)
	if err != nil {
		t.Fatal(err)
	}
	return dataKeys{text, ks}
}

func joinKeys(t *testing.T, newest, older dataKeys) *sealed.Keys {
	t.Helper()
	ks, err := sealed.ParseKeys(newest.text + "," + older.text)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// FindImageBytes names the first sign of image data in b, or "" when
// none: JPEG and PNG signatures and 30-byte pieces of imgs, raw and in
// base64 (the pieces start at multiples of 3, so their base64 is what a
// base64 encoding of the whole image contains).
func FindImageBytes(b []byte, imgs ...[]byte) string {
	needles := map[string][]byte{
		"JPEG start":    {0xFF, 0xD8, 0xFF, 0xDB},
		"PNG signature": []byte("\x89PNG\r\n\x1a\n"),
		// Base64 needles are 8 characters or more: the store holds
		// ciphertext in base64, where a 4-character needle turns up by
		// chance about once in a hundred dumps.
		"base64 JFIF start":   []byte("/9j/4AAQ"),
		"base64 JPEG start":   []byte("/9j/2wCE"),
		"base64 PNG start":    []byte("iVBORw0KGgo"),
		"PNG header chunk":    []byte("\x00\x00\x00\rIHDR"),
		"base64 PNG header":   []byte(base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))[:16]),
		"JPEG quantisation":   {0xFF, 0xDB, 0x00, 0x84},
		"JPEG start of frame": {0xFF, 0xC0, 0x00, 0x11},
	}
	for i, img := range imgs {
		if len(img) < 90 {
			continue
		}
		for _, off := range []int{30, len(img) / 3 / 3 * 3, len(img) / 2 / 3 * 3} {
			piece := img[off : off+30]
			needles["piece of image "+string(rune('0'+i))] = piece
			needles["base64 piece of image "+string(rune('0'+i))] = []byte(base64.StdEncoding.EncodeToString(piece))
		}
	}
	for name, n := range needles {
		if bytes.Contains(b, n) {
			return name
		}
	}
	return ""
}

func testJPEG(t *testing.T, seed int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(seed), &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage(3)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testImage is a face-sized picture with texture, so the encoders write
// ordinary files of a few kilobytes.
func testImage(seed int) image.Image {
	m := image.NewNRGBA(image.Rect(0, 0, 96, 112))
	for y := range 112 {
		for x := range 96 {
			v := uint8((x*7 + y*13 + seed*31 + (x*y)%17) % 256)
			m.Set(x, y, color.NRGBA{v, uint8(255 - int(v)), uint8(x * 2), 255})
		}
	}
	return m
}
