package xent

import (
	"unsafe"

	"github.com/xent-go/xent/internal/check"
	"github.com/xent-go/xent/internal/kernel"
)

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
	// PolyEpsilon is Poly-1's ε_poly ≥ −1 (see SoftmaxCrossEntropy); 0 is
	// the plain cross-entropy.
	PolyEpsilon float64
	// SampleWeight is s, one finite weight ≥ 0 per position (N, d1…dk):
	// each position's loss (and gradient) is multiplied by its s, and Mean
	// counts the position s times. Nil means all 1.
	SampleWeight []T
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
// weighted mean); a zero divisor gives 0 with a zero gradient. With
// PolyEpsilon ε_poly ≠ 0 each counted position adds Poly-1's term
// ε_poly·Σ_c w_c t'_c·(1 − p_c), t' = (1−ε)e_y + ε/C, to its loss (see
// poly.go's comment for the gradient); the divisor is unchanged.
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
// float64 (as are Poly-1's rows with weights or smoothing). Positions are
// summed in fixed blocks, so the value does not depend on Workers. On
// AVX-512, without weights, smoothing or Poly-1, a gradient
// of 4 MiB or more in rows of 64 to 512 KiB is written with non-temporal
// stores (kernel.SoftmaxRowsStream): the same values, but not left in the
// cache, which could not have held it anyway.
//
// Errors, returned before anything is written: ErrShape for a bad shape, a
// slice of the wrong length, or outputs that overlap the inputs (see
// Output); ErrTarget for a target outside [0, C) that is not the ignore
// index; ErrOption for a negative or non-finite weight, ε outside [0, 1],
// ε_poly below −1 or not finite, an unknown reduction, a GradOutput without
// None, or a Mean whose divisor Σ w_y is so small (below 2⁻¹⁰²⁴) that its
// reciprocal overflows.
func SoftmaxCrossEntropy[T Float, I Index](shape []int, logits []T, targets []I, opts SoftmaxOptions[T], out Output[T]) (T, error) {
	c := call[T, I]{shape: shape, logits: logits, indices: targets, kind: ClassIndices, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight, ignoreIndex: opts.IgnoreIndex,
		perClass: [2]check.Named[T]{{Name: "weight", V: opts.Weight}}, meanWeight: opts.Weight}
	err := check.LabelSmoothing(opts.LabelSmoothing)
	if err == nil {
		err = checkPoly(opts.PolyEpsilon)
	}
	if err := c.validate(err); err != nil {
		return 0, err
	}
	wSum := float64(c.c)
	if opts.Weight != nil {
		wSum = 0
		for _, w := range opts.Weight {
			wSum += float64(w)
		}
	}
	job := newRows(&c, softmaxRows[T, I]{targets: targets, w: opts.Weight, ignore: c.ignore, eps: opts.LabelSmoothing,
		poly: opts.PolyEpsilon, wSum: wSum})
	if job.loss.plain(&job.rowJob) && opts.PolyEpsilon == 0 && streams[T](len(out.Grad), c.c) {
		job.b = streamBlocking(c.positions)
	}
	return job.run(opts.Workers), nil
}

// softmaxRows is SoftmaxCrossEntropy's part of its job.
type softmaxRows[T Float, I Index] struct {
	targets         []I
	w               []T
	ignore          int64
	eps, poly, wSum float64
}

func (j softmaxRows[T, I]) tile(p0, n int) softmaxRows[T, I] {
	j.targets = j.targets[p0 : p0+n]
	return j
}

// positions computes positions [lo, hi) and returns the sum of their
// (reduction-weighted) losses.
func (j softmaxRows[T, I]) positions(r rowJob[T], lo, hi int) float64 {
	stride, classes := r.l.inner, r.l.c
	if j.plain(&r) {
		return j.plainRows(r, lo, hi)
	}
	smooth := j.eps / float64(classes)
	sum := 0.0
	for p := lo; p < hi; p++ {
		li := 0.0
		base, y, counted := indexRow(&r, j.targets, j.ignore, p)
		switch {
		case counted && j.poly != 0 && (j.w != nil || j.eps != 0):
			li = polyRow(r, base, stride, classes, nil, y, j.w, j.eps, j.poly, r.red.scale(p))
			sum += r.red.add(p, li)
		case counted:
			lse, s := rowLogSumExp(r.x, r.grad, base, stride, classes)
			wy := classWeight(j.w, y)
			li = (1 - j.eps) * wy * (lse - float64(r.x[base+y*stride]))
			if j.eps > 0 {
				// Σ_c w_c (lse − x_c) = W·lse − Σ_c w_c x_c
				li += smooth * (j.wSum*lse - rowDot(j.w, r.x, base, stride, classes))
			}
			scale := r.red.scale(p)
			if j.poly != 0 { // one-hot, unweighted: (1 + ε·p_y)·(p − e_y), l + ε·(1 − p_y)
				py := targetProb(li)
				li += j.poly * (1 - py)
				scale *= 1 + j.poly*py
			}
			if r.grad != nil {
				// ∂l/∂x_c = p_c·((1−ε)w_y + (ε/C)W) − (ε/C)w_c − [c=y](1−ε)w_y, p_c = e_c/s.
				a := ((1-j.eps)*wy + smooth*j.wSum) / s * scale
				if j.w == nil {
					rowScaleAdd(r.grad, base, stride, classes, a, nil, 0, 0, 0, -smooth*scale)
				} else {
					rowScaleAdd(r.grad, base, stride, classes, a, j.w, 0, 1, -smooth*scale, 0)
				}
				k := base + y*stride
				r.grad[k] = T(float64(r.grad[k]) - (1-j.eps)*wy*scale)
			}
			sum += r.red.add(p, li)
		}
		r.store(p, li)
	}
	return sum
}

// plain reports whether the rows run in plainRows: rows of an (N, C)
// shape, a gradient, no weights, no smoothing.
func (j softmaxRows[T, I]) plain(r *rowJob[T]) bool {
	return r.l.inner == 1 && j.eps == 0 && j.w == nil && r.grad != nil
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
func (j softmaxRows[T, I]) plainRows(job rowJob[T], lo, hi int) float64 {
	classes := job.l.c
	var ys [kernel.SoftmaxRowsBatch]int64
	var scales, ms, ss [kernel.SoftmaxRowsBatch]float64
	var nl, pys, logs [kernel.SoftmaxRowsBatch]float64          // −l, Poly-1's p_y, log s
	stream := j.poly == 0 && streams[T](len(job.grad), classes) // the streaming kernel takes no Poly-1 factor
	sum := 0.0
	for from := lo; from < hi; from += len(ys) {
		to := min(from+len(ys), hi)
		rows := to - from
		for r := range rows {
			ys[r] = int64(j.targets[from+r])
			if ys[r] == j.ignore {
				ys[r] = -1
			}
			scales[r] = job.red.scale(from + r)
		}
		x, g := job.x[from*classes:to*classes], job.grad[from*classes:to*classes]
		if stream { // a direct call each, so that the arrays stay on the stack
			kernel.SoftmaxRowsStream(x, g, classes, ys[:rows], scales[:rows], ms[:rows], ss[:rows])
		} else {
			kernel.SoftmaxRows(x, g, classes, ys[:rows], scales[:rows], ms[:rows], ss[:rows], j.poly)
		}
		// −l per row (log s for the batch in the vector kernel, with the
		// bits of the general path's kernel.LogOf), then Poly-1's p_y = e^−l
		// over the batch, then the sums and stores.
		kernel.Log(logs[:rows], ss[:rows])
		for r := range rows {
			p := from + r
			if ys[r] < 0 {
				zeroRow(job.grad, p*classes, 1, classes)
				nl[r] = 0
				continue
			}
			nl[r] = -(ms[r] + logs[r] - float64(job.x[p*classes+int(ys[r])]))
		}
		if j.poly != 0 { // the kernel scaled the gradient by 1 + ε·p_y; l + ε·(1 − p_y)
			targetProbs(pys[:rows], nl[:rows]) // as the general path (and a value-only call) computes them
		}
		for r := range rows {
			p, li := from+r, 0.0
			if ys[r] >= 0 {
				li = -nl[r]
				if j.poly != 0 {
					li += j.poly * (1 - pys[r])
				}
				sum += job.red.add(p, li)
			}
			job.store(p, li)
		}
	}
	return sum
}

// softmaxConfig is SoftmaxCrossEntropy for Evaluate.
func softmaxConfig[T Float](c Config[T], shape []int, logits []T, indices []int64, _ []T, out Output[T]) (T, error) {
	return SoftmaxCrossEntropy(shape, logits, indices, SoftmaxOptions[T]{Reduction: c.Reduction, Weight: c.Weight,
		IgnoreIndex: c.IgnoreIndex, LabelSmoothing: c.LabelSmoothing, PolyEpsilon: c.PolyEpsilon,
		SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
