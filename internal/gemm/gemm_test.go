package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xent-go/xent/internal/kernel"
)

// naive is op(A)·op(B) in float64.
func naive[T Float](a, b Matrix[T], m, n, k int) []float64 {
	c := make([]float64, m*n)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				s += float64(a.at(i, p)) * float64(b.at(p, j))
			}
			c[i*n+j] = s
		}
	}
	return c
}

func random[T Float](rng *rand.Rand, rows, cols, stride int) []T {
	v := make([]T, (rows-1)*stride+cols)
	for i := range v {
		v[i] = T(2*rng.Float64() - 1)
	}
	return v
}

func paths(t *testing.T) []kernel.Path {
	var out []kernel.Path
	for _, p := range []kernel.Path{kernel.Go, kernel.AVX2, kernel.AVX512} {
		if kernel.Supported(p) {
			out = append(out, p)
		}
	}
	return out
}

// TestMul compares Mul with the naive product for every transpose, many
// sizes (tails of every tile side, blocks of k, m and n), strides wider
// than the rows, add, 1 and 3 workers, on every kernel path.
func TestMul(t *testing.T) {
	testMul[float32](t, 1e-5)
	testMul[float64](t, 1e-13)
}

func testMul[T Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(61, 62))
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {8, 32, 1}, {9, 33, 17}, {7, 31, 300}, {97, 50, 260}, {13, 2100, 40}, {200, 70, 513}, {6, 16, 0}}
	for _, p := range paths(t) {
		restore, _ := kernel.Use(p)
		for _, s := range sizes {
			m, n, k := s[0], s[1], s[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, add := range []bool{false, true} {
						ar, ac := m, k
						if ta {
							ar, ac = k, m
						}
						br, bc := k, n
						if tb {
							br, bc = n, k
						}
						a := Matrix[T]{Data: random[T](rng, max(ar, 1), ac, ac+2), Stride: ac + 2, Trans: ta}
						b := Matrix[T]{Data: random[T](rng, max(br, 1), bc, bc+1), Stride: bc + 1, Trans: tb}
						ldc := n + 3
						c := random[T](rng, m, n, ldc)
						before := append([]T(nil), c...)
						workers := 1 + 2*int(rng.IntN(2))
						Mul(c, ldc, a, b, m, n, k, add, workers)
						want := naive(a, b, m, n, k)
						name := fmt.Sprintf("%v %T m=%d n=%d k=%d ta=%v tb=%v add=%v", p, c, m, n, k, ta, tb, add)
						for i := range m {
							for j := range n {
								w := want[i*n+j]
								if add {
									w += float64(before[i*ldc+j])
								}
								got := float64(c[i*ldc+j])
								if math.Abs(got-w) > tol*(1+math.Sqrt(float64(k))) {
									t.Fatalf("%s: C[%d][%d] = %v, want %v", name, i, j, got, w)
								}
							}
							for j := n; j < ldc && i*ldc+j < len(c); j++ { // the gap past each row
								if c[i*ldc+j] != before[i*ldc+j] {
									t.Fatalf("%s: wrote C[%d][%d] past the row", name, i, j)
								}
							}
						}
					}
				}
			}
		}
		restore()
	}
}

// TestMulSameForAnyWorkers: the product is bit-identical for 1, 2 and 5
// workers.
func TestMulSameForAnyWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	m, n, k := 300, 500, 600
	a := Matrix[float32]{Data: random[float32](rng, m, k, k), Stride: k}
	b := Matrix[float32]{Data: random[float32](rng, k, n, n), Stride: n}
	var ref []float32
	for _, w := range []int{1, 2, 5} {
		c := make([]float32, m*n)
		Mul(c, n, a, b, m, n, k, false, w)
		if ref == nil {
			ref = c
			continue
		}
		for i := range c {
			if c[i] != ref[i] {
				t.Fatalf("%d workers: C[%d] = %v, 1 worker %v", w, i, c[i], ref[i])
			}
		}
	}
}

func BenchmarkMul(b *testing.B) {
	for _, s := range [][3]int{{256, 512, 512}, {1024, 1024, 1024}, {256, 4096, 512}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		x := Matrix[float32]{Data: random[float32](rng, m, k, k), Stride: k}
		y := Matrix[float32]{Data: random[float32](rng, n, k, k), Stride: k, Trans: true}
		c := make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Mul(c, n, x, y, m, n, k, false, 1)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
