package xent

import (
	"fmt"
	"math"

	"github.com/xent-go/xent/internal/check"
	"github.com/xent-go/xent/internal/num"
)

// Float is the element type of logits, probability targets, weights,
// gradients and losses: float32 or float64.
type Float = num.Float

// Index is the element type of class-index targets. PyTorch's targets are
// int64; numpy label files are often int32 or uint8.
type Index = num.Index

// DefaultIgnoreIndex is the target value whose positions are skipped when
// an IgnoreIndex option is nil, as in PyTorch. Another index is set with
// Go's new: IgnoreIndex: new(255).
const DefaultIgnoreIndex = check.DefaultIgnoreIndex

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

// classWeight returns w[c], or 1 when w is nil.
func classWeight[T Float](w []T, c int) float64 {
	if w == nil {
		return 1
	}
	return float64(w[c])
}
