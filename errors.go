package xent

import (
	"errors"
	"fmt"
)

// The sentinels every validation error wraps; test for them with errors.Is.
var (
	// ErrShape: a shape with fewer than two axes, a negative axis, no class,
	// or a slice whose length does not match the shape.
	ErrShape = errors.New("xent: shape mismatch")
	// ErrTarget: a target outside the values the loss accepts.
	ErrTarget = errors.New("xent: invalid target")
	// ErrOption: an option out of range (weights, label smoothing, α, γ,
	// the reduction, an upstream gradient where none is allowed).
	ErrOption = errors.New("xent: invalid option")
)

// Error is the error every function of this package returns for bad input.
// Its message names the offending position and value; Unwrap gives the
// sentinel (ErrShape, ErrTarget or ErrOption).
type Error struct {
	Kind error  // ErrShape, ErrTarget or ErrOption
	Msg  string // the message without the "xent: " prefix
}

func (e *Error) Error() string { return "xent: " + e.Msg }

// Unwrap returns the sentinel, so that errors.Is(err, ErrTarget) holds.
func (e *Error) Unwrap() error { return e.Kind }

func shapeError(format string, args ...any) error {
	return &Error{Kind: ErrShape, Msg: fmt.Sprintf(format, args...)}
}

func targetError(format string, args ...any) error {
	return &Error{Kind: ErrTarget, Msg: fmt.Sprintf(format, args...)}
}

func optionError(format string, args ...any) error {
	return &Error{Kind: ErrOption, Msg: fmt.Sprintf(format, args...)}
}
