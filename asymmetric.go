package xent

import (
	"github.com/xent-go/xent/internal/check"
	"github.com/xent-go/xent/internal/kernel"
)

// Defaults of the asymmetric loss, as Ridnik et al. (2021) recommend.
const (
	DefaultAsymmetricGammaPos = 0.0
	DefaultAsymmetricGammaNeg = 4.0
	DefaultAsymmetricClip     = 0.05
)

// AsymmetricOptions configures AsymmetricLoss. The zero value is the
// paper's recommendation: γ+ = 0, γ− = 4, m = 0.05, mean reduction.
type AsymmetricOptions[T Float] struct {
	Reduction Reduction
	// Weight is w, one finite weight ≥ 0 per class (axis 1); nil means all 1.
	Weight []T
	// GammaPos is γ+ ≥ 0, the focusing exponent of the positive term. Nil
	// means DefaultAsymmetricGammaPos; set another with new(1.0).
	GammaPos *float64
	// GammaNeg is γ− ≥ 0, that of the negative term. Nil means
	// DefaultAsymmetricGammaNeg.
	GammaNeg *float64
	// Clip is the probability margin m ∈ [0, 1) by which a negative's
	// probability is shifted down. Nil means DefaultAsymmetricClip.
	Clip *float64
	// DetachFocalWeight treats the factors (1−p)^γ+ and p_m^γ− as
	// constants in the gradient, as the ASL repository does by default.
	DetachFocalWeight bool
	// SampleWeight (one weight per position, for each of its C elements),
	// GradOutput (one value per element, for reduction None) and Workers are
	// as in SoftmaxOptions; Mean counts a position's elements s times.
	SampleWeight, GradOutput []T
	Workers                  int
}

// AsymmetricLoss is the asymmetric loss of Ridnik et al. (2021, "ASL"),
// for multi-label classification, element-wise on targets t ∈ [0, 1]: with
// p = σ(x) and p_m = max(p − m, 0),
//
//	l = −w_c·[t·(1−p)^γ+·log p + (1−t)·p_m^γ−·log(1 − p_m)],  0^0 = 1
//
// evaluated without cancellation: log p = −softplus(−x), 1−p = σ(−x),
// 1 − p_m = min(1, σ(−x) + m), and for m = 0 log(1 − p) = −softplus(x), so
// that it is finite for every finite logit, ±10⁴ included. The gradient is
// the exact derivative
//
//	∂l/∂x = w_c·[t·σ(−x)^γ+·(−γ+·σ(x)·softplus(−x) − σ(−x))
//	           + (1−t)·[p > m]·σ(x)σ(−x)·p_m^γ−·(1/(1−p_m) − γ−·log(1−p_m)/p_m)]
//
// and with DetachFocalWeight the derivative that holds (1−p)^γ+ and p_m^γ−
// constant: w_c·[−t·σ(−x)^(γ+ + 1) + (1−t)·[p > m]·σ(x)σ(−x)·p_m^γ−/(1−p_m)],
// which is what the ASL repository's AsymmetricLoss computes. For targets in
// {0, 1} the value is that repository's without its eps clamp; γ+ = γ− = m = 0
// is SigmoidCrossEntropy.
//
// Elements run in the SIMD kernels of internal/kernel (kernel.Asymmetric:
// whole γ+ and γ− up to 16; other γ in plain Go, in float64), in blocks
// whose sums are added in a fixed order. Reductions, outputs and GradOutput
// are per element, as for SigmoidCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target outside [0, 1] or NaN; ErrOption for a negative or non-finite
// weight, γ+ or γ− negative or not finite, m outside [0, 1), an unknown
// reduction or a GradOutput without None.
func AsymmetricLoss[T Float](shape []int, logits, targets []T, opts AsymmetricOptions[T], out Output[T]) (T, error) {
	p, err := asymmetricParams(opts.GammaPos, opts.GammaNeg, opts.Clip, opts.DetachFocalWeight)
	c := call[T, int]{shape: shape, logits: logits, targets: targets, kind: Binary, perElement: true, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight, perClass: [2]check.Named[T]{{Name: "weight", V: opts.Weight}}}
	if err := c.validate(err); err != nil {
		return 0, err
	}
	job := newElementJob(&c, opts.Weight, nil)
	job.kernel, job.asymmetric = asymmetricKernel, p
	return job.runOn(opts.Workers), nil
}

// asymmetricParams returns the loss's numbers, the defaults where an
// option is nil, checked.
func asymmetricParams(gammaPos, gammaNeg, clip *float64, detach bool) (kernel.AsymmetricParams, error) {
	p := kernel.AsymmetricParams{Clip: DefaultAsymmetricClip, Detach: detach}
	var err error
	if p.GammaPos, err = exponent("gamma_pos", gammaPos, DefaultAsymmetricGammaPos); err != nil {
		return p, err
	}
	if p.GammaNeg, err = exponent("gamma_neg", gammaNeg, DefaultAsymmetricGammaNeg); err != nil {
		return p, err
	}
	if clip != nil {
		if m := *clip; !(m >= 0 && m < 1) {
			return p, optionError("clip %v is outside [0, 1)", m)
		}
		p.Clip = *clip
	}
	return p, nil
}

// asymmetricConfig is AsymmetricLoss for Evaluate.
func asymmetricConfig[T Float](c Config[T], shape []int, logits []T, _ []int64, targets []T, out Output[T]) (T, error) {
	return AsymmetricLoss(shape, logits, targets, AsymmetricOptions[T]{Reduction: c.Reduction, Weight: c.Weight,
		GammaPos: c.GammaPos, GammaNeg: c.GammaNeg, Clip: c.Clip, DetachFocalWeight: c.DetachFocalWeight,
		SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
