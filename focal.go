package xent

import "math"

// Defaults of the focal losses, as in torchvision.ops.sigmoid_focal_loss and
// Lin et al. (2017).
const (
	DefaultFocalAlpha = 0.25
	DefaultFocalGamma = 2.0
)

// SigmoidFocalOptions configures SigmoidFocalLoss. The zero value is
// torchvision's default: α = 0.25, γ = 2, and mean reduction (torchvision's
// own default is none).
type SigmoidFocalOptions[T Float] struct {
	Reduction Reduction
	// Alpha is α ≤ 1, the weight of the positive term; a negative α turns
	// the weighting off (α_t = 1). Nil means DefaultFocalAlpha; set another
	// with new(0.5).
	Alpha *float64
	// Gamma is γ ≥ 0, the focusing exponent. Nil means DefaultFocalGamma.
	Gamma *float64
	// GradOutput is g, for reduction None only: one value per element.
	GradOutput []T
}

// SigmoidFocalLoss is the focal loss of Lin et al. (2017) on sigmoid
// outputs, torchvision.ops.sigmoid_focal_loss, element-wise on targets
// t ∈ [0, 1]:
//
//	p_t = σ(x)·t + (1−σ(x))·(1−t)
//	l   = α_t·(1−p_t)^γ·bce(x, t),  α_t = α·t + (1−α)·(1−t) (1 when α < 0)
//
// with bce the unweighted loss of SigmoidCrossEntropy. The gradient is the
// exact derivative
//
//	∂l/∂x = α_t·(1−p_t)^γ·[γ·(σ(x)σ(−x)/(1−p_t))·(1−2t)·bce + σ(x) − t]
//
// with 1−p_t = t·σ(−x) + (1−t)·σ(x) evaluated without cancellation and the
// ratio σ(x)σ(−x)/(1−p_t) ≤ 1, so it is finite for every finite logit; where
// 1−p_t underflows to 0 (and γ > 0) loss and gradient are their limit, 0.
// With γ = 0 and α < 0 it is SigmoidCrossEntropy to the bit.
//
// Reductions, outputs and GradOutput are per element, as for
// SigmoidCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length; ErrTarget for a target outside [0, 1] or NaN; ErrOption for α > 1
// or NaN, γ < 0 or not finite, an unknown reduction or a GradOutput without
// None.
func SigmoidFocalLoss[T Float](shape []int, logits, targets []T, opts SigmoidFocalOptions[T], out Output[T]) (T, error) {
	l, err := checkElementwise(shape, logits, targets, out)
	if err != nil {
		return 0, err
	}
	alpha := DefaultFocalAlpha
	if opts.Alpha != nil {
		alpha = *opts.Alpha
	}
	if !(alpha <= 1) || math.IsInf(alpha, -1) {
		return 0, optionError("alpha %v is not a finite number ≤ 1 (a negative alpha turns the weighting off)", alpha)
	}
	gamma, err := focalGamma(opts.Gamma)
	if err != nil {
		return 0, err
	}
	red, err := newReducer(l, opts.Reduction, opts.GradOutput, l.elements, float64(l.elements))
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for i := range logits {
		li, gi := sigmoidFocal(float64(logits[i]), float64(targets[i]), alpha, gamma)
		if out.Grad != nil {
			out.Grad[i] = T(gi * red.scale(i))
		}
		if out.Losses != nil {
			out.Losses[i] = T(li)
		}
		sum += red.add(i, li)
	}
	return red.value(sum), nil
}

// focalGamma returns γ (DefaultFocalGamma when nil) or an error when it is
// negative or not finite.
func focalGamma(g *float64) (float64, error) {
	if g == nil {
		return DefaultFocalGamma, nil
	}
	if !(*g >= 0) || math.IsInf(*g, 1) {
		return 0, optionError("gamma %v is not a finite number ≥ 0", *g)
	}
	return *g, nil
}

// sigmoidFocal returns the loss and gradient of one element (see
// SigmoidFocalLoss).
func sigmoidFocal(x, t, alpha, gamma float64) (loss, grad float64) {
	bce, dbce := binaryCrossEntropy(x, t, 1)
	at := 1.0
	if alpha >= 0 {
		at = alpha*t + (1-alpha)*(1-t)
	}
	if gamma == 0 {
		return at * bce, at * dbce
	}
	big, small, _ := sigmoids(x)
	sx, smx := big, small // σ(x), σ(−x)
	if x < 0 {
		sx, smx = small, big
	}
	u := t*smx + (1-t)*sx // 1 − p_t
	if u == 0 {
		return 0, 0
	}
	ug := math.Pow(u, gamma)
	return at * ug * bce, at * ug * (gamma*(sx*smx/u)*(1-2*t)*bce + dbce)
}

// SoftmaxFocalOptions configures SoftmaxFocalLoss. The zero value is mean
// reduction, no α, γ = 2, ignore index −100.
type SoftmaxFocalOptions[T Float] struct {
	Reduction Reduction
	// Alpha is α, one finite weight ≥ 0 per class; nil means all 1.
	Alpha []T
	// Gamma is γ ≥ 0. Nil means DefaultFocalGamma; set another with new(0.5).
	Gamma *float64
	// IgnoreIndex: positions whose target equals it give 0 and are not
	// counted. Nil means DefaultIgnoreIndex (−100).
	IgnoreIndex *int
	// GradOutput is g, for reduction None only: one value per position.
	GradOutput []T
}

// SoftmaxFocalLoss is the focal loss on softmax outputs with class-index
// targets y: with p = softmax(x) over axis 1,
//
//	l = −α_y·(1−p_y)^γ·log p_y
//	∂l/∂x_c = α_y·F·(p_c − [c=y]),  F = (1−p_y)^γ − γ·p_y·log p_y·(1−p_y)^(γ−1)
//
// where 1−p_y is computed as −expm1(log p_y), and F as
// (1−p_y)^γ·(1 − γ·p_y·log p_y/(1−p_y)), which stays finite as p_y → 1
// (F → 0 for γ > 0). With γ = 0 it is SoftmaxCrossEntropy with α as the
// class weights, except that Mean divides by the number of counted
// positions, not Σ α_y. Positions whose target is the ignore index give 0.
//
// Arguments, numerics and outputs are as for SoftmaxCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length; ErrTarget for a target outside [0, C) that is not the ignore index;
// ErrOption for a negative or non-finite α, γ < 0 or not finite, an unknown
// reduction or a GradOutput without None.
func SoftmaxFocalLoss[T Float, I Index](shape []int, logits []T, targets []I, opts SoftmaxFocalOptions[T], out Output[T]) (T, error) {
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
	if err := checkClassWeights("alpha", opts.Alpha, l.c); err != nil {
		return 0, err
	}
	gamma, err := focalGamma(opts.Gamma)
	if err != nil {
		return 0, err
	}
	ignore := int64(DefaultIgnoreIndex)
	if opts.IgnoreIndex != nil {
		ignore = int64(*opts.IgnoreIndex)
	}
	counted := 0
	for p, y := range targets {
		t := int64(y)
		if t == ignore {
			continue
		}
		if t < 0 || t >= int64(l.c) {
			return 0, targetError("target %d at %s is outside [0, %d)", t, l.position(p), l.c)
		}
		counted++
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
				lse, sExp := rowLogSumExp(logits, grad, base, l.inner, l.c)
				logp := float64(logits[base+int(y)*l.inner]) - lse
				a := classWeight(opts.Alpha, int(y))
				f, q := softmaxFocalFactor(logp, gamma)
				li = -a * math.Pow(q, gamma) * logp
				if grad != nil {
					scale := red.scale(p) * a * f
					for c, i := 0, base; c < l.c; c, i = c+1, i+l.inner {
						g := float64(grad[i]) / sExp
						if c == int(y) {
							g--
						}
						grad[i] = T(g * scale)
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

// softmaxFocalFactor returns F of SoftmaxFocalLoss and q = 1−p_y for
// logp = log p_y.
func softmaxFocalFactor(logp, gamma float64) (f, q float64) {
	q = -math.Expm1(logp)
	switch {
	case gamma == 0:
		return 1, q
	case q == 0:
		return 0, q
	}
	p := math.Exp(logp)
	return math.Pow(q, gamma) * (1 - gamma*p*logp/q), q
}
