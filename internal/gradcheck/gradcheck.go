// Package gradcheck compares the analytic gradient of an xent loss with a
// finite-difference estimate, in float64.
package gradcheck

import (
	"math"
	"math/rand/v2"

	"github.com/xent-go/xent"
)

// Result is the outcome of a check.
type Result struct {
	// WorstRelative is the largest relative error over the logits:
	// |fd − an| / max(|an|, 10⁻³·max|an|, 10⁻¹²), with fd the central
	// difference and an the analytic gradient.
	WorstRelative float64
	// WorstAt is the flat index of the logit where it occurs.
	WorstAt int
	// Analytic and Numeric are the two gradients at WorstAt.
	Analytic, Numeric float64
	// MaxGrad is max|an|.
	MaxGrad float64
}

// Check evaluates cfg on logits (shape shape) with the given targets, and
// compares the gradient it writes with the five-point central difference
// (f(x−2h) − 8f(x−h) + 8f(x+h) − f(x+2h))/12h, h = 10⁻³·max(1, |x|), whose
// truncation error is O(h⁴). logits is restored before Check returns.
func Check(cfg xent.Config[float64], shape []int, logits []float64, indices []int64, targets []float64) (Result, error) {
	grad := make([]float64, len(logits))
	if _, err := xent.Evaluate(cfg, shape, logits, indices, targets, xent.Output[float64]{Grad: grad}); err != nil {
		return Result{}, err
	}
	f := func() float64 {
		v, err := xent.Evaluate(cfg, shape, logits, indices, targets, xent.Output[float64]{})
		if err != nil {
			panic(err) // the same inputs were accepted above
		}
		return v
	}
	var r Result
	for _, g := range grad {
		r.MaxGrad = math.Max(r.MaxGrad, math.Abs(g))
	}
	floor := math.Max(1e-3*r.MaxGrad, 1e-12)
	for i, x := range logits {
		h := 1e-3 * math.Max(1, math.Abs(x))
		at := func(d float64) float64 {
			logits[i] = x + d
			return f()
		}
		fd := (at(-2*h) - 8*at(-h) + 8*at(h) - at(2*h)) / (12 * h)
		logits[i] = x
		rel := math.Abs(fd-grad[i]) / math.Max(math.Abs(grad[i]), floor)
		if rel > r.WorstRelative || math.IsNaN(rel) {
			r.WorstRelative, r.WorstAt, r.Analytic, r.Numeric = rel, i, grad[i], fd
		}
	}
	return r, nil
}

// RandomInputs draws logits uniform in [−4, 4] for loss on shape, and
// targets by the loss's kind (xent.Spec.Targets): class indices with about
// one position in five set to xent.DefaultIgnoreIndex; binary targets 0 or
// 1 with a third of them soft; probabilities in [0, 1]; multi-hot rows with
// counts of 1 or 2 (and some empty rows).
func RandomInputs(rng *rand.Rand, loss xent.Loss, shape []int) (logits []float64, indices []int64, targets []float64) {
	spec, _ := loss.Spec()
	elements := 1
	for _, d := range shape {
		elements *= d
	}
	classes := shape[1]
	positions := elements / classes
	logits = make([]float64, elements)
	for i := range logits {
		logits[i] = 8*rng.Float64() - 4
	}
	switch spec.Targets {
	case xent.ClassIndices:
		indices = make([]int64, positions)
		for p := range indices {
			indices[p] = int64(rng.IntN(classes))
			if rng.IntN(5) == 0 {
				indices[p] = xent.DefaultIgnoreIndex
			}
		}
	case xent.Binary:
		targets = make([]float64, elements)
		for i := range targets {
			targets[i] = float64(rng.IntN(2))
			if rng.IntN(3) == 0 {
				targets[i] = rng.Float64()
			}
		}
	case xent.Probabilities:
		targets = make([]float64, elements)
		for i := range targets {
			targets[i] = rng.Float64()
		}
	case xent.MultiHot:
		targets = make([]float64, elements)
		for i := range targets {
			if rng.IntN(3) == 0 {
				targets[i] = float64(1 + rng.IntN(2))
			}
		}
	}
	return logits, indices, targets
}

// PositiveWeights draws n weights uniform in [0.1, 2.1].
func PositiveWeights(rng *rand.Rand, n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.1 + 2*rng.Float64()
	}
	return w
}
