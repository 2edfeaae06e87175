package xent

import (
	"math"
	"unsafe"

	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
)

// The softmax-family losses see the C logits of one position as a row with a
// stride: the logit of class c at position (n, s) is x[base + c·stride] with
// base = n·C·inner + s and stride = inner. Rows of an (N, C) shape are
// contiguous and run through internal/kernel (SIMD where the machine has
// it); rows of (N, C, d1…dk) shapes are gathered into row-major tiles
// first (see tiled), or, with more classes than a tile holds, run strided
// in plain Go, in float64.

// rowMax returns max_c x_c over one strided row, or NaN when a logit is NaN.
func rowMax[T Float](x []T, base, stride, classes int) float64 {
	m := math.Inf(-1)
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		v := float64(x[i])
		if v > m {
			m = v
		} else if v != v {
			return v
		}
	}
	return m
}

// rowLogSumExp returns log Σ_c exp(x_c) of one row, computed as
// m + log Σ_c exp(x_c − m) with m the row maximum, and the sum
// s = Σ_c exp(x_c − m). When e is not nil it also stores exp(x_c − m) in e
// at the logits' indices, so that the gradient pass reads p_c = e_c/s.
func rowLogSumExp[T Float](x, e []T, base, stride, classes int) (lse, s float64) {
	if stride == 1 {
		row := x[base : base+classes]
		return logSumExpFrom(row, eRow(e, base, classes), kernel.Max(row))
	}
	m := rowMax(x, base, stride, classes)
	if e == nil {
		for c, i := 0, base; c < classes; c, i = c+1, i+stride {
			s += math.Exp(float64(x[i]) - m)
		}
	} else {
		for c, i := 0, base; c < classes; c, i = c+1, i+stride {
			v := math.Exp(float64(x[i]) - m)
			e[i] = T(v)
			s += v
		}
	}
	return m + math.Log(s), s
}

// logSumExpFrom returns logsumexp of a contiguous row whose maximum m is
// known, and s = Σ exp(x_c − m), storing the terms in e when it is not nil.
func logSumExpFrom[T Float](row, e []T, m T) (lse, s float64) {
	s = kernel.ExpShiftSum(e, row, m)
	return float64(m) + math.Log(s), s
}

// eRow returns the row of e at base, or nil for a nil e.
func eRow[T Float](e []T, base, classes int) []T {
	if e == nil {
		return nil
	}
	return e[base : base+classes]
}

// rowScaleAdd sets g_c = a·g_c + b·u_c + c over one row, where u_c is
// u[uBase + c·uStride]: a per-class vector has uBase 0 and uStride 1, a
// per-element one the row's base and stride. u may be nil.
func rowScaleAdd[T Float](g []T, base, stride, classes int, a float64, u []T, uBase, uStride int, b, c float64) {
	if stride == 1 && (u == nil || uStride == 1) {
		var urow []T
		if u != nil {
			urow = u[uBase : uBase+classes]
		}
		kernel.ScaleAdd(g[base:base+classes], T(a), urow, T(b), T(c))
		return
	}
	for k, i := 0, base; k < classes; k, i = k+1, i+stride {
		v := a*float64(g[i]) + c
		if u != nil {
			v += b * float64(u[uBase+k*uStride])
		}
		g[i] = T(v)
	}
}

// rowDotRows returns Σ_c u_c·x_c over one row where u has the logits'
// shape (a target row).
func rowDotRows[T Float](u, x []T, base, stride, classes int) float64 {
	if stride == 1 {
		return kernel.Dot(u[base:base+classes], x[base:base+classes])
	}
	s := 0.0
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		s += float64(u[i]) * float64(x[i])
	}
	return s
}

// rowDot returns Σ_c u_c·x_c over one row, or Σ_c x_c when u is nil.
func rowDot[T Float](u, x []T, base, stride, classes int) float64 {
	if stride == 1 {
		return kernel.Dot(u, x[base:base+classes])
	}
	s := 0.0
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		s += classWeight(u, c) * float64(x[i])
	}
	return s
}

// zeroRow writes 0 into the C gradient values of one position.
func zeroRow[T Float](grad []T, base, stride, classes int) {
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		grad[i] = 0
	}
}

// SoftmaxOptions configures SoftmaxCrossEntropy. The zero value is PyTorch's
// default: mean reduction, no weights, ignore index −100, no smoothing.
type SoftmaxOptions[T Float] struct {
	Reduction Reduction
	// Weight is w, one finite weight ≥ 0 per class; nil means all 1.
	Weight []T
	// IgnoreIndex: positions whose target equals it give 0 and are not
	// counted. Nil means DefaultIgnoreIndex (−100); set another with
	// new(255).
	IgnoreIndex *int
	// LabelSmoothing is ε ∈ [0, 1].
	LabelSmoothing float64
	// GradOutput is g, the upstream gradient, for reduction None only: one
	// value per position. Nil means all 1.
	GradOutput []T
	// Workers is the number of goroutines the call may use; 0 means
	// GOMAXPROCS. The result is the same to the bit for any value.
	Workers int
}

// SoftmaxCrossEntropy is the categorical cross-entropy of softmax(x) against
// class-index targets y, PyTorch's CrossEntropyLoss with indices. With
// p = softmax(x) over axis 1, W = Σ_c w_c and ε the label smoothing, each
// counted position gives
//
//	l = (1−ε)·(−w_y log p_y) + (ε/C)·(−Σ_c w_c log p_c)
//	∂l/∂x_c = (1−ε)·w_y·(p_c − [c=y]) + (ε/C)·(W·p_c − w_c)
//
// and a position whose target is the ignore index gives 0 with a zero
// gradient. Mean divides Σ l by Σ w_y over the counted positions (PyTorch's
// weighted mean); a zero divisor gives 0 with a zero gradient.
//
// shape is (N, C, d1…dk); logits has the shape's N·C·d1⋯dk values in
// row-major order and targets the N·d1⋯dk positions. out.Grad, if not nil,
// receives the gradient of the returned value; out.Losses, if not nil, the
// N·d1⋯dk per-position losses.
//
// log p is computed as x − logsumexp(x) with the row maximum taken out, so
// logits of ±1e4 are exact; a NaN logit makes its position's loss and
// gradient NaN. Rows of an (N, C) shape run in the SIMD kernels of
// internal/kernel (exp within 2 ulp, sums in float64), those of (N, C,
// d1…dk) shapes through row-major tiles; the noasm build runs plain Go, in
// float64. Positions are summed in fixed blocks, so the value does not
// depend on Workers. On AVX-512, without weights or smoothing, a gradient
// of 4 MiB or more in rows of 64 to 512 KiB is written with non-temporal
// stores (kernel.SoftmaxRowsStream): the same values, but not left in the
// cache, which could not have held it anyway.
//
// Errors, returned before anything is written: ErrShape for a bad shape, a
// slice of the wrong length, or outputs that overlap the inputs (see
// Output); ErrTarget for a target outside [0, C) that is not the ignore
// index; ErrOption for a negative or non-finite weight, ε outside [0, 1], an
// unknown reduction, a GradOutput without None, or a Mean whose divisor Σ
// w_y is so small (below 2⁻¹⁰²⁴) that its reciprocal overflows.
func SoftmaxCrossEntropy[T Float, I Index](shape []int, logits []T, targets []I, opts SoftmaxOptions[T], out Output[T]) (T, error) {
	l, err := newLayout(shape)
	if err != nil {
		return 0, err
	}
	if err := l.checkLen("logits", len(logits), l.elements); err != nil {
		return 0, err
	}
	if err := l.checkLen("targets", len(targets), l.positions); err != nil {
		return 0, err
	}
	if err := l.checkOutput(len(out.Grad), len(out.Losses), out.Grad != nil, out.Losses != nil, l.positions); err != nil {
		return 0, err
	}
	if err := checkClassWeights("weight", opts.Weight, l.c); err != nil {
		return 0, err
	}
	eps := opts.LabelSmoothing
	if !(eps >= 0 && eps <= 1) {
		return 0, optionError("label smoothing %v is outside [0, 1]", eps)
	}
	ignore := int64(DefaultIgnoreIndex)
	if opts.IgnoreIndex != nil {
		ignore = int64(*opts.IgnoreIndex)
	}
	counted := 0.0
	for p, y := range targets {
		t := int64(y)
		if t == ignore {
			continue
		}
		if t < 0 || t >= int64(l.c) {
			return 0, targetError("target %d at %s is outside [0, %d)", t, l.position(p), l.c)
		}
		counted += classWeight(opts.Weight, int(t))
	}
	red, err := newReducer(l, opts.Reduction, opts.GradOutput, l.positions, counted)
	if err != nil {
		return 0, err
	}
	if err := checkOverlap(out, input[T]{"logits", logits}, input[T]{"weight", opts.Weight}, input[T]{"upstream gradient (GradOutput)", opts.GradOutput}); err != nil {
		return 0, err
	}

	wSum := float64(l.c)
	if opts.Weight != nil {
		wSum = 0
		for _, w := range opts.Weight {
			wSum += float64(w)
		}
	}
	job := parallel.Get[softmaxJob[T, I]]()
	*job = softmaxJob[T, I]{rowJob: newRowJob(l, logits, out, red), targets: targets,
		w: opts.Weight, ignore: ignore, eps: eps, wSum: wSum}
	if job.plain() && streams[T](len(out.Grad), l.c) {
		job.b = streamBlocking(l.positions)
	}
	return runRows(job, &job.rowJob, out, opts.Workers), nil
}

// softmaxJob is SoftmaxCrossEntropy's computation, block by block.
type softmaxJob[T Float, I Index] struct {
	rowJob[T]
	targets   []I
	w         []T
	ignore    int64
	eps, wSum float64
}

// Block computes the positions of block i and returns the sum of their
// (reduction-weighted) losses.
func (j *softmaxJob[T, I]) Block(i int) float64 { return blockOf[T](j, j.b, i) }

func (j *softmaxJob[T, I]) buffers() (x, grad, targets []T) { return j.x, j.grad, nil }

// sub runs the job on a tile: positions p0 … p0+n as contiguous rows.
func (j *softmaxJob[T, I]) sub(x, grad, _ []T, p0, n int) float64 {
	s := *j
	s.rowJob, s.targets = j.tile(x, grad, p0, n), j.targets[p0:p0+n]
	return s.positions(0, n)
}

// positions computes positions [lo, hi) and returns the sum of their
// (reduction-weighted) losses.
func (j *softmaxJob[T, I]) positions(lo, hi int) float64 {
	stride, classes := j.l.inner, j.l.c
	if j.plain() {
		return j.plainRows(lo, hi)
	}
	smooth := j.eps / float64(classes)
	sum := 0.0
	for p := lo; p < hi; p++ {
		base := j.l.rowBase(p)
		li := 0.0
		if y := int64(j.targets[p]); y == j.ignore {
			if j.grad != nil {
				zeroRow(j.grad, base, stride, classes)
			}
		} else {
			lse, s := rowLogSumExp(j.x, j.grad, base, stride, classes)
			wy := classWeight(j.w, int(y))
			li = (1 - j.eps) * wy * (lse - float64(j.x[base+int(y)*stride]))
			if j.eps > 0 {
				// Σ_c w_c (lse − x_c) = W·lse − Σ_c w_c x_c
				li += smooth * (j.wSum*lse - rowDot(j.w, j.x, base, stride, classes))
			}
			if j.grad != nil {
				// ∂l/∂x_c = p_c·((1−ε)w_y + (ε/C)W) − (ε/C)w_c − [c=y](1−ε)w_y, p_c = e_c/s.
				scale := j.red.scale(p)
				a := ((1-j.eps)*wy + smooth*j.wSum) / s * scale
				if j.w == nil {
					rowScaleAdd(j.grad, base, stride, classes, a, nil, 0, 0, 0, -smooth*scale)
				} else {
					rowScaleAdd(j.grad, base, stride, classes, a, j.w, 0, 1, -smooth*scale, 0)
				}
				k := base + int(y)*stride
				j.grad[k] = T(float64(j.grad[k]) - (1-j.eps)*wy*scale)
			}
			sum += j.red.add(p, li)
		}
		if j.losses != nil {
			j.losses[p] = T(li)
		}
	}
	return sum
}

// plain reports whether the job runs in plainRows: rows of an (N, C)
// shape, a gradient, no weights, no smoothing.
func (j *softmaxJob[T, I]) plain() bool {
	return j.l.inner == 1 && j.eps == 0 && j.w == nil && j.grad != nil
}

// streamBytes is the size of gradient from which the softmax family writes
// it with non-temporal stores (kernel.SoftmaxRowsStream): beyond the caches
// of a core, where the lines written would be evicted before the caller
// reads them anyway.
const streamBytes = 4 << 20

// streams reports whether a gradient of n elements, in rows of c, is
// written by the streaming kernel.
func streams[T Float](n, c int) bool {
	var zero T
	return n*int(unsafe.Sizeof(zero)) >= streamBytes && kernel.Streams[T](c)
}

// streamBlocking splits rows that plainRows streams into blocks of 32
// rows, or of rows/8 when that makes fewer than 8 blocks: each call of
// the streaming kernel overlaps its rows' memory traffic with arithmetic
// except for the first row's maximum and the last row's gradient, so a
// block must hold many rows.
func streamBlocking(rows int) blocking {
	return blocking{count: rows, per: max(1, min(32, rows/8))}
}

// plainRows computes positions [lo, hi) of an (N, C) shape without weights
// or smoothing through kernel.SoftmaxRows, a batch of rows per call: the
// same value as the general path, l = (m + log s) − x_y.
func (j *softmaxJob[T, I]) plainRows(lo, hi int) float64 {
	classes := j.l.c
	var ys [kernel.SoftmaxRowsBatch]int64
	var scales, ms, ss [kernel.SoftmaxRowsBatch]float64
	stream := streams[T](len(j.grad), classes)
	sum := 0.0
	for from := lo; from < hi; from += len(ys) {
		to := min(from+len(ys), hi)
		rows := to - from
		for r := range rows {
			ys[r] = int64(j.targets[from+r])
			if ys[r] == j.ignore {
				ys[r] = -1
			}
			scales[r] = j.red.scale(from + r)
		}
		x, g := j.x[from*classes:to*classes], j.grad[from*classes:to*classes]
		if stream { // a direct call each, so that the arrays stay on the stack
			kernel.SoftmaxRowsStream(x, g, classes, ys[:rows], scales[:rows], ms[:rows], ss[:rows])
		} else {
			kernel.SoftmaxRows(x, g, classes, ys[:rows], scales[:rows], ms[:rows], ss[:rows])
		}
		for r := range rows {
			p, li := from+r, 0.0
			if ys[r] < 0 {
				zeroRow(j.grad, p*classes, 1, classes)
			} else {
				lse := ms[r] + math.Log(ss[r])
				li = lse - float64(j.x[p*classes+int(ys[r])])
				sum += j.red.add(p, li)
			}
			if j.losses != nil {
				j.losses[p] = T(li)
			}
		}
	}
	return sum
}

// SoftmaxProbOptions configures SoftmaxProbCrossEntropy. The zero value is
// PyTorch's default: mean reduction, no weights, no smoothing.
type SoftmaxProbOptions[T Float] struct {
	Reduction Reduction
	// Weight is w, one finite weight ≥ 0 per class; nil means all 1.
	Weight []T
	// LabelSmoothing is ε ∈ [0, 1]: the targets become (1−ε)t + ε/C.
	LabelSmoothing float64
	// GradOutput is g, for reduction None only: one value per position.
	GradOutput []T
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
}

// SoftmaxProbCrossEntropy is the cross-entropy of softmax(x) against
// probability targets t, PyTorch's CrossEntropyLoss with class
// probabilities. With t' = (1−ε)t + ε/C and p = softmax(x) over axis 1:
//
//	l = −Σ_c w_c t'_c log p_c
//	∂l/∂x_c = (Σ_k w_k t'_k)·p_c − w_c t'_c
//
// Rows of t need not sum to 1, and there is no ignore index. Mean divides
// Σ l by the number of positions N·d1⋯dk.
//
// targets has the logits' shape; the other arguments, the numerics and the
// outputs are as for SoftmaxCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target that is negative, infinite or NaN; ErrOption as for
// SoftmaxCrossEntropy.
func SoftmaxProbCrossEntropy[T Float](shape []int, logits, targets []T, opts SoftmaxProbOptions[T], out Output[T]) (T, error) {
	l, err := newLayout(shape)
	if err != nil {
		return 0, err
	}
	if err := l.checkLen("logits", len(logits), l.elements); err != nil {
		return 0, err
	}
	if err := l.checkLen("targets", len(targets), l.elements); err != nil {
		return 0, err
	}
	if err := l.checkOutput(len(out.Grad), len(out.Losses), out.Grad != nil, out.Losses != nil, l.positions); err != nil {
		return 0, err
	}
	if err := checkClassWeights("weight", opts.Weight, l.c); err != nil {
		return 0, err
	}
	eps := opts.LabelSmoothing
	if !(eps >= 0 && eps <= 1) {
		return 0, optionError("label smoothing %v is outside [0, 1]", eps)
	}
	if err := checkNonNegativeTargets(l, targets); err != nil {
		return 0, err
	}
	red, err := newReducer(l, opts.Reduction, opts.GradOutput, l.positions, float64(l.positions))
	if err != nil {
		return 0, err
	}
	if err := checkOverlap(out, input[T]{"logits", logits}, input[T]{"targets", targets}, input[T]{"weight", opts.Weight},
		input[T]{"upstream gradient (GradOutput)", opts.GradOutput}); err != nil {
		return 0, err
	}
	job := parallel.Get[softmaxProbJob[T]]()
	*job = softmaxProbJob[T]{rowJob: newRowJob(l, logits, out, red), t: targets, w: opts.Weight, eps: eps}
	return runRows(job, &job.rowJob, out, opts.Workers), nil
}

// softmaxProbJob is SoftmaxProbCrossEntropy's computation, block by block.
type softmaxProbJob[T Float] struct {
	rowJob[T]
	t, w []T
	eps  float64
}

func (j *softmaxProbJob[T]) Block(i int) float64 { return blockOf[T](j, j.b, i) }

func (j *softmaxProbJob[T]) buffers() (x, grad, targets []T) { return j.x, j.grad, j.t }

func (j *softmaxProbJob[T]) sub(x, grad, t []T, p0, n int) float64 {
	s := *j
	s.rowJob, s.t = j.tile(x, grad, p0, n), t
	return s.positions(0, n)
}

func (j *softmaxProbJob[T]) positions(lo, hi int) float64 {
	stride, classes := j.l.inner, j.l.c
	smooth := j.eps / float64(classes)
	sum := 0.0
	for p := lo; p < hi; p++ {
		base := j.l.rowBase(p)
		// With t' = (1−ε)t + ε/C: Σ w t' = (1−ε)Σ w t + (ε/C)W and
		// Σ w t' x = (1−ε)Σ w t x + (ε/C)Σ w x; l = lse·Σ w t' − Σ w t' x.
		var lse, s, wt, wtx float64 // wt = Σ w t', wtx = Σ w t' x
		if stride == 1 && j.w == nil {
			x, t := j.x[base:base+classes], j.t[base:base+classes]
			m, st, stx := kernel.MaxDot(x, t) // one pass for the three
			lse, s = logSumExpFrom(x, eRow(j.grad, base, classes), m)
			wt, wtx = st, stx
			if j.eps > 0 {
				wt = (1-j.eps)*wt + smooth*float64(classes)
				wtx = (1-j.eps)*wtx + smooth*kernel.Dot(nil, x)
			}
		} else {
			lse, s = rowLogSumExp(j.x, j.grad, base, stride, classes)
			for c, k := 0, base; c < classes; c, k = c+1, k+stride {
				v := classWeight(j.w, c) * ((1-j.eps)*float64(j.t[k]) + smooth)
				wt += v
				wtx += v * float64(j.x[k])
			}
		}
		li := wt*lse - wtx
		if j.grad != nil {
			// ∂l/∂x_c = (Σ w t')·p_c − w_c t'_c, p_c = e_c/s
			scale := j.red.scale(p)
			if j.w == nil {
				rowScaleAdd(j.grad, base, stride, classes, wt/s*scale, j.t, base, stride, -(1-j.eps)*scale, -smooth*scale)
			} else {
				for c, k := 0, base; c < classes; c, k = c+1, k+stride {
					v := classWeight(j.w, c) * ((1-j.eps)*float64(j.t[k]) + smooth)
					j.grad[k] = T((wt/s*float64(j.grad[k]) - v) * scale)
				}
			}
		}
		sum += j.red.add(p, li)
		if j.losses != nil {
			j.losses[p] = T(li)
		}
	}
	return sum
}

// checkNonNegativeTargets reports the first target that is not a finite
// number ≥ 0.
func checkNonNegativeTargets[T Float](l layout, targets []T) error {
	if i := kernel.FirstOutside(targets, 0, maxFinite[T]()); i >= 0 {
		return targetError("target %v at %s is not a finite number ≥ 0", float64(targets[i]), l.element(i))
	}
	return nil
}

// maxFinite returns the largest finite T.
func maxFinite[T Float]() T {
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		return T(math.MaxFloat32)
	}
	maxF64 := math.MaxFloat64 // a variable: the constant does not fit float32
	return T(maxF64)
}

// MultiLabelSoftmaxOptions configures MultiLabelSoftmaxCrossEntropy.
type MultiLabelSoftmaxOptions[T Float] struct {
	Reduction Reduction
	// GradOutput is g, for reduction None only: one value per position.
	GradOutput []T
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
}

// MultiLabelSoftmaxCrossEntropy is the tutorial's softmax loss for several
// positive classes with the 1/M factor of Mahajan et al. (2018): with
// multi-hot (or non-negative count) targets y, M = Σ_c y_c and p = softmax(x)
// over axis 1,
//
//	l = −(1/M) Σ_c y_c log p_c
//	∂l/∂x_c = p_c − y_c/M
//
// A position with M = 0 gives 0 with a zero gradient and is not counted.
// Mean divides Σ l by the number of counted positions. With one positive
// class it is SoftmaxCrossEntropy.
//
// targets has the logits' shape; the other arguments, the numerics and the
// outputs are as for SoftmaxCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target that is negative, infinite or NaN, or a position whose M overflows;
// ErrOption for an unknown reduction or a GradOutput without None.
func MultiLabelSoftmaxCrossEntropy[T Float](shape []int, logits, targets []T, opts MultiLabelSoftmaxOptions[T], out Output[T]) (T, error) {
	l, err := newLayout(shape)
	if err != nil {
		return 0, err
	}
	if err := l.checkLen("logits", len(logits), l.elements); err != nil {
		return 0, err
	}
	if err := l.checkLen("targets", len(targets), l.elements); err != nil {
		return 0, err
	}
	if err := l.checkOutput(len(out.Grad), len(out.Losses), out.Grad != nil, out.Losses != nil, l.positions); err != nil {
		return 0, err
	}
	if err := checkNonNegativeTargets(l, targets); err != nil {
		return 0, err
	}
	counted := 0
	for p := range l.positions {
		m := rowSum(targets, l.rowBase(p), l.inner, l.c)
		if math.IsInf(m, 0) {
			return 0, targetError("targets at %s add up to %v", l.position(p), m)
		}
		if m > 0 {
			counted++
		}
	}
	red, err := newReducer(l, opts.Reduction, opts.GradOutput, l.positions, float64(counted))
	if err != nil {
		return 0, err
	}
	if err := checkOverlap(out, input[T]{"logits", logits}, input[T]{"targets", targets}, input[T]{"upstream gradient (GradOutput)", opts.GradOutput}); err != nil {
		return 0, err
	}
	job := parallel.Get[multiLabelJob[T]]()
	*job = multiLabelJob[T]{rowJob: newRowJob(l, logits, out, red), y: targets}
	return runRows(job, &job.rowJob, out, opts.Workers), nil
}

// multiLabelJob is MultiLabelSoftmaxCrossEntropy's computation.
type multiLabelJob[T Float] struct {
	rowJob[T]
	y []T
}

func (j *multiLabelJob[T]) Block(i int) float64 { return blockOf[T](j, j.b, i) }

func (j *multiLabelJob[T]) buffers() (x, grad, targets []T) { return j.x, j.grad, j.y }

func (j *multiLabelJob[T]) sub(x, grad, y []T, p0, n int) float64 {
	s := *j
	s.rowJob, s.y = j.tile(x, grad, p0, n), y
	return s.positions(0, n)
}

func (j *multiLabelJob[T]) positions(lo, hi int) float64 {
	stride, classes := j.l.inner, j.l.c
	sum := 0.0
	for p := lo; p < hi; p++ {
		base := j.l.rowBase(p)
		li := 0.0
		// M = Σ_c y_c, yx = Σ_c y_c x_c, and the row's maximum: in one
		// pass over contiguous rows.
		var mx T
		var m, yx float64
		if stride == 1 {
			mx, m, yx = kernel.MaxDot(j.x[base:base+classes], j.y[base:base+classes])
		} else {
			m = rowSum(j.y, base, stride, classes)
		}
		if m == 0 {
			if j.grad != nil {
				zeroRow(j.grad, base, stride, classes)
			}
		} else {
			var lse, s float64
			if stride == 1 {
				lse, s = logSumExpFrom(j.x[base:base+classes], eRow(j.grad, base, classes), mx)
			} else {
				lse, s = rowLogSumExp(j.x, j.grad, base, stride, classes)
				yx = rowDotRows(j.y, j.x, base, stride, classes)
			}
			// l = Σ_c y_c (lse − x_c) / M = lse − Σ_c y_c x_c / M
			li = lse - yx/m
			if j.grad != nil {
				scale := j.red.scale(p)
				rowScaleAdd(j.grad, base, stride, classes, scale/s, j.y, base, stride, -scale/m, 0)
			}
			sum += j.red.add(p, li)
		}
		if j.losses != nil {
			j.losses[p] = T(li)
		}
	}
	return sum
}

// rowSum returns Σ_c v_c over one row.
func rowSum[T Float](v []T, base, stride, classes int) float64 {
	if stride == 1 {
		return kernel.Dot(nil, v[base:base+classes])
	}
	s := 0.0
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		s += float64(v[i])
	}
	return s
}
