package xent

import (
	"github.com/xent-go/xent/internal/check"
)

// SigmoidOptions configures SigmoidCrossEntropy. The zero value is PyTorch's
// default: mean reduction, no weights.
type SigmoidOptions[T Float] struct {
	Reduction Reduction
	// Weight is w, one finite weight ≥ 0 per class (axis 1); nil means all 1.
	Weight []T
	// PosWeight is q, the weight of the positive term, one finite value ≥ 0
	// per class (axis 1); nil means all 1.
	PosWeight []T
	// SampleWeight (one weight per position, for each of its C elements),
	// GradOutput (one value per element, for reduction None) and Workers are
	// as in SoftmaxOptions; Mean counts a position's elements s times.
	SampleWeight, GradOutput []T
	Workers                  int
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
// Elements run in the SIMD kernels of internal/kernel where the machine
// has them, in blocks whose sums are added in a fixed order.
//
// targets has the logits' shape, and the losses are per element: Mean
// divides by N·C·d1⋯dk, None writes N·C·d1⋯dk losses, and GradOutput has one
// value per element. BatchMean divides by N.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target outside [0, 1] or NaN; ErrOption for a negative or non-finite
// weight or pos_weight, an unknown reduction or a GradOutput without None.
func SigmoidCrossEntropy[T Float](shape []int, logits, targets []T, opts SigmoidOptions[T], out Output[T]) (T, error) {
	c := call[T, int]{shape: shape, logits: logits, targets: targets, kind: Binary, perElement: true, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight,
		perClass: [2]check.Named[T]{{Name: "weight", V: opts.Weight}, {Name: "pos_weight", V: opts.PosWeight}}}
	if err := c.validate(nil); err != nil {
		return 0, err
	}
	return newElementJob(&c, opts.Weight, opts.PosWeight).runOn(opts.Workers), nil
}

// sigmoidConfig is SigmoidCrossEntropy for Evaluate.
func sigmoidConfig[T Float](c Config[T], shape []int, logits []T, _ []int64, targets []T, out Output[T]) (T, error) {
	return SigmoidCrossEntropy(shape, logits, targets, SigmoidOptions[T]{Reduction: c.Reduction, Weight: c.Weight,
		PosWeight: c.PosWeight, SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
