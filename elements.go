package xent

import (
	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
)

// elementsOf describes elements [from, to) of the sigmoid losses for
// internal/kernel: the gradient scale is the reduction's, and w, q, ws, qs
// the weights. With sample weights, each element's weight (w_i or ws)
// times its position's s goes in a per-element W, taken from buf, so that
// the kernels weigh loss and gradient with it; with s = 1 the products are
// the weights themselves, and the results the same to the bit.
func elementsOf[T Float](x, t, grad, losses []T, red *reducer[T], from, to int, w, q []T, ws, qs T, buf *weightBuf[T]) kernel.Elements[T] {
	e := kernel.Elements[T]{X: x[from:to], T: t[from:to], W: w, Q: q, WS: ws, QS: qs}
	if red.reduction == None && red.gradOutput != nil {
		e.G = red.gradOutput[from:to]
	} else {
		e.GS = T(red.common())
	}
	if grad != nil {
		e.Grad = grad[from:to]
	}
	if losses != nil {
		e.Losses = losses[from:to]
	}
	if red.sample != nil {
		sw := buf.grow(to - from)
		for k := range sw {
			wk := ws
			if w != nil {
				wk = w[k]
			}
			sw[k] = wk * T(red.weight(from+k))
		}
		e.W = sw
	}
	return e
}

// weightBuf holds the per-element weights of sample-weighted elements, on a
// free list from call to call.
type weightBuf[T Float] struct{ w []T }

func getWeightBuf[T Float]() *weightBuf[T] { return parallel.Get[weightBuf[T]]() }

func (b *weightBuf[T]) grow(n int) []T {
	if cap(b.w) < n {
		b.w = make([]T, n)
	}
	return b.w[:n]
}
