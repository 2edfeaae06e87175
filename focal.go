package xent

import (
	"math"

	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
)

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
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
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
	if err := checkOverlap(out, input[T]{"logits", logits}, input[T]{"targets", targets}, input[T]{"upstream gradient (GradOutput)", opts.GradOutput}); err != nil {
		return 0, err
	}
	job := parallel.Get[sigmoidFocalJob[T]]()
	*job = sigmoidFocalJob[T]{x: logits, t: targets, grad: out.Grad, losses: out.Losses, red: red,
		alpha: alpha, gamma: gamma, b: newBlocking(l.elements, 1)}
	return red.value(runJob(job, job.b, opts.Workers)), nil
}

// sigmoidFocalJob is SigmoidFocalLoss's computation: blocks of elements
// handed to kernel.SigmoidFocal.
type sigmoidFocalJob[T Float] struct {
	x, t, grad, losses []T
	red                reducer[T]
	alpha, gamma       float64
	b                  blocking
}

func (j *sigmoidFocalJob[T]) Block(i int) float64 {
	lo, hi := j.b.span(i)
	e := elementsOf(j.x, j.t, j.grad, j.losses, &j.red, lo, hi, nil, nil, 1, 1)
	return kernel.SigmoidFocal(&e, j.alpha, j.gamma)
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
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
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
	if err := checkOverlap(out, input[T]{"logits", logits}, input[T]{"alpha", opts.Alpha}, input[T]{"upstream gradient (GradOutput)", opts.GradOutput}); err != nil {
		return 0, err
	}

	job := parallel.Get[softmaxFocalJob[T, I]]()
	*job = softmaxFocalJob[T, I]{rowJob: newRowJob(l, logits, out, red), targets: targets,
		alpha: opts.Alpha, gamma: gamma, ignore: ignore}
	return runRows(job, &job.rowJob, out, opts.Workers), nil
}

// softmaxFocalJob is SoftmaxFocalLoss's computation, block by block.
type softmaxFocalJob[T Float, I Index] struct {
	rowJob[T]
	alpha   []T
	targets []I
	gamma   float64
	ignore  int64
}

func (j *softmaxFocalJob[T, I]) Block(i int) float64 { return blockOf[T](j, j.b, i) }

func (j *softmaxFocalJob[T, I]) buffers() (x, grad, targets []T) { return j.x, j.grad, nil }

func (j *softmaxFocalJob[T, I]) sub(x, grad, _ []T, p0, n int) float64 {
	s := *j
	s.rowJob, s.targets = j.tile(x, grad, p0, n), j.targets[p0:p0+n]
	return s.positions(0, n)
}

func (j *softmaxFocalJob[T, I]) positions(lo, hi int) float64 {
	stride, classes := j.l.inner, j.l.c
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
			k := base + int(y)*stride
			logp := float64(j.x[k]) - lse
			a := classWeight(j.alpha, int(y))
			f, q := softmaxFocalFactor(logp, j.gamma)
			li = -a * math.Pow(q, j.gamma) * logp
			if j.grad != nil {
				// ∂l/∂x_c = α_y·F·(p_c − [c=y]), p_c = e_c/s
				scale := j.red.scale(p) * a * f
				rowScaleAdd(j.grad, base, stride, classes, scale/s, nil, 0, 0, 0, 0)
				j.grad[k] = T(float64(j.grad[k]) - scale)
			}
			sum += j.red.add(p, li)
		}
		if j.losses != nil {
			j.losses[p] = T(li)
		}
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
