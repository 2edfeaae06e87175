package xent

import "github.com/xent-go/xent/internal/check"

// The sentinels every validation error wraps; test for them with errors.Is.
var (
	// ErrShape: a shape with fewer than two axes, a negative axis, no class,
	// a slice whose length does not match the shape, or an output that
	// shares memory with an input or another output.
	ErrShape = check.ErrShape
	// ErrTarget: a target outside the values the loss accepts.
	ErrTarget = check.ErrTarget
	// ErrOption: an option out of range (weights, label smoothing, α, γ,
	// the reduction, an upstream gradient where none is allowed), or one
	// that the loss does not take.
	ErrOption = check.ErrOption
)

// Error is the error every function of this package returns for bad input:
// Kind is the sentinel (ErrShape, ErrTarget or ErrOption), which Unwrap
// returns, and Msg the message without the "xent: " prefix, naming the
// offending position and value.
type Error = check.Error

func shapeError(format string, args ...any) error  { return check.Shape(format, args...) }
func targetError(format string, args ...any) error { return check.Target(format, args...) }
func optionError(format string, args ...any) error { return check.Option(format, args...) }
