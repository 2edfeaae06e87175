package xent

import "github.com/xent-go/xent/internal/kernel"

// elementsOf describes elements [from, to) of the sigmoid losses for
// internal/kernel; the gradient scale is the reduction's.
func elementsOf[T Float](x, t, grad, losses []T, red *reducer[T], from, to int, w, q []T, ws, qs T) kernel.Elements[T] {
	e := kernel.Elements[T]{X: x[from:to], T: t[from:to], W: w, Q: q, WS: ws, QS: qs}
	if red.reduction == None && red.gradOutput != nil {
		e.G = red.gradOutput[from:to]
	} else {
		e.GS = T(red.scale(0))
	}
	if grad != nil {
		e.Grad = grad[from:to]
	}
	if losses != nil {
		e.Losses = losses[from:to]
	}
	return e
}
