package xent

import (
	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
)

// elementKernel says which element kernel an elementJob runs.
type elementKernel int

const (
	sigmoidKernel elementKernel = iota
	sigmoidFocalKernel
	asymmetricKernel
)

// elementJob is the computation of the per-element losses: blocks of runs
// of elements handed to an element kernel of internal/kernel. Without
// class weights the elements are one stream; with them, a run is a row of
// (N, C) (the weights vary along it) or the d1⋯dk elements of one (n, c)
// (one weight).
type elementJob[T Float] struct {
	l                  dims
	x, t, grad, losses []T
	w, q               []T
	red                reducer[T]
	weighted           bool // class weights or positive weights are set
	run                int  // elements per run
	b                  blocking

	kernel       elementKernel
	alpha, gamma float64                 // sigmoid-focal
	asymmetric   kernel.AsymmetricParams // asymmetric
}

// newElementJob returns the job of a validated call of a per-element loss
// with class weights w and positive weights q (either may be nil), for the
// caller to set the kernel and its parameters.
func newElementJob[T Float](c *call[T, int], w, q []T) *elementJob[T] {
	job := parallel.Get[elementJob[T]]()
	*job = elementJob[T]{l: c.dims, x: c.logits, t: c.targets, grad: c.out.Grad, losses: c.out.Losses, w: w, q: q, red: c.red,
		// With sample weights on (N, C, d1…dk), runs of one (n, c) take the sample
		// weights of their consecutive positions as W; on (N, C) without class
		// or positive weights a block of whole rows is one call with the
		// sample weights as its row weights.
		weighted: w != nil || q != nil || c.sample != nil && c.inner > 1}
	switch {
	case job.weighted || c.sample != nil:
		job.run = c.c
		if c.inner > 1 {
			job.run = c.inner
		}
	default:
		job.run = 1
	}
	job.b = newBlocking(c.elements/max(job.run, 1), job.run)
	return job
}

// rowWeightsMin is the least row length for which sample weights on (N, C)
// are the kernel's row weights: a row costs the kernel a masked vector at
// its end, which for shorter rows costs more than filling their weights.
const rowWeightsMin = 16

// run runs the job on the workers and returns its value.
func (j *elementJob[T]) runOn(workers int) T {
	red := j.red // runJob clears the job
	return red.value(runJob(j, j.b, workers))
}

func (j *elementJob[T]) Block(i int) float64 {
	lo, hi := j.b.span(i)
	buf := weightBufFor(&j.red)
	defer putWeightBuf(buf)
	if !j.weighted { // one call for the block
		e := elementsOf(j.x, j.t, j.grad, j.losses, &j.red, lo*j.run, hi*j.run, nil, nil, 1, 1, buf)
		return j.call(&e)
	}
	sum := 0.0
	for r := lo; r < hi; r++ {
		from, to := r*j.run, (r+1)*j.run
		var e kernel.Elements[T]
		if j.l.inner == 1 { // a row: the weights vary along it
			e = elementsOf(j.x, j.t, j.grad, j.losses, &j.red, from, to, j.w, j.q, 1, 1, buf)
		} else { // the elements of one (n, c)
			c := r % j.l.c
			e = elementsOf(j.x, j.t, j.grad, j.losses, &j.red, from, to, nil, nil, T(classWeight(j.w, c)), T(classWeight(j.q, c)), buf)
		}
		sum += j.call(&e)
	}
	return sum
}

// call runs the job's kernel on e.
func (j *elementJob[T]) call(e *kernel.Elements[T]) float64 {
	switch j.kernel {
	case sigmoidFocalKernel:
		return kernel.SigmoidFocal(e, j.alpha, j.gamma)
	case asymmetricKernel:
		return kernel.Asymmetric(e, j.asymmetric)
	}
	return kernel.Sigmoid(e)
}

// elementsOf describes elements [from, to) of the sigmoid losses for
// internal/kernel: the gradient scale is the reduction's, and w, q, ws, qs
// the weights. With sample weights, whole (N, C) rows without w take them
// as the kernel's row weights (S, ws·s a row); otherwise each element's
// weight (w_i or ws) times its position's s goes in a per-element W (the
// sample weights themselves for consecutive positions, or products taken
// from buf), so that the kernels weigh loss and gradient with it. Either
// way an element's weight is the one rounded product.
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
		inner, c := red.d.inner, red.d.c
		switch {
		case inner == 1 && w == nil && c >= rowWeightsMin && from%c == 0 && to%c == 0: // whole rows, one position each: row weights
			e.S = red.sample[from/c : to/c]
		case inner > 1 && w == nil && ws == 1 && to-from <= inner-from%inner: // consecutive positions
			n, s := from/(c*inner), from%inner
			e.W = red.sample[n*inner+s : n*inner+s+(to-from)]
		default:
			e.W = sampleWeighted(buf.grow(to-from), red, from, w, ws)
		}
	}
	return e
}

// sampleWeighted fills sw with the weights of elements from … from+len(sw)
// (w_k, or ws when w is nil) times their positions' sample weights: row by
// row for an (N, C) shape (one position a row), otherwise in runs of one
// (n, c), whose positions are consecutive and whose callers give no w.
func sampleWeighted[T Float](sw []T, red *reducer[T], from int, w []T, ws T) []T {
	inner, per := red.d.inner, red.d.c*red.d.inner
	for k := 0; k < len(sw); {
		e := from + k
		var run int
		if inner == 1 && w == nil && e%per == 0 && len(sw)-k >= per { // whole rows, in one call
			rows := (len(sw) - k) / per
			kernel.FillRows(sw[k:k+rows*per], red.sample[e/per:e/per+rows], per, ws)
			k += rows * per
			continue
		}
		if inner == 1 { // a row: one position
			run = min(per-e%per, len(sw)-k)
			s := red.sample[e/per]
			dst := sw[k : k+run]
			if w == nil {
				fill(dst, ws*s)
			} else { // w·s, one rounding, in the SIMD kernel
				copy(dst, w[k:k+run])
				kernel.ScaleAdd(dst, s, nil, 0, 0)
			}
		} else { // consecutive positions of one (n, c), whose weight is ws (w is nil)
			n, s := e/per, e%inner
			run = min(inner-s, len(sw)-k)
			dst := sw[k : k+run]
			copy(dst, red.sample[n*inner+s:n*inner+s+run])
			if ws != 1 {
				kernel.ScaleAdd(dst, ws, nil, 0, 0)
			}
		}
		k += run
	}
	return sw
}

// fill sets every value of dst to v, by doubling copies (copy is a
// vectorised memmove; a loop of stores is not vectorised).
func fill[T Float](dst []T, v T) {
	if len(dst) == 0 {
		return
	}
	dst[0] = v
	for n := 1; n < len(dst); n *= 2 {
		copy(dst[n:], dst[:n])
	}
}

// weightBuf holds the per-element weights of sample-weighted elements, on a
// free list from call to call.
type weightBuf[T Float] struct{ w []T }

// weightBufFor returns a buffer from the free list when red has sample
// weights, nil otherwise; putWeightBuf returns it.
func weightBufFor[T Float](red *reducer[T]) *weightBuf[T] {
	if red.sample == nil {
		return nil
	}
	return parallel.Get[weightBuf[T]]()
}

func putWeightBuf[T Float](b *weightBuf[T]) {
	if b != nil {
		parallel.Put(b)
	}
}

func (b *weightBuf[T]) grow(n int) []T {
	if cap(b.w) < n {
		b.w = make([]T, n)
	}
	return b.w[:n]
}
