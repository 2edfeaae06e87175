// Package linear computes the softmax cross-entropy of a linear layer,
// softmax(H·Wᵀ + b), with its gradients with respect to H, W and b,
// without ever holding the N×C logits: rows are taken a chunk at a time,
// as Liger-Kernel's fused linear cross-entropy does on GPUs. With many
// classes — 4096 rows × 32,000 classes are 512 MiB of float32 logits and as
// much again for their gradient — the extra memory is one chunk.
package linear

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/check"
	"github.com/xent-go/xent/internal/gemm"
	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
)

// Float is float32 or float64.
type Float = xent.Float

// Options configures SoftmaxCrossEntropy. The zero value is PyTorch's
// default for the cross-entropy (mean, no weights, ignore index −100, no
// smoothing), with no z-loss and no soft-capping.
type Options[T Float] struct {
	Reduction xent.Reduction
	// Weight, IgnoreIndex and LabelSmoothing are those of
	// xent.SoftmaxOptions.
	Weight         []T
	IgnoreIndex    *int
	LabelSmoothing float64
	// SampleWeight is s, one finite weight ≥ 0 per row: a row's loss (and
	// its gradients) is multiplied by its s, and Mean counts it s times,
	// as xent's SampleWeight does. Nil means all 1.
	SampleWeight []T
	// ZLoss is z ≥ 0: each counted row adds z·lse², lse = log Σ_c e^{x_c}
	// of its (capped) logits, reduced like the cross-entropy's count: Mean
	// divides the z terms by the number of counted rows (not by Σ w_y).
	ZLoss float64
	// SoftCap is s ≥ 0: the logits become s·tanh(x/s) before the softmax
	// (Gemma 2's soft-capping); 0 turns it off.
	SoftCap float64
	// ChunkRows is the number of rows computed at once; 0 chooses it from
	// the shapes (chunk buffers of at most 64 MiB).
	ChunkRows int
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
}

// Output receives, where not nil, the per-row losses (the cross-entropy
// plus the z term, before reduction) and the gradients of the returned
// value.
type Output[T Float] struct {
	Losses []T // N
	H      []T // N×D
	W      []T // C×D
	Bias   []T // C
}

// chunkBytes bounds the two chunk buffers (logits and their gradient).
// Every chunk packs W for its two products with it, so larger chunks
// spread that cost: 64 MiB (256 rows of 32,000 float32 classes) made the
// chunked loss faster than the materialized one at 4096×512×32000 here
// (0.92×, at 9.5% of its peak memory), where 32 MiB left it at 1.27×.
const chunkBytes = 64 << 20

// ChunkRows returns the rows of a chunk for n rows and c classes of T
// when Options.ChunkRows is 0: as many as fit 64 MiB of chunk buffers.
func ChunkRows[T Float](n, c int) int {
	var zero T
	per := 2 * c * int(unsafe.Sizeof(zero))
	return max(1, min(n, chunkBytes/max(per, 1)))
}

// ScratchBytes returns the memory SoftmaxCrossEntropy takes beyond its
// arguments for n rows, c classes and chunk rows (0: ChunkRows): the
// chunk's logits and gradient, and a row of upstream weights.
func ScratchBytes[T Float](n, c, chunk int) int {
	if chunk == 0 {
		chunk = ChunkRows[T](n, c)
	}
	var zero T
	return (2*chunk*c + chunk) * int(unsafe.Sizeof(zero))
}

// SoftmaxCrossEntropy returns the softmax cross-entropy of the logits
// Z = H·Wᵀ + b (H n×d, W c×d, b of c values or nil) against class-index
// targets (n values), with xent.SoftmaxCrossEntropy's semantics and
// options, plus z-loss and soft-capping (see Options):
//
//	x = s·tanh(Z/s) (or Z),  l = CE(x, y) + z·lse(x)²
//	dZ = ∂l/∂x · (1 − (x/s)²),  dH = dZ·W,  dW = dZᵀ·H,  db = Σ_rows dZ
//
// Rows are computed ChunkRows at a time: the chunk's logits and their
// gradient are the only N×C-shaped memory, and the matrix products are
// the same as when the logits are materialized. Mean divides by Σ w_y of
// the counted rows, as xent does (the z terms by their count); a mean over
// nothing is 0. None returns the sum of the rows' losses (their gradient
// is that of the sum) and writes each row's loss to out.Losses.
//
// Errors, returned before anything is written, wrap xent's sentinels:
// ErrShape for a length that does not match n, d, c, or an output that
// shares memory with an input or another output; ErrTarget for a target
// outside [0, c) that is not the ignore index; ErrOption for a bad weight,
// ε outside [0, 1], z or s negative or not finite, an unknown reduction.
func SoftmaxCrossEntropy[T Float, I xent.Index](n, d, c int, h, w, bias []T, targets []I, opts Options[T], out Output[T]) (T, error) {
	counted, err := validate(n, d, c, h, w, bias, targets, opts, out)
	if err != nil {
		return 0, err
	}
	ignore := check.IgnoreIndex(opts.IgnoreIndex)
	weighted, rowsCounted := counted.Weight, counted.Samples // Σ s·w_y and Σ s over the counted rows
	if opts.Reduction == xent.Mean && weighted > 0 && math.IsInf(1/weighted, 1) {
		return 0, check.Option("the mean's divisor %g (the weights of the counted targets) is too small to divide by", weighted)
	}
	ceScale, zScale := 1.0, 1.0
	switch opts.Reduction {
	case xent.Mean:
		ceScale, zScale = safeInverse(weighted), safeInverse(rowsCounted)
	case xent.BatchMean:
		ceScale, zScale = 1/float64(n), 1/float64(n)
	}

	chunk := opts.ChunkRows
	if chunk <= 0 {
		chunk = ChunkRows[T](n, c)
	}
	chunk = min(chunk, max(n, 1))
	buf := parallel.Get[scratch[T]]()
	defer parallel.Put(buf)
	z := grow(&buf.z, chunk*c)
	var dz []T
	needGrad := out.H != nil || out.W != nil || out.Bias != nil
	if needGrad {
		dz = grow(&buf.dz, chunk*c)
	}
	g := grow(&buf.g, chunk)
	for i := range g {
		g[i] = T(ceScale)
	}
	if out.Bias != nil {
		clear(out.Bias)
	}
	total := 0.0
	for r0 := 0; r0 < n; r0 += chunk {
		rows := min(chunk, n-r0)
		zc := z[:rows*c]
		hc := h[r0*d : (r0+rows)*d]
		// Z = H·Wᵀ + b
		gemm.Mul(zc, c, gemm.Matrix[T]{Data: hc, Stride: d}, gemm.Matrix[T]{Data: w, Stride: d, Trans: true}, rows, c, d, false, opts.Workers)
		if bias != nil {
			for r := range rows {
				kernel.ScaleAdd(zc[r*c:(r+1)*c], 1, bias, 1, 0)
			}
		}
		if s := opts.SoftCap; s > 0 {
			for i, v := range zc {
				zc[i] = T(s * math.Tanh(float64(v)/s))
			}
		}
		chunkOut := xent.Output[T]{}
		if needGrad {
			chunkOut.Grad = dz[:rows*c]
		}
		var losses []T
		if out.Losses != nil {
			losses = out.Losses[r0 : r0+rows]
			chunkOut.Losses = losses
		}
		var sample []T
		if opts.SampleWeight != nil {
			sample = opts.SampleWeight[r0 : r0+rows]
		}
		v, err := xent.SoftmaxCrossEntropy([]int{rows, c}, zc, targets[r0:r0+rows], xent.SoftmaxOptions[T]{
			Reduction: xent.None, Weight: opts.Weight, IgnoreIndex: opts.IgnoreIndex,
			LabelSmoothing: opts.LabelSmoothing, SampleWeight: sample, GradOutput: g[:rows], Workers: opts.Workers,
		}, chunkOut)
		if err != nil {
			return 0, err // validated above: not reached
		}
		total += float64(v)
		if opts.ZLoss > 0 {
			total += zLoss(zc, chunkOut.Grad, losses, targets[r0:r0+rows], sample, ignore, rows, c, opts.ZLoss, zScale)
		}
		if !needGrad {
			continue
		}
		dzc := chunkOut.Grad
		if s := opts.SoftCap; s > 0 {
			for i, x := range zc {
				q := float64(x) / s
				dzc[i] = T(float64(dzc[i]) * (1 - q*q))
			}
		}
		if out.H != nil { // dH = dZ·W
			gemm.Mul(out.H[r0*d:(r0+rows)*d], d, gemm.Matrix[T]{Data: dzc, Stride: c}, gemm.Matrix[T]{Data: w, Stride: d}, rows, d, c, false, opts.Workers)
		}
		if out.W != nil { // dW += dZᵀ·H
			gemm.Mul(out.W, d, gemm.Matrix[T]{Data: dzc, Stride: c, Trans: true}, gemm.Matrix[T]{Data: hc, Stride: d}, c, d, rows, r0 > 0, opts.Workers)
		}
		if out.Bias != nil { // db += Σ_rows dZ
			for r := range rows {
				kernel.ScaleAdd(out.Bias, 1, dzc[r*c:(r+1)*c], 1, 0)
			}
		}
	}
	if n == 0 && out.W != nil {
		clear(out.W)
	}
	return T(total), nil
}

// scratch holds a call's chunk buffers, kept on a free list from call to
// call so that a training loop does not allocate them every step.
type scratch[T Float] struct{ z, dz, g []T }

// grow returns (*s)[:n], reallocating when it is too short.
func grow[T Float](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}

func safeInverse(x float64) float64 {
	if x == 0 {
		return 0
	}
	return 1 / x
}

// zLoss adds s·z·lse² of each counted row to its loss in losses (when not
// nil) and, times scale (the reduction's), returns their sum; when grad is
// not nil it adds their gradient 2·s·z·lse·p·scale to it. s is the row's
// sample weight (1 when sample is nil).
func zLoss[T Float, I xent.Index](x, grad, losses []T, targets []I, sample []T, ignore int64, rows, c int, zc, scale float64) float64 {
	sum := 0.0
	for r := range rows {
		if int64(targets[r]) == ignore {
			continue
		}
		zr := zc
		if sample != nil {
			zr *= float64(sample[r])
		}
		row := x[r*c : (r+1)*c]
		m := kernel.Max(row)
		s := kernel.ExpShiftSum(nil, row, m)
		lse := float64(m) + math.Log(s)
		sum += zr * lse * lse * scale
		if losses != nil {
			losses[r] = T(float64(losses[r]) + zr*lse*lse)
		}
		if grad != nil {
			// ∂(z·lse²)/∂x_k = 2z·lse·p_k, p_k = e^{x_k − m}/s
			g := grad[r*c : (r+1)*c]
			a := 2 * zr * lse * scale / s
			for k, v := range row {
				g[k] += T(a * math.Exp(float64(v)-float64(m)))
			}
		}
	}
	return sum
}

// validate checks everything before anything is written, with the checks
// package xent makes of the same options, and returns what the targets
// count.
func validate[T Float, I xent.Index](n, d, c int, h, w, bias []T, targets []I, opts Options[T], out Output[T]) (check.Counted, error) {
	if n < 0 || d < 1 || c < 1 {
		return check.Counted{}, check.Shape("n = %d, d = %d, c = %d: want n ≥ 0, d ≥ 1, c ≥ 1", n, d, c)
	}
	if n > math.MaxInt32/d || c > math.MaxInt32/d {
		return check.Counted{}, check.Shape("n·d or c·d is larger than %d", math.MaxInt32)
	}
	for _, s := range []struct {
		name      string
		got, want int
		set       bool
	}{
		{"H", len(h), n * d, true}, {"W", len(w), c * d, true}, {"bias", len(bias), c, bias != nil},
		{"targets", len(targets), n, true},
		{"gradient of H", len(out.H), n * d, out.H != nil}, {"gradient of W", len(out.W), c * d, out.W != nil},
		{"gradient of the bias", len(out.Bias), c, out.Bias != nil}, {"losses", len(out.Losses), n, out.Losses != nil},
	} {
		if s.set && s.got != s.want {
			return check.Counted{}, check.Shape("%s has %d values; n = %d, d = %d, c = %d need %d", s.name, s.got, n, d, c, s.want)
		}
	}
	// The outputs are written while the inputs are still read.
	outputs := []check.Named[T]{{Name: "gradient of H", V: out.H}, {Name: "gradient of W", V: out.W},
		{Name: "gradient of the bias", V: out.Bias}, {Name: "losses buffer", V: out.Losses}}
	inputs := []check.Named[T]{{Name: "matrix H", V: h}, {Name: "matrix W", V: w}, {Name: "bias", V: bias}, {Name: "weight", V: opts.Weight},
		{Name: "sample weights", V: opts.SampleWeight}}
	if err := check.Overlap(outputs, inputs); err != nil {
		return check.Counted{}, err
	}
	if err := check.Reduction(int(opts.Reduction)); err != nil {
		return check.Counted{}, err
	}
	if err := check.ClassWeights("weight", opts.Weight, c); err != nil {
		return check.Counted{}, err
	}
	if err := check.LabelSmoothing(opts.LabelSmoothing); err != nil {
		return check.Counted{}, err
	}
	row := func(p int) string { return fmt.Sprintf("row %d", p) }
	if err := check.SampleWeights(opts.SampleWeight, n, row); err != nil {
		return check.Counted{}, err
	}
	for _, v := range [...]struct {
		name string
		v    float64
	}{{"z-loss", opts.ZLoss}, {"soft cap", opts.SoftCap}} {
		if !(v.v >= 0) || math.IsInf(v.v, 1) {
			return check.Counted{}, check.Option("%s %v is not a finite number ≥ 0", v.name, v.v)
		}
	}
	if opts.ChunkRows < 0 {
		return check.Counted{}, check.Option("chunk rows %d is negative", opts.ChunkRows)
	}
	counted, err := check.IndexTargets(targets, check.IgnoreIndex(opts.IgnoreIndex), c, opts.Weight, opts.SampleWeight, row)
	if err != nil {
		return check.Counted{}, err
	}
	return counted, nil
}
