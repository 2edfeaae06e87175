package xent

import (
	"fmt"
	"math"
	"strings"
)

// Reduction says how the per-position losses l_i become one number.
// The zero value is Mean, PyTorch's default.
type Reduction int

const (
	// Mean divides the sum by the loss's own count: the weighted count of
	// counted targets for softmax, the number of counted positions for
	// multilabel-softmax and softmax-focal, the number of positions for
	// softmax-prob, the number of elements for sigmoid, sigmoid-focal and
	// asymmetric.
	// With sample weights each position counts s times (s·w_y for
	// softmax). A mean over nothing is 0 with a zero gradient (PyTorch
	// gives NaN).
	Mean Reduction = iota
	// Sum adds the losses.
	Sum
	// None keeps one loss per position (per element for the sigmoid losses)
	// in Output.Losses; the gradient is that of Σ g_i·l_i with g the
	// options' GradOutput (all ones when nil), and so is the returned value.
	None
	// BatchMean divides the sum by N, the batch size: the tutorial's "add up
	// and divide by the batch size", Caffe's BATCH_SIZE normalization.
	BatchMean
)

var reductionNames = [...]string{Mean: "mean", Sum: "sum", None: "none", BatchMean: "batchmean"}

// String returns the name ParseReduction accepts: mean, sum, none, batchmean.
func (r Reduction) String() string {
	if r >= 0 && int(r) < len(reductionNames) {
		return reductionNames[r]
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// ParseReduction maps "mean", "sum", "none" and "batchmean" to a Reduction.
// Any other name is an error wrapping ErrOption.
func ParseReduction(name string) (Reduction, error) {
	for r, n := range reductionNames {
		if n == name {
			return Reduction(r), nil
		}
	}
	return 0, optionError("reduction %q is not one of %s", name, strings.Join(reductionNames[:], ", "))
}

// reducer turns per-position losses into the reduced value and gives the
// factor each position's gradient is scaled by.
type reducer[T Float] struct {
	reduction  Reduction
	gradOutput []T     // None only; nil means all ones
	inverse    float64 // 1/count for Mean and BatchMean
	empty      bool    // Mean or BatchMean over a zero count
	// sample are the sample weights, one per position, or nil; with
	// perElement, loss i is element i of the shape d, at position
	// (i / (C·inner))·inner + i mod inner.
	sample     []T
	perElement bool
	d          dims
}

// newReducer validates the reduction and the upstream gradient (perLoss
// values, for None only) and fixes the divisor: count for Mean, N for
// BatchMean.
func newReducer[T Float](l layout, r Reduction, gradOutput []T, perLoss int, count float64) (reducer[T], error) {
	if r < Mean || r > BatchMean {
		return reducer[T]{}, optionError("reduction %d is not Mean, Sum, None or BatchMean", int(r))
	}
	if gradOutput != nil {
		if r != None {
			return reducer[T]{}, optionError("an upstream gradient (GradOutput) is only allowed with reduction none, not %v", r)
		}
		if err := l.checkLen("upstream gradient (GradOutput)", len(gradOutput), perLoss); err != nil {
			return reducer[T]{}, err
		}
	}
	red := reducer[T]{reduction: r, gradOutput: gradOutput}
	switch r {
	case BatchMean:
		count = float64(l.n)
		fallthrough
	case Mean:
		switch {
		case count == 0:
			red.empty = true
		case math.IsInf(1/count, 1):
			return reducer[T]{}, optionError("the mean's divisor %g (the weights of the counted targets) is too small to divide by", count)
		default:
			red.inverse = 1 / count
		}
	}
	return red, nil
}

// sub returns the reducer of losses p0 … p0+n numbered from 0, which are
// positions (the softmax family's tiles).
func (r reducer[T]) sub(p0, n int) reducer[T] {
	if r.gradOutput != nil {
		r.gradOutput = r.gradOutput[p0 : p0+n]
	}
	if r.sample != nil {
		r.sample = r.sample[p0 : p0+n]
	}
	return r
}

// weight is the sample weight of loss i: 1 without sample weights.
func (r *reducer[T]) weight(i int) float64 {
	switch {
	case r.sample == nil:
		return 1
	case r.perElement:
		per := r.d.c * r.d.inner
		return float64(r.sample[(i/per)*r.d.inner+i%r.d.inner])
	}
	return float64(r.sample[i])
}

// scale is the factor of the gradient of loss i (its sample weight
// included).
func (r *reducer[T]) scale(i int) float64 {
	g := r.common()
	if r.reduction == None && r.gradOutput != nil {
		g = float64(r.gradOutput[i])
	}
	if r.sample != nil {
		g *= r.weight(i)
	}
	return g
}

// common is the factor of every loss's gradient without an upstream
// gradient and before sample weights: 1 for None and Sum, 1/count for
// Mean and BatchMean.
func (r *reducer[T]) common() float64 {
	if r.reduction == None || r.reduction == Sum {
		return 1
	}
	return r.inverse
}

// add returns the contribution of loss li (at index i, before its sample
// weight) to the reduced sum: s_i·g_i·l_i for None, s_i·l_i otherwise.
func (r *reducer[T]) add(i int, li float64) float64 {
	if r.sample != nil {
		li *= r.weight(i)
	}
	if r.reduction == None && r.gradOutput != nil {
		return float64(r.gradOutput[i]) * li
	}
	return li
}

// value turns the sum of add's results into the returned loss.
func (r *reducer[T]) value(sum float64) T {
	switch r.reduction {
	case Mean, BatchMean:
		if r.empty {
			return 0
		}
		return T(sum * r.inverse)
	}
	return T(sum)
}
