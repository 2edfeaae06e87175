package xent

import (
	"math"

	"github.com/xent-go/xent/internal/check"
	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
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
	// SampleWeight is s, one finite weight ≥ 0 per position (N, d1…dk):
	// the losses (and gradients) of a position's C elements are multiplied
	// by its s, and Mean counts them s times. Nil means all 1.
	SampleWeight []T
	// GradOutput is g, for reduction None only: one value per element.
	GradOutput []T
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
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
// Each element is computed in plain Go, in float64, in blocks whose sums are
// added in a fixed order. Reductions, outputs and GradOutput are per
// element, as for SigmoidCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target outside [0, 1] or NaN; ErrOption for a negative or non-finite
// weight, γ+ or γ− negative or not finite, m outside [0, 1), an unknown
// reduction or a GradOutput without None.
func AsymmetricLoss[T Float](shape []int, logits, targets []T, opts AsymmetricOptions[T], out Output[T]) (T, error) {
	a := asymmetricParams{gammaPos: DefaultAsymmetricGammaPos, gammaNeg: DefaultAsymmetricGammaNeg,
		clip: DefaultAsymmetricClip, detach: opts.DetachFocalWeight}
	err := a.set(opts.GammaPos, opts.GammaNeg, opts.Clip)
	c := call[T, int]{shape: shape, logits: logits, targets: targets, kind: Binary, perElement: true, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight, perClass: [2]check.Named[T]{{Name: "weight", V: opts.Weight}}}
	if err := c.validate(err); err != nil {
		return 0, err
	}
	job := parallel.Get[asymmetricJob[T]]()
	*job = asymmetricJob[T]{l: c.dims, x: logits, t: targets, grad: out.Grad, losses: out.Losses, w: opts.Weight,
		red: c.red, p: a}
	// A run is a row of (N, C) (the weights vary along it) or the d1⋯dk
	// elements of one (n, c) (one weight).
	job.run = c.inner
	if c.inner == 1 {
		job.run = c.c
	}
	job.b = newBlocking(c.elements/max(job.run, 1), job.run)
	return c.red.value(runJob(job, job.b, opts.Workers)), nil
}

// asymmetricParams are the loss's numbers, validated.
type asymmetricParams struct {
	gammaPos, gammaNeg, clip float64
	detach                   bool
}

// set takes the options that are not nil and checks them.
func (a *asymmetricParams) set(gammaPos, gammaNeg, clip *float64) error {
	var err error
	a.gammaPos, err = exponent("gamma_pos", gammaPos, a.gammaPos)
	if err != nil {
		return err
	}
	if a.gammaNeg, err = exponent("gamma_neg", gammaNeg, a.gammaNeg); err != nil {
		return err
	}
	if clip != nil {
		if m := *clip; !(m >= 0 && m < 1) {
			return optionError("clip %v is outside [0, 1)", m)
		}
		a.clip = *clip
	}
	return nil
}

// exponent returns *v, or def when v is nil, checked to be a finite
// number ≥ 0.
func exponent(name string, v *float64, def float64) (float64, error) {
	if v == nil {
		return def, nil
	}
	if g := *v; !(g >= 0) || math.IsInf(g, 1) {
		return 0, optionError("%s %v is not a finite number ≥ 0", name, g)
	}
	return *v, nil
}

// asymmetricJob is AsymmetricLoss's computation: blocks of runs of
// elements.
type asymmetricJob[T Float] struct {
	l                  dims
	x, t, grad, losses []T
	w                  []T
	red                reducer[T]
	p                  asymmetricParams
	run                int // elements per run
	b                  blocking
}

func (j *asymmetricJob[T]) Block(i int) float64 {
	lo, hi := j.b.span(i)
	sum := 0.0
	for r := lo; r < hi; r++ {
		for k, e := 0, r*j.run; k < j.run; k, e = k+1, e+1 {
			c := k // a row of (N, C): element k is class k
			if j.l.inner > 1 {
				c = r % j.l.c
			}
			w := classWeight(j.w, c)
			li, d := j.p.element(float64(j.x[e]), float64(j.t[e]))
			li, d = w*li, w*d
			if j.grad != nil {
				j.grad[e] = T(d * j.red.scale(e))
			}
			if j.losses != nil {
				j.losses[e] = T(li * j.red.weight(e))
			}
			sum += j.red.add(e, li)
		}
	}
	return sum
}

// element returns the loss and derivative of one element with logit x and
// target t, unweighted.
func (a *asymmetricParams) element(x, t float64) (loss, grad float64) {
	big, small, e := kernel.Sigmoids(x)
	sx, smx := big, small // σ(x), σ(−x)
	if x < 0 {
		sx, smx = small, big
	}
	sp := math.Log1p(e)      // softplus(−|x|)
	spNeg := max(-x, 0) + sp // softplus(−x) = −log p
	spPos := max(x, 0) + sp  // softplus(x) = −log(1 − p)
	if t != 0 {              // the positive term: t·(1−p)^γ+·softplus(−x)
		f := power(smx, a.gammaPos) // (1−p)^γ+
		loss = t * f * spNeg
		if a.detach {
			grad = -t * f * smx
		} else {
			grad = t * f * (-a.gammaPos*sx*spNeg - smx)
		}
	}
	if t == 1 {
		return loss, grad
	}
	// The negative term: (1−t)·p_m^γ−·(−log(1 − p_m)), p_m = max(p − m, 0).
	if a.clip == 0 {
		f := power(sx, a.gammaNeg) // p^γ−
		loss += (1 - t) * f * spPos
		if a.detach {
			grad += (1 - t) * f * sx
		} else if f != 0 {
			// log(1−p)/p = −softplus(x)/σ(x)
			grad += (1 - t) * f * (sx + a.gammaNeg*smx*spPos)
		}
		return loss, grad
	}
	pm := sx - a.clip
	if !(pm > 0) {
		return loss, grad // p ≤ m: the term and its derivative are 0 (and 0^0·log 1 = 0)
	}
	onePm := smx + a.clip // 1 − p_m < 1
	var logOnePm float64  // log(1 − p_m), accurate where p_m is small and where it is near 1
	if pm < 0.5 {
		logOnePm = math.Log1p(-pm)
	} else {
		logOnePm = math.Log(onePm)
	}
	f := power(pm, a.gammaNeg)
	loss -= (1 - t) * f * logOnePm
	ss := sx * smx
	if a.detach {
		grad += (1 - t) * ss * f / onePm
	} else {
		grad += (1 - t) * ss * f * (1/onePm - a.gammaNeg*logOnePm/pm)
	}
	return loss, grad
}

// power returns b^g with 0^0 = 1, by multiplication for whole g up to 16.
func power(b, g float64) float64 {
	switch {
	case g == 0:
		return 1
	case g == math.Trunc(g) && g <= 16:
		r := b
		for k := 1; k < int(g); k++ {
			r *= b
		}
		return r
	}
	return math.Pow(b, g)
}

// asymmetricConfig is AsymmetricLoss for Evaluate.
func asymmetricConfig[T Float](c Config[T], shape []int, logits []T, _ []int64, targets []T, out Output[T]) (T, error) {
	return AsymmetricLoss(shape, logits, targets, AsymmetricOptions[T]{Reduction: c.Reduction, Weight: c.Weight,
		GammaPos: c.GammaPos, GammaNeg: c.GammaNeg, Clip: c.Clip, DetachFocalWeight: c.DetachFocalWeight,
		SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
