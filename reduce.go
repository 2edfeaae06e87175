package xent

import (
	"fmt"
	"math"
	"strings"

	"github.com/xent-go/xent/internal/mem"
)

// Float is the element type of logits, probability targets, weights,
// gradients and losses.
type Float interface{ ~float32 | ~float64 }

// Index is the element type of class-index targets. PyTorch's targets are
// int64; numpy label files are often int32 or uint8.
type Index interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32
}

// DefaultIgnoreIndex is the target value whose positions are skipped when
// SoftmaxOptions.IgnoreIndex is nil, as in PyTorch. Another index is set
// with Go's new: IgnoreIndex: new(255).
const DefaultIgnoreIndex = -100

// Reduction says how the per-position losses l_i become one number.
// The zero value is Mean, PyTorch's default.
type Reduction int

const (
	// Mean divides the sum by the loss's own count: the weighted count of
	// counted targets for softmax, the number of counted positions for
	// multilabel-softmax and softmax-focal, the number of positions for
	// softmax-prob, the number of elements for sigmoid and sigmoid-focal.
	// A mean over nothing is 0 with a zero gradient (PyTorch gives NaN).
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

// Output holds the buffers a loss writes into; both are owned by the caller
// and either may be nil. They must not share memory with each other or with
// any input (logits, targets, weights, GradOutput), which the loss reads
// while it writes: an overlap is an error wrapping ErrShape.
type Output[T Float] struct {
	// Grad receives d(loss)/d(logits), the logits' shape. Nil computes the
	// value only.
	Grad []T
	// Losses receives the loss of each position (each element for the
	// sigmoid losses) before reduction, whatever the reduction. Ignored and
	// uncounted positions get 0.
	Losses []T
}

// dims are the sizes of a shape (N, C, d1…dk) that the computation needs:
// the logit of class c at position (n, s) is at n·C·inner + c·inner + s,
// with inner = d1⋯dk. Jobs keep dims, not the caller's shape slice, which
// would otherwise escape to the heap.
type dims struct{ n, c, inner int }

// rowBase returns the index of class 0 of position p.
func (d dims) rowBase(p int) int {
	return (p/d.inner)*d.c*d.inner + p%d.inner
}

// layout is a validated shape.
type layout struct {
	dims
	shape     []int
	positions int // N·inner
	elements  int // N·C·inner
}

// maxElements keeps every index product inside an int on 32-bit machines too.
const maxElements = math.MaxInt32

func newLayout(shape []int) (layout, error) {
	if len(shape) < 2 {
		return layout{}, shapeError("shape %v has %d axes; want at least 2, (N, C, d1…dk)", shape, len(shape))
	}
	for axis, d := range shape {
		if d < 0 {
			return layout{}, shapeError("shape %v: axis %d is negative (%d)", shape, axis, d)
		}
	}
	if shape[1] == 0 {
		return layout{}, shapeError("shape %v has no class: C = 0", shape)
	}
	elements := 1
	for _, d := range shape {
		if d != 0 && elements > maxElements/d {
			return layout{}, shapeError("shape %v has more than %d elements", shape, maxElements)
		}
		elements *= d
	}
	inner := 1
	for _, d := range shape[2:] {
		inner *= d
	}
	return layout{
		dims:  dims{n: shape[0], c: shape[1], inner: inner},
		shape: shape, positions: shape[0] * inner, elements: elements,
	}, nil
}

// checkLen reports a slice whose length is not want.
func (l layout) checkLen(what string, got, want int) error {
	if got != want {
		return shapeError("%s has %d values; shape %v needs %d", what, got, l.shape, want)
	}
	return nil
}

// checkOutput checks the lengths of the output buffers; perLoss is the
// number of losses (positions, or elements for the sigmoid losses).
func (l layout) checkOutput(grad, losses int, hasGrad, hasLosses bool, perLoss int) error {
	if hasGrad {
		if err := l.checkLen("gradient buffer", grad, l.elements); err != nil {
			return err
		}
	}
	if hasLosses {
		return l.checkLen("losses buffer", losses, perLoss)
	}
	return nil
}

// input is a slice a loss reads, named for error messages.
type input[T Float] struct {
	name string
	v    []T
}

// checkOverlap reports an output buffer of out that shares memory with the
// other or with one of the inputs.
func checkOverlap[T Float](out Output[T], inputs ...input[T]) error {
	for _, o := range [...]input[T]{{"gradient buffer", out.Grad}, {"losses buffer", out.Losses}} {
		for _, in := range inputs {
			if mem.Overlap(o.v, in.v) {
				return shapeError("the %s shares memory with the %s", o.name, in.name)
			}
		}
	}
	if mem.Overlap(out.Grad, out.Losses) {
		return shapeError("the gradient buffer shares memory with the losses buffer")
	}
	return nil
}

// position names position p (0 ≤ p < N·inner) for error messages: its flat
// number and, for a shape with spatial axes, its index (n, d1…dk).
func (l layout) position(p int) string {
	if len(l.shape) == 2 {
		return fmt.Sprintf("position %d", p)
	}
	idx := make([]int, len(l.shape)-1) // n, d1…dk
	rest := p
	for axis := len(l.shape) - 1; axis >= 2; axis-- {
		idx[axis-1] = rest % l.shape[axis]
		rest /= l.shape[axis]
	}
	idx[0] = rest
	return fmt.Sprintf("position %d %v", p, idx)
}

// element names element i of the logits' shape for error messages.
func (l layout) element(i int) string {
	idx := make([]int, len(l.shape))
	for axis := len(l.shape) - 1; axis >= 0; axis-- {
		if l.shape[axis] > 0 {
			idx[axis] = i % l.shape[axis]
			i /= l.shape[axis]
		}
	}
	return fmt.Sprintf("element %v", idx)
}

// reducer turns per-position losses into the reduced value and gives the
// factor each position's gradient is scaled by.
type reducer[T Float] struct {
	reduction  Reduction
	gradOutput []T     // None only; nil means all ones
	inverse    float64 // 1/count for Mean and BatchMean
	empty      bool    // Mean or BatchMean over a zero count
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

// sub returns the reducer of losses p0 … p0+n numbered from 0.
func (r reducer[T]) sub(p0, n int) reducer[T] {
	if r.gradOutput != nil {
		r.gradOutput = r.gradOutput[p0 : p0+n]
	}
	return r
}

// scale is the factor of the gradient of loss i.
func (r *reducer[T]) scale(i int) float64 {
	switch r.reduction {
	case None:
		if r.gradOutput != nil {
			return float64(r.gradOutput[i])
		}
		return 1
	case Sum:
		return 1
	default:
		return r.inverse
	}
}

// add returns the contribution of loss li (at index i) to the reduced sum:
// g_i·l_i for None, l_i otherwise.
func (r *reducer[T]) add(i int, li float64) float64 {
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

// checkClassWeights validates per-class weights: nil, or C finite values ≥ 0.
func checkClassWeights[T Float](name string, w []T, c int) error {
	if w == nil {
		return nil
	}
	if len(w) != c {
		return shapeError("%s has %d values; want one per class, C = %d", name, len(w), c)
	}
	for i, v := range w {
		if f := float64(v); !(f >= 0) || math.IsInf(f, 1) {
			return optionError("%s[%d] = %v is not a finite number ≥ 0", name, i, f)
		}
	}
	return nil
}

// classWeight returns w[c], or 1 when w is nil.
func classWeight[T Float](w []T, c int) float64 {
	if w == nil {
		return 1
	}
	return float64(w[c])
}
