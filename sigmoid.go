package xent

import "math"

// SigmoidOptions configures SigmoidCrossEntropy. The zero value is PyTorch's
// default: mean reduction, no weights.
type SigmoidOptions[T Float] struct {
	Reduction Reduction
	// Weight is w, one finite weight ≥ 0 per class (axis 1); nil means all 1.
	Weight []T
	// PosWeight is q, the weight of the positive term, one finite value ≥ 0
	// per class (axis 1); nil means all 1.
	PosWeight []T
	// GradOutput is g, for reduction None only: one value per element.
	GradOutput []T
}

// SigmoidCrossEntropy is binary (sigmoid) cross-entropy with logits against
// targets t ∈ [0, 1], PyTorch's BCEWithLogitsLoss, each element its own
// binary problem:
//
//	l = w·[(1−t)·x + (1+(q−1)t)·softplus(−x)]
//	∂l/∂x = w·[(1+(q−1)t)·σ(x) − q·t]
//
// with softplus(−x) = max(−x, 0) + log1p(exp(−|x|)). The loss is evaluated
// as a sum of non-negative terms, (1−t)x + (1+(q−1)t)·log1p(e^−x) for x ≥ 0
// and −q·t·x + (1+(q−1)t)·log1p(e^x) for x < 0, and the gradient as
// w·[(1−t)σ(x) − q·t·σ(−x)], so that neither cancels for large |x|; one exp
// per element serves both.
//
// targets has the logits' shape, and the losses are per element: Mean
// divides by N·C·d1⋯dk, None writes N·C·d1⋯dk losses, and GradOutput has one
// value per element. BatchMean divides by N.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length; ErrTarget for a target outside [0, 1] or NaN; ErrOption for a
// negative or non-finite weight or pos_weight, an unknown reduction or a
// GradOutput without None.
func SigmoidCrossEntropy[T Float](shape []int, logits, targets []T, opts SigmoidOptions[T], out Output[T]) (T, error) {
	l, err := checkElementwise(shape, logits, targets, out)
	if err != nil {
		return 0, err
	}
	if err := checkClassWeights("weight", opts.Weight, l.c); err != nil {
		return 0, err
	}
	if err := checkClassWeights("pos_weight", opts.PosWeight, l.c); err != nil {
		return 0, err
	}
	red, err := newReducer(l, opts.Reduction, opts.GradOutput, l.elements, float64(l.elements))
	if err != nil {
		return 0, err
	}
	sum := 0.0
	i := 0
	for n := 0; n < l.n; n++ {
		for c := 0; c < l.c; c++ {
			w, q := classWeight(opts.Weight, c), classWeight(opts.PosWeight, c)
			for s := 0; s < l.inner; s, i = s+1, i+1 {
				li, gi := binaryCrossEntropy(float64(logits[i]), float64(targets[i]), q)
				li *= w
				if out.Grad != nil {
					out.Grad[i] = T(w * gi * red.scale(i))
				}
				if out.Losses != nil {
					out.Losses[i] = T(li)
				}
				sum += red.add(i, li)
			}
		}
	}
	return red.value(sum), nil
}

// checkElementwise validates what the sigmoid losses share: the shape, the
// lengths of logits, targets and outputs (one loss per element), and targets
// in [0, 1].
func checkElementwise[T Float](shape []int, logits, targets []T, out Output[T]) (layout, error) {
	l, err := newLayout(shape)
	if err != nil {
		return l, err
	}
	if err := l.checkLen("logits", len(logits), l.elements); err != nil {
		return l, err
	}
	if err := l.checkLen("targets", len(targets), l.elements); err != nil {
		return l, err
	}
	if err := l.checkOutput(len(out.Grad), len(out.Losses), out.Grad != nil, out.Losses != nil, l.elements); err != nil {
		return l, err
	}
	for i, t := range targets {
		if f := float64(t); !(f >= 0 && f <= 1) {
			return l, targetError("target %v at %s is outside [0, 1]", f, l.element(i))
		}
	}
	return l, nil
}

// sigmoids returns σ(|x|) and σ(−|x|) = 1 − σ(|x|), each to full relative
// precision, and e = exp(−|x|) ∈ (0, 1].
func sigmoids(x float64) (big, small, e float64) {
	e = math.Exp(-math.Abs(x))
	return 1 / (1 + e), e / (1 + e), e
}

// binaryCrossEntropy returns the unweighted loss and gradient of one element
// with logit x, target t and positive weight q (see SigmoidCrossEntropy).
func binaryCrossEntropy(x, t, q float64) (loss, grad float64) {
	big, small, e := sigmoids(x)
	softplus := math.Log1p(e) // softplus(−|x|)
	lw := 1 + (q-1)*t
	if x >= 0 {
		return (1-t)*x + lw*softplus, (1-t)*big - q*t*small
	}
	return -q*t*x + lw*softplus, (1-t)*small - q*t*big
}
