// Package check holds the validation that package xent and package linear
// share: the error type and its sentinels (which xent re-exports), per-class
// weights, label smoothing, class-index targets with their ignore index,
// the reduction, and buffers that share memory. Every check returns an
// *Error naming the position and the value, before anything is written.
package check

import (
	"errors"
	"fmt"
	"math"

	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/mem"
	"github.com/xent-go/xent/internal/num"
)

// The sentinels every validation error wraps; xent exports them.
var (
	ErrShape  = errors.New("xent: shape mismatch")
	ErrTarget = errors.New("xent: invalid target")
	ErrOption = errors.New("xent: invalid option")
)

// Error is a validation error: a sentinel and a message.
type Error struct {
	Kind error  // ErrShape, ErrTarget or ErrOption
	Msg  string // the message without the "xent: " prefix
}

func (e *Error) Error() string { return "xent: " + e.Msg }

// Unwrap returns the sentinel, so that errors.Is(err, ErrTarget) holds.
func (e *Error) Unwrap() error { return e.Kind }

// Shape, Target and Option format an error of each kind.
func Shape(format string, args ...any) error {
	return &Error{Kind: ErrShape, Msg: fmt.Sprintf(format, args...)}
}

func Target(format string, args ...any) error {
	return &Error{Kind: ErrTarget, Msg: fmt.Sprintf(format, args...)}
}

func Option(format string, args ...any) error {
	return &Error{Kind: ErrOption, Msg: fmt.Sprintf(format, args...)}
}

// Float and Index are the element types.
type (
	Float = num.Float
	Index = num.Index
)

// DefaultIgnoreIndex is the ignore index when none is given, as in PyTorch.
const DefaultIgnoreIndex = -100

// ClassWeights validates per-class weights: nil, or c finite values ≥ 0.
func ClassWeights[T Float](name string, w []T, c int) error {
	if w == nil {
		return nil
	}
	if len(w) != c {
		return Shape("%s has %d values; want one per class, C = %d", name, len(w), c)
	}
	for i, v := range w {
		if f := float64(v); !(f >= 0) || math.IsInf(f, 1) {
			return Option("%s[%d] = %v is not a finite number ≥ 0", name, i, f)
		}
	}
	return nil
}

// SampleWeights validates sample weights: nil, or n finite values ≥ 0;
// where names position i in the error.
func SampleWeights[T Float](s []T, n int, where func(i int) string) error {
	if s == nil {
		return nil
	}
	if len(s) != n {
		return Shape("sample weights has %d values; want one per position, %d", len(s), n)
	}
	if i := kernel.FirstOutside(s, 0, num.MaxFinite[T]()); i >= 0 {
		return Option("sample weight %v at %s is not a finite number ≥ 0", float64(s[i]), where(i))
	}
	return nil
}

// LabelSmoothing validates ε ∈ [0, 1].
func LabelSmoothing(eps float64) error {
	if !(eps >= 0 && eps <= 1) {
		return Option("label smoothing %v is outside [0, 1]", eps)
	}
	return nil
}

// Reduction validates a reduction number: Mean 0, Sum 1, None 2,
// BatchMean 3, as package xent numbers them.
func Reduction(r int) error {
	if r < 0 || r > 3 {
		return Option("reduction %d is not Mean, Sum, None or BatchMean", r)
	}
	return nil
}

// IgnoreIndex returns the ignore index an option gives: *option, or
// DefaultIgnoreIndex when it is nil.
func IgnoreIndex(option *int) int64 {
	if option == nil {
		return DefaultIgnoreIndex
	}
	return int64(*option)
}

// Counted is what IndexTargets finds of the counted targets.
type Counted struct {
	Positions int     // targets that are not the ignore index
	Weight    float64 // Σ s·w_y over them (s = 1 without sample weights, w_y = 1 without w)
	Samples   float64 // Σ s over them (their number without sample weights)
}

// IndexTargets validates class-index targets against c classes: each is
// the ignore index or in [0, c). where names position p in the error. It
// counts the others with their class weights w and sample weights s
// (either nil for all 1).
func IndexTargets[T Float, I Index](targets []I, ignore int64, c int, w, s []T, where func(p int) string) (Counted, error) {
	var n Counted
	for p, y := range targets {
		t := int64(y)
		if t == ignore {
			continue
		}
		if t < 0 || t >= int64(c) {
			return Counted{}, Target("target %d at %s is outside [0, %d)", t, where(p), c)
		}
		n.Positions++
		switch {
		case s != nil:
			wy := 1.0
			if w != nil {
				wy = float64(w[t])
			}
			n.Weight += float64(s[p]) * wy
			n.Samples += float64(s[p])
		case w == nil:
			n.Weight++
		default:
			n.Weight += float64(w[t])
		}
	}
	if s == nil {
		n.Samples = float64(n.Positions)
	}
	return n, nil
}

// Named is a slice a loss reads or writes, named for error messages.
type Named[T Float] struct {
	Name string
	V    []T
}

// Overlap reports the first output that shares memory with an input or
// with a later output. A nil or empty slice shares nothing.
func Overlap[T Float](outputs, inputs []Named[T]) error {
	for i, o := range outputs {
		for _, in := range inputs {
			if mem.Overlap(o.V, in.V) {
				return Shape("the %s shares memory with the %s", o.Name, in.Name)
			}
		}
		for _, later := range outputs[i+1:] {
			if mem.Overlap(o.V, later.V) {
				return Shape("the %s shares memory with the %s", o.Name, later.Name)
			}
		}
	}
	return nil
}
