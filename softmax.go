package xent

import "math"

// The softmax-family losses see the C logits of one position as a row with a
// stride: the logit of class c at position (n, s) is x[base + c·stride] with
// base = n·C·inner + s and stride = inner (1 for an (N, C) shape).

// rowMax returns max_c x_c over one row, or NaN when a logit is NaN.
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

// rowLogSumExp returns log Σ_c exp(x_c), computed as m + log Σ_c exp(x_c − m)
// with m the row maximum, and the sum s = Σ_c exp(x_c − m). When e is not
// nil it also stores exp(x_c − m) in e at the logits' indices, so that the
// gradient pass reads p_c = e_c/s instead of calling exp again.
func rowLogSumExp[T Float](x, e []T, base, stride, classes int) (lse, s float64) {
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
// gradient NaN. The plain Go path works in float64 for both element types
// and sums in position order, so the result is within a few ulp of the
// exact value.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// a slice of the wrong length; ErrTarget for a target outside [0, C) that is
// not the ignore index; ErrOption for a negative or non-finite weight, ε
// outside [0, 1], an unknown reduction, a GradOutput without None, or a
// Mean whose divisor Σ w_y is so small (below 2⁻¹⁰²⁴) that its reciprocal
// overflows.
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

	grad := out.Grad
	if red.empty {
		grad = nil
	}
	wSum := float64(l.c)
	if opts.Weight != nil {
		wSum = 0
		for _, w := range opts.Weight {
			wSum += float64(w)
		}
	}
	row := softmaxRow[T]{x: logits, grad: grad, w: opts.Weight, stride: l.inner, classes: l.c, eps: eps, wSum: wSum}
	sum := 0.0
	p := 0
	for n := 0; n < l.n; n++ {
		for s := 0; s < l.inner; s, p = s+1, p+1 {
			base := n*l.c*l.inner + s
			li := 0.0
			if y := int64(targets[p]); y == ignore {
				if grad != nil {
					zeroRow(grad, base, l.inner, l.c)
				}
			} else {
				li = row.loss(base, int(y), red.scale(p))
				sum += red.add(p, li)
			}
			if out.Losses != nil {
				out.Losses[p] = T(li)
			}
		}
	}
	if red.empty && out.Grad != nil {
		clear(out.Grad)
	}
	return red.value(sum), nil
}

// softmaxRow is SoftmaxCrossEntropy's computation for one position.
type softmaxRow[T Float] struct {
	x, grad, w      []T
	stride, classes int
	eps, wSum       float64
}

// loss returns l for the row at base with target y and, when r.grad is not
// nil, writes scale·∂l/∂x into it.
func (r *softmaxRow[T]) loss(base, y int, scale float64) float64 {
	lse, s := rowLogSumExp(r.x, r.grad, base, r.stride, r.classes)
	wy := classWeight(r.w, y)
	li := (1 - r.eps) * wy * (lse - float64(r.x[base+y*r.stride]))
	smooth := r.eps / float64(r.classes)
	if r.eps > 0 {
		terms := 0.0
		for c, i := 0, base; c < r.classes; c, i = c+1, i+r.stride {
			terms += classWeight(r.w, c) * (lse - float64(r.x[i]))
		}
		li += smooth * terms
	}
	if r.grad != nil {
		// ∂l/∂x_c = p_c·((1−ε)w_y + (ε/C)W) − (ε/C)w_c − [c=y](1−ε)w_y, p_c = e_c/s.
		a := ((1-r.eps)*wy + smooth*r.wSum) / s
		for c, i := 0, base; c < r.classes; c, i = c+1, i+r.stride {
			g := a*float64(r.grad[i]) - smooth*classWeight(r.w, c)
			if c == y {
				g -= (1 - r.eps) * wy
			}
			r.grad[i] = T(g * scale)
		}
	}
	return li
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
// length; ErrTarget for a target that is negative, infinite or NaN;
// ErrOption as for SoftmaxCrossEntropy.
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

	sum := 0.0
	p := 0
	for n := 0; n < l.n; n++ {
		for s := 0; s < l.inner; s, p = s+1, p+1 {
			base := n*l.c*l.inner + s
			lse, sExp := rowLogSumExp(logits, out.Grad, base, l.inner, l.c)
			li, tw := 0.0, 0.0 // tw = Σ_c w_c t'_c
			for c, i := 0, base; c < l.c; c, i = c+1, i+l.inner {
				wt := classWeight(opts.Weight, c) * ((1-eps)*float64(targets[i]) + eps/float64(l.c))
				tw += wt
				li += wt * (lse - float64(logits[i]))
			}
			if out.Grad != nil {
				scale, a := red.scale(p), tw/sExp
				for c, i := 0, base; c < l.c; c, i = c+1, i+l.inner {
					wt := classWeight(opts.Weight, c) * ((1-eps)*float64(targets[i]) + eps/float64(l.c))
					out.Grad[i] = T((a*float64(out.Grad[i]) - wt) * scale)
				}
			}
			sum += red.add(p, li)
			if out.Losses != nil {
				out.Losses[p] = T(li)
			}
		}
	}
	return red.value(sum), nil
}

// checkNonNegativeTargets reports the first target that is not a finite
// number ≥ 0.
func checkNonNegativeTargets[T Float](l layout, targets []T) error {
	for i, t := range targets {
		if f := float64(t); !(f >= 0) || math.IsInf(f, 1) {
			return targetError("target %v at %s is not a finite number ≥ 0", f, l.element(i))
		}
	}
	return nil
}

// MultiLabelSoftmaxOptions configures MultiLabelSoftmaxCrossEntropy.
type MultiLabelSoftmaxOptions[T Float] struct {
	Reduction Reduction
	// GradOutput is g, for reduction None only: one value per position.
	GradOutput []T
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
// length; ErrTarget for a target that is negative, infinite or NaN, or a
// position whose M overflows; ErrOption for an unknown reduction or a
// GradOutput without None.
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
	counted, p := 0, 0
	for n := 0; n < l.n; n++ {
		for s := 0; s < l.inner; s, p = s+1, p+1 {
			m := rowSum(targets, n*l.c*l.inner+s, l.inner, l.c)
			if math.IsInf(m, 0) {
				return 0, targetError("targets at %s add up to %v", l.position(p), m)
			}
			if m > 0 {
				counted++
			}
		}
	}
	red, err := newReducer(l, opts.Reduction, opts.GradOutput, l.positions, float64(counted))
	if err != nil {
		return 0, err
	}

	grad := out.Grad
	if red.empty {
		grad = nil
	}
	sum := 0.0
	p = 0
	for n := 0; n < l.n; n++ {
		for s := 0; s < l.inner; s, p = s+1, p+1 {
			base := n*l.c*l.inner + s
			li := 0.0
			if m := rowSum(targets, base, l.inner, l.c); m == 0 {
				if grad != nil {
					zeroRow(grad, base, l.inner, l.c)
				}
			} else {
				lse, sExp := rowLogSumExp(logits, grad, base, l.inner, l.c)
				for c, i := 0, base; c < l.c; c, i = c+1, i+l.inner {
					if y := float64(targets[i]); y != 0 {
						li += y * (lse - float64(logits[i]))
					}
				}
				li /= m
				if grad != nil {
					scale := red.scale(p)
					for c, i := 0, base; c < l.c; c, i = c+1, i+l.inner {
						grad[i] = T((float64(grad[i])/sExp - float64(targets[i])/m) * scale)
					}
				}
				sum += red.add(p, li)
			}
			if out.Losses != nil {
				out.Losses[p] = T(li)
			}
		}
	}
	if red.empty && out.Grad != nil {
		clear(out.Grad)
	}
	return red.value(sum), nil
}

// rowSum returns Σ_c v_c over one row.
func rowSum[T Float](v []T, base, stride, classes int) float64 {
	s := 0.0
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		s += float64(v[i])
	}
	return s
}
