package xent

import (
	"math"
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
	// SampleWeight (one weight per position, for each of its C elements),
	// GradOutput (one value per element, for reduction None) and Workers are
	// as in SoftmaxOptions; Mean counts a position's elements s times.
	SampleWeight, GradOutput []T
	Workers                  int
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
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target outside [0, 1] or NaN; ErrOption for α > 1 or NaN, γ < 0 or not
// finite, an unknown reduction or a GradOutput without None.
func SigmoidFocalLoss[T Float](shape []int, logits, targets []T, opts SigmoidFocalOptions[T], out Output[T]) (T, error) {
	alpha := DefaultFocalAlpha
	if opts.Alpha != nil {
		alpha = *opts.Alpha
	}
	gamma, err := focalGamma(opts.Gamma)
	if !(alpha <= 1) || math.IsInf(alpha, -1) {
		err = optionError("alpha %v is not a finite number ≤ 1 (a negative alpha turns the weighting off)", alpha)
	}
	c := call[T, int]{shape: shape, logits: logits, targets: targets, kind: Binary, perElement: true, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight}
	if err := c.validate(err); err != nil {
		return 0, err
	}
	job := newElementJob(&c, nil, nil)
	job.kernel, job.alpha, job.gamma = sigmoidFocalKernel, alpha, gamma
	return job.runOn(opts.Workers), nil
}

// sigmoidFocalConfig is SigmoidFocalLoss for Evaluate.
func sigmoidFocalConfig[T Float](c Config[T], shape []int, logits []T, _ []int64, targets []T, out Output[T]) (T, error) {
	return SigmoidFocalLoss(shape, logits, targets, SigmoidFocalOptions[T]{Reduction: c.Reduction, Alpha: c.Alpha,
		Gamma: c.Gamma, SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
