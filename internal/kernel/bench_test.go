package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchRows is the benchmarks' input: 256 rows of 32000 float32 logits,
// 32 MiB, more than the caches of a core hold.
func benchRows() (x, grad []float32, c int) {
	c = 32000
	rng := rand.New(rand.NewPCG(1, 2))
	x = make([]float32, 256*c)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	return x, make([]float32, len(x)), c
}

// BenchmarkSoftmaxPasses times each pass of SoftmaxRows on one row of
// 32000 float32 logits, which stays in the L2 cache: the arithmetic alone.
func BenchmarkSoftmaxPasses(b *testing.B) {
	x, grad, c := benchRows()
	row, g := x[:c], grad[:c]
	m := Max(row)
	for _, pass := range []struct {
		name string
		f    func()
	}{
		{"max", func() { Max(row) }},
		{"exp", func() { ExpShiftSum(g, row, m) }},
		{"scale", func() { ScaleAdd(g, 0.5, nil, 0, 0) }},
	} {
		b.Run(pass.name, func(b *testing.B) {
			b.SetBytes(int64(4 * c))
			b.ReportAllocs()
			for b.Loop() {
				pass.f()
			}
		})
	}
}

// BenchmarkSoftmaxRows times SoftmaxRows and SoftmaxRowsStream over 256
// rows of 32000 float32 logits, in calls of 2, 16 and 64 rows, on one
// goroutine: the streaming kernel overlaps memory and arithmetic within a
// call, so it gains with the rows per call.
func BenchmarkSoftmaxRows(b *testing.B) {
	x, grad, c := benchRows()
	for _, rows := range []int{2, 16, 64} {
		ys := make([]int64, rows)
		scales, ms, ss := make([]float64, rows), make([]float64, rows), make([]float64, rows)
		for _, stream := range []bool{false, true} {
			b.Run(fmt.Sprintf("rows=%d/stream=%v", rows, stream), func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				b.ReportAllocs()
				for b.Loop() {
					for r := 0; r < 256; r += rows {
						xr, gr := x[r*c:(r+rows)*c], grad[r*c:(r+rows)*c]
						if stream {
							SoftmaxRowsStream(xr, gr, c, ys, scales, ms, ss)
						} else {
							SoftmaxRows(xr, gr, c, ys, scales, ms, ss, 0)
						}
					}
				}
			})
		}
	}
}

// BenchmarkExpShiftSumFar times ExpShiftSum on 4096 values at z = −3, −95
// and −200: the latter two would be subnormal results, which the kernels
// flush to 0 without computing them (a subnormal costs a microcode assist
// per element, 26× the time).
func BenchmarkExpShiftSumFar(b *testing.B) {
	const c = 4096
	for _, z := range []float32{-3, -95, -200} {
		x, e := make([]float32, c), make([]float32, c)
		for i := range x {
			x[i] = z
		}
		b.Run(fmt.Sprint(z), func(b *testing.B) {
			b.SetBytes(4 * c)
			for b.Loop() {
				ExpShiftSum(e, x, 0)
			}
		})
	}
}

// BenchmarkElements times the element kernels on 65,536 float32 elements
// (x, targets and gradient: 768 KiB, in L2), with the targets the
// commands' benchmarks draw (dense: half 0/1, a third soft) and sparse
// multi-hot ones (one in 40 is 1).
func BenchmarkElements(b *testing.B) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(8*rng.Float64() - 4)
	}
	targets := map[string][]float32{"dense": make([]float32, n), "sparse": make([]float32, n), "hard": make([]float32, n)}
	for i := range n {
		targets["hard"][i] = float32(rng.IntN(2))
		targets["dense"][i] = float32(rng.IntN(2))
		if rng.IntN(3) == 0 {
			targets["dense"][i] = float32(rng.Float64())
		}
		if rng.IntN(40) == 0 {
			targets["sparse"][i] = 1
		}
	}
	grad := make([]float32, n)
	kernels := []struct {
		name string
		run  func(*Elements[float32]) float64
	}{
		{"sigmoid", Sigmoid[float32]},
		{"sigmoid-focal", func(e *Elements[float32]) float64 { return SigmoidFocal(e, 0.25, 2) }},
		{"asymmetric", func(e *Elements[float32]) float64 {
			return Asymmetric(e, AsymmetricParams{GammaNeg: 4, Clip: 0.05})
		}},
		{"asymmetric-m0", func(e *Elements[float32]) float64 { return Asymmetric(e, AsymmetricParams{GammaNeg: 4}) }},
		{"asymmetric-g1", func(e *Elements[float32]) float64 { return Asymmetric(e, AsymmetricParams{GammaNeg: 1, Clip: 0.05}) }},
	}
	for _, k := range kernels {
		for _, kind := range []string{"dense", "sparse", "hard"} {
			b.Run(k.name+"/"+kind, func(b *testing.B) {
				e := Elements[float32]{X: x, T: targets[kind], Grad: grad, WS: 1, QS: 1, GS: 1}
				b.SetBytes(3 * 4 * n)
				for b.Loop() {
					k.run(&e)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
			})
		}
	}
}
