//go:build amd64 && !noasm

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestSoftmaxRowsSmallBits holds the small-row kernel (16 rows a turn, a
// lane a row) to the row kernel it stands in for, to the bit: every
// counted row's gradient, m and s, for every c it takes, every row count
// of a batch (group tails), ignored rows, extreme values and Poly-1; and
// an ignored row's gradient zeroed.
func TestSoftmaxRowsSmallBits(t *testing.T) {
	if !Supported(AVX512) {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for c := 1; c <= smallRowClasses; c++ {
		for rows := 1; rows <= SoftmaxRowsBatch; rows++ {
			for _, special := range []bool{false, true} {
				poly := []float64{0, 0, -1, 0.5, 3}[rng.IntN(5)]
				x := values(rng, rows*c, special)
				ys := make([]int64, rows)
				sc := make([]float32, rows)
				for r := range ys {
					ys[r] = int64(rng.IntN(c))
					if rng.IntN(5) == 0 {
						ys[r] = -1
					}
					sc[r] = float32(4*rng.Float64() - 2)
				}
				want, got := make([]float32, rows*c), make([]float32, rows*c)
				for i := range got {
					got[i] = 12345
				}
				wm, gm := make([]float32, rows), make([]float32, rows)
				ws, gs := make([]float64, rows), make([]float64, rows)
				softmaxRowsAVX512(unsafe.SliceData(x), unsafe.SliceData(want), c, ys, sc, wm, ws, poly)
				tab := &smallRowTables[c]
				softmaxRowsSmallAVX512(unsafe.SliceData(x), unsafe.SliceData(got), c, ys, sc, gm, gs, poly, &tab.in[0], &tab.out[0][0])
				for r, y := range ys {
					name := fmt.Sprintf("c=%d rows=%d row %d special=%v poly=%v", c, rows, r, special, poly)
					if y < 0 {
						for k := r * c; k < (r+1)*c; k++ {
							if got[k] != 0 {
								t.Fatalf("%s: ignored row's grad[%d] = %v, want 0", name, k-r*c, got[k])
							}
						}
						continue
					}
					// A NaN's sign and payload, and m beside a NaN s, are not
					// specified (Max may or may not return the NaN).
					if math.IsNaN(ws[r]) != math.IsNaN(gs[r]) || !math.IsNaN(ws[r]) && (gs[r] != ws[r] || math.Float32bits(gm[r]) != math.Float32bits(wm[r])) {
						t.Fatalf("%s: m, s = %v, %v; the row kernel's %v, %v", name, gm[r], gs[r], wm[r], ws[r])
					}
					for k := r * c; k < (r+1)*c; k++ {
						if math.Float32bits(got[k]) != math.Float32bits(want[k]) && !(isNaN32(got[k]) && isNaN32(want[k])) {
							t.Fatalf("%s: grad[%d] = %v, the row kernel's %v", name, k-r*c, got[k], want[k])
						}
					}
				}
			}
		}
	}
}

func isNaN32(v float32) bool { return v != v }

// TestSmallRowsFaster pins the small-row kernel's choice: rows of up to 8
// classes, and at most (9 − c)/12 of the batch ignored.
func TestSmallRowsFaster(t *testing.T) {
	batch := func(ignored int) []int64 {
		ys := make([]int64, 48)
		for i := range ignored {
			ys[i] = -1
		}
		return ys
	}
	for _, c := range []struct {
		c, ignored int
		want       bool
	}{
		{1, 0, true}, {8, 0, true}, {9, 0, false}, {16, 0, false},
		{3, 24, true}, {3, 25, false}, // 6/12 of 48
		{8, 4, true}, {8, 5, false}, // 1/12 of 48
		{7, 8, true}, {7, 9, false},
	} {
		if got := smallRowsFaster(c.c, batch(c.ignored)); got != c.want {
			t.Errorf("c = %d, %d of 48 rows ignored: %v, want %v", c.c, c.ignored, got, c.want)
		}
	}
}
