package linear

import (
	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/gemm"
	"github.com/xent-go/xent/internal/kernel"
)

// Materialized is the same computation done the direct way, for
// comparison and benchmarks: all n×c logits Z = H·Wᵀ + b, their gradient
// by xent.SoftmaxCrossEntropy, then dH = dZ·W, dW = dZᵀ·H, db = Σ dZ. It
// holds 2·n·c values more than SoftmaxCrossEntropy's chunks, takes no
// z-loss or soft cap, and panics on bad input (check with
// SoftmaxCrossEntropy first).
func Materialized[T Float, I xent.Index](n, d, c int, h, w, bias []T, targets []I, opts xent.SoftmaxOptions[T], workers int) (loss T, dh, dw, db []T) {
	z := make([]T, n*c)
	dz := make([]T, n*c)
	gemm.Mul(z, c, gemm.Matrix[T]{Data: h, Stride: d}, gemm.Matrix[T]{Data: w, Stride: d, Trans: true}, n, c, d, false, workers)
	if bias != nil {
		for r := range n {
			kernel.ScaleAdd(z[r*c:(r+1)*c], 1, bias, 1, 0)
		}
	}
	opts.Workers = workers
	loss, err := xent.SoftmaxCrossEntropy([]int{n, c}, z, targets, opts, xent.Output[T]{Grad: dz})
	if err != nil {
		panic(err)
	}
	dh, dw, db = make([]T, n*d), make([]T, c*d), make([]T, c)
	gemm.Mul(dh, d, gemm.Matrix[T]{Data: dz, Stride: c}, gemm.Matrix[T]{Data: w, Stride: d}, n, d, c, false, workers)
	gemm.Mul(dw, d, gemm.Matrix[T]{Data: dz, Stride: c, Trans: true}, gemm.Matrix[T]{Data: h, Stride: d}, c, d, n, false, workers)
	for r := range n {
		kernel.ScaleAdd(db, 1, dz[r*c:(r+1)*c], 1, 0)
	}
	return loss, dh, dw, db
}
