package xent

import (
	"math"

	"github.com/xent-go/xent/internal/check"
)

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
	// SampleWeight, GradOutput (one value per position, for reduction None)
	// and Workers are as in SoftmaxOptions.
	SampleWeight, GradOutput []T
	Workers                  int
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
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target outside [0, C) that is not the ignore index; ErrOption for a
// negative or non-finite α, γ < 0 or not finite, an unknown reduction or a
// GradOutput without None.
func SoftmaxFocalLoss[T Float, I Index](shape []int, logits []T, targets []I, opts SoftmaxFocalOptions[T], out Output[T]) (T, error) {
	gamma, err := focalGamma(opts.Gamma)
	c := call[T, I]{shape: shape, logits: logits, indices: targets, kind: ClassIndices, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight, ignoreIndex: opts.IgnoreIndex,
		perClass: [2]check.Named[T]{{Name: "alpha", V: opts.Alpha}}}
	if err := c.validate(err); err != nil {
		return 0, err
	}
	return newRows(&c, softmaxFocalRows[T, I]{alpha: opts.Alpha, targets: targets, gamma: gamma, ignore: c.ignore}).run(opts.Workers), nil
}

// softmaxFocalRows is SoftmaxFocalLoss's part of its job.
type softmaxFocalRows[T Float, I Index] struct {
	alpha   []T
	targets []I
	gamma   float64
	ignore  int64
}

func (j softmaxFocalRows[T, I]) tile(p0, n int) softmaxFocalRows[T, I] {
	j.targets = j.targets[p0 : p0+n]
	return j
}

func (j softmaxFocalRows[T, I]) positions(r rowJob[T], lo, hi int) float64 {
	stride, classes := r.l.inner, r.l.c
	sum := 0.0
	for p := lo; p < hi; p++ {
		li := 0.0
		if base, y, counted := indexRow(&r, j.targets, j.ignore, p); counted {
			lse, s := rowLogSumExp(r.x, r.grad, base, stride, classes)
			k := base + y*stride
			logp := float64(r.x[k]) - lse
			a := classWeight(j.alpha, y)
			f, q := softmaxFocalFactor(logp, j.gamma)
			li = -a * math.Pow(q, j.gamma) * logp
			if r.grad != nil {
				// ∂l/∂x_c = α_y·F·(p_c − [c=y]), p_c = e_c/s
				scale := r.red.scale(p) * a * f
				rowScaleAdd(r.grad, base, stride, classes, scale/s, nil, 0, 0, 0, 0)
				r.grad[k] = T(float64(r.grad[k]) - scale)
			}
			sum += r.red.add(p, li)
		}
		r.store(p, li)
	}
	return sum
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

// softmaxFocalConfig is SoftmaxFocalLoss for Evaluate.
func softmaxFocalConfig[T Float](c Config[T], shape []int, logits []T, indices []int64, _ []T, out Output[T]) (T, error) {
	return SoftmaxFocalLoss(shape, logits, indices, SoftmaxFocalOptions[T]{Reduction: c.Reduction, Alpha: c.ClassAlpha,
		Gamma: c.Gamma, IgnoreIndex: c.IgnoreIndex, SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
