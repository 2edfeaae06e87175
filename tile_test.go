package xent

import (
	"slices"
	"testing"
)

// TestGatherScatter holds gather and scatter to their definitions: dst
// row t, class c is src[base + c·inner + t], for every class count around
// the four-class passes and tile lengths, with the values outside the
// positions untouched.
func TestGatherScatter(t *testing.T) {
	for classes := 1; classes <= 13; classes++ {
		for _, n := range []int{1, 2, 5, 16, 97} {
			inner, base := n+3, 2
			src := make([]float64, base+classes*inner+5)
			for i := range src {
				src[i] = float64(i) + 0.5
			}
			tile := make([]float64, n*classes+4)
			for i := range tile {
				tile[i] = -1
			}
			gather(tile, src, base, inner, classes, n)
			for r := range n {
				for c := range classes {
					if got, want := tile[r*classes+c], src[base+c*inner+r]; got != want {
						t.Fatalf("C=%d n=%d: gather row %d class %d = %v, want %v", classes, n, r, c, got, want)
					}
				}
			}
			if !slices.Equal(tile[n*classes:], []float64{-1, -1, -1, -1}) {
				t.Fatalf("C=%d n=%d: gather wrote past the tile", classes, n)
			}
			back := make([]float64, len(src))
			for i := range back {
				back[i] = -2
			}
			scatter(back, tile, base, inner, classes, n)
			for i, v := range back {
				k := i - base
				inside := k >= 0 && k%inner < n && k/inner < classes
				if inside && v != src[i] || !inside && v != -2 {
					t.Fatalf("C=%d n=%d: scatter left %v at %d (source %v)", classes, n, v, i, src[i])
				}
			}
		}
	}
}
