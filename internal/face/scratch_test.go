package face

import (
	"image"
	_ "image/jpeg"
	"os"
	"testing"
	"math"

	"github.com/livenessd/livenessd/internal/infer"
	"github.com/livenessd/livenessd/internal/testutil"
	"golang.org/x/image/draw"
)

func TestScratch(t *testing.T) {
	rt := testutil.Runtime(t)
	c := testutil.Cache(t)
	s, err := rt.LoadFile(infer.FRDetect, c.Path(infer.FRDetect.File))
	if err != nil { t.Fatal(err) }
	f, _ := os.Open(testutil.Sample(t, 1))
	img, _, err := image.Decode(f)
	if err != nil { t.Fatal(err) }
	dst := image.NewRGBA(image.Rect(0,0,320,240))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	in := infer.NewTensor(1,3,240,320)
	for y:=0;y<240;y++{ for x:=0;x<320;x++{ p:=dst.RGBAAt(x,y); in.Data[0*76800+y*320+x]=(float32(p.R)-127)/128; in.Data[76800+y*320+x]=(float32(p.G)-127)/128; in.Data[2*76800+y*320+x]=(float32(p.B)-127)/128 }}
	out, err := s.Run(t.Context(), in)
	if err != nil { t.Fatal(err) }
	t.Log(img.Bounds())
	sc, bx := out[0].Data, out[1].Data
	mn, mx := math.Inf(1), math.Inf(-1)
	for i:=0;i<4420;i++{
		if i < 3 { t.Log(sc[2*i], sc[2*i+1], bx[4*i:4*i+4]) }
		if sc[2*i+1] > 0.7 { t.Log(i, sc[2*i+1], bx[4*i:4*i+4]) }
		for _, v := range bx[4*i:4*i+4] { mn = math.Min(mn, float64(v)); mx = math.Max(mx, float64(v)) }
	}
	t.Log(mn, mx)
}
