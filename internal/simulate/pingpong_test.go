package simulate

import "testing"

func TestPingPong(t *testing.T) {
	for _, test := range []struct {
		n    int
		want []int
	}{
		{2, []int{0, 1, 0, 1, 0}},
		{3, []int{0, 1, 2, 1, 0, 1, 2, 1}},
		{4, []int{0, 1, 2, 3, 2, 1, 0, 1}},
	} {
		for i, w := range test.want {
			if got := pingPong(i, test.n); got != w {
				t.Errorf("pingPong(%d, %d) = %d, want %d", i, test.n, got, w)
			}
		}
	}
}
