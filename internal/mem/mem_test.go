package mem

import "testing"

func TestOverlap(t *testing.T) {
	buf := make([]float32, 10)
	other := make([]float32, 3)
	for _, c := range []struct {
		name string
		a, b []float32
		want bool
	}{
		{"same", buf, buf, true},
		{"inside", buf, buf[3:4], true},
		{"last and first element", buf[0:5], buf[4:8], true},
		{"side by side", buf[0:5], buf[5:8], false},
		{"side by side, other order", buf[5:8], buf[0:5], false},
		{"empty at an element of the other", buf[0:5], buf[2:2], false},
		{"nil", buf, nil, false},
		{"other arrays", buf, other, false},
	} {
		if got := Overlap(c.a, c.b); got != c.want {
			t.Errorf("%s: Overlap = %v, want %v", c.name, got, c.want)
		}
		if got := Overlap(c.b, c.a); got != c.want {
			t.Errorf("%s, swapped: Overlap = %v, want %v", c.name, got, c.want)
		}
	}
}
