package document_test

import (
	"image"
	"slices"
	"testing"
	"time"

	"github.com/livenessd/livenessd/internal/testutil/doctest"
)

// BenchmarkScanner times a whole scan (outline, MRZ, portrait, quality) of
// one image, and the portrait extraction verify-with-document runs, on a
// scanned passport page and on the photographed card; "median-ms" is what
// scripts/bench.sh reports.
func BenchmarkScanner(b *testing.B) {
	s := doctest.Scanner(b)
	for _, c := range []struct{ name, image string }{
		{"scan=passport-td3", "passporteye-specimens/tests_passport-td3.jpg"},
		{"scan=card-photo", "midv500-sample/CA43_01.jpg"},
		{"portrait=passport-td3", "passporteye-specimens/tests_passport-td3.jpg"},
	} {
		b.Run(c.name, func(b *testing.B) {
			img := specimen(b, c.image)
			run := func() error {
				if c.name[:4] == "scan" {
					_, err := s.Scan(b.Context(), []image.Image{img})
					return err
				}
				_, err := s.Portrait(b.Context(), img)
				return err
			}
			if err := run(); err != nil {
				b.Fatal(err)
			}
			var ms []float64
			for b.Loop() {
				t0 := time.Now()
				if err := run(); err != nil {
					b.Fatal(err)
				}
				ms = append(ms, float64(time.Since(t0))/1e6)
			}
			slices.Sort(ms)
			b.ReportMetric(ms[len(ms)/2], "median-ms")
		})
	}
}
