package xent

import (
	"math"

	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
)

// The softmax-family losses see the C logits of one position as a row with a
// stride: the logit of class c at position (n, s) is x[base + c·stride] with
// base = n·C·inner + s and stride = inner. Rows of an (N, C) shape are
// contiguous and run through internal/kernel (SIMD where the machine has
// it); rows of (N, C, d1…dk) shapes are gathered into row-major tiles
// first (see tiled), or, with more classes than a tile holds, run strided
// in plain Go, in float64.

// rowMax returns max_c x_c over one strided row, or NaN when a logit is NaN.
func rowMax[T Float](x []T, base, stride, classes int) float64 {
	m := math.Inf(-1)
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		v := float64(x[i])
		if v > m {
			m = v
		} else if v != v {
			return v
		}
	}
	return m
}

// rowLogSumExp returns log Σ_c exp(x_c) of one row, computed as
// m + log Σ_c exp(x_c − m) with m the row maximum, and the sum
// s = Σ_c exp(x_c − m). When e is not nil it also stores exp(x_c − m) in e
// at the logits' indices, so that the gradient pass reads p_c = e_c/s.
func rowLogSumExp[T Float](x, e []T, base, stride, classes int) (lse, s float64) {
	if stride == 1 {
		row := x[base : base+classes]
		return logSumExpFrom(row, eRow(e, base, classes), kernel.Max(row))
	}
	m := rowMax(x, base, stride, classes)
	if e == nil {
		for c, i := 0, base; c < classes; c, i = c+1, i+stride {
			s += math.Exp(float64(x[i]) - m)
		}
	} else {
		for c, i := 0, base; c < classes; c, i = c+1, i+stride {
			v := math.Exp(float64(x[i]) - m)
			e[i] = T(v)
			s += v
		}
	}
	return m + kernel.LogOf(s), s
}

// logSumExpFrom returns logsumexp of a contiguous row whose maximum m is
// known, and s = Σ exp(x_c − m), storing the terms in e when it is not nil.
func logSumExpFrom[T Float](row, e []T, m T) (lse, s float64) {
	s = kernel.ExpShiftSum(e, row, m)
	return float64(m) + kernel.LogOf(s), s
}

// eRow returns the row of e at base, or nil for a nil e.
func eRow[T Float](e []T, base, classes int) []T {
	if e == nil {
		return nil
	}
	return e[base : base+classes]
}

// rowScaleAdd sets g_c = a·g_c + b·u_c + c over one row, where u_c is
// u[uBase + c·uStride]: a per-class vector has uBase 0 and uStride 1, a
// per-element one the row's base and stride. u may be nil.
func rowScaleAdd[T Float](g []T, base, stride, classes int, a float64, u []T, uBase, uStride int, b, c float64) {
	if stride == 1 && (u == nil || uStride == 1) {
		var urow []T
		if u != nil {
			urow = u[uBase : uBase+classes]
		}
		kernel.ScaleAdd(g[base:base+classes], T(a), urow, T(b), T(c))
		return
	}
	for k, i := 0, base; k < classes; k, i = k+1, i+stride {
		v := a*float64(g[i]) + c
		if u != nil {
			v += b * float64(u[uBase+k*uStride])
		}
		g[i] = T(v)
	}
}

// rowDotRows returns Σ_c u_c·x_c over one row where u has the logits'
// shape (a target row).
func rowDotRows[T Float](u, x []T, base, stride, classes int) float64 {
	if stride == 1 {
		return kernel.Dot(u[base:base+classes], x[base:base+classes])
	}
	s := 0.0
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		s += float64(u[i]) * float64(x[i])
	}
	return s
}

// rowDot returns Σ_c u_c·x_c over one row, or Σ_c x_c when u is nil.
func rowDot[T Float](u, x []T, base, stride, classes int) float64 {
	if stride == 1 {
		return kernel.Dot(u, x[base:base+classes])
	}
	s := 0.0
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		s += classWeight(u, c) * float64(x[i])
	}
	return s
}

// zeroRow writes 0 into the C gradient values of one position.
func zeroRow[T Float](grad []T, base, stride, classes int) {
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		grad[i] = 0
	}
}

// rowSum returns Σ_c v_c over one row.
func rowSum[T Float](v []T, base, stride, classes int) float64 {
	if stride == 1 {
		return kernel.Dot(nil, v[base:base+classes])
	}
	s := 0.0
	for c, i := 0, base; c < classes; c, i = c+1, i+stride {
		s += float64(v[i])
	}
	return s
}

// tileValues bounds the logits of one tile of a strided softmax-family
// shape: tiles of ⌊tileValues/C⌋ positions are gathered into row-major
// scratch on the stack, computed as contiguous rows (by the SIMD kernels),
// and their gradient scattered back. Shapes with more classes keep the
// strided plain-Go rows.
const tileValues = 2048

// rowJob is what every softmax-family job holds besides its loss's own
// targets and options: the layout, the logits, the element-shaped targets
// (nil for class indices), the outputs, the reducer and the blocks.
type rowJob[T Float] struct {
	l                  dims
	x, t, grad, losses []T
	red                reducer[T]
	b                  blocking
}

// store writes loss li of position p, times its sample weight, to the
// losses buffer, if there is one.
func (r *rowJob[T]) store(p int, li float64) {
	if r.losses != nil {
		if r.red.sample != nil {
			li *= r.red.weight(p)
		}
		r.losses[p] = T(li)
	}
}

// indexRow returns the row base and the class-index target of position p,
// and whether the target counts: an ignored position's gradient row is
// zeroed and its loss is 0.
func indexRow[T Float, I Index](r *rowJob[T], targets []I, ignore int64, p int) (base, y int, counted bool) {
	base = r.l.rowBase(p)
	t := int64(targets[p])
	if t == ignore {
		if r.grad != nil {
			zeroRow(r.grad, base, r.l.inner, r.l.c)
		}
		return base, 0, false
	}
	return base, int(t), true
}

// rowLoss is a softmax-family loss's own part of its job: its index
// targets and options, and its computation.
type rowLoss[T Float, L any] interface {
	// positions computes positions [lo, hi) of r and returns the sum of
	// their (reduction-weighted) losses.
	positions(r rowJob[T], lo, hi int) float64
	// tile returns the loss for positions p0 … p0+n, which a tile holds
	// as positions 0 … n (index targets sliced to them).
	tile(p0, n int) L
}

// rows is the job of a softmax-family loss L: blocks of positions, each
// computed in place or, for an (N, C, d1…dk) shape with few enough
// classes, tile by tile.
type rows[T Float, L rowLoss[T, L]] struct {
	rowJob[T]
	loss L
}

// newRows returns the job of a softmax-family call of loss on the
// validated call c: positions in blocks of about blockElements logits.
func newRows[T Float, I Index, L rowLoss[T, L]](c *call[T, I], loss L) *rows[T, L] {
	job := parallel.Get[rows[T, L]]()
	*job = rows[T, L]{rowJob: rowJob[T]{l: c.dims, x: c.logits, t: c.targets, grad: c.out.Grad, losses: c.out.Losses,
		red: c.red, b: newBlocking(c.positions, c.c)}, loss: loss}
	return job
}

// Block computes the positions of block i and returns the sum of their
// (reduction-weighted) losses.
func (j *rows[T, L]) Block(i int) float64 {
	lo, hi := j.b.span(i)
	if j.l.inner > 1 && j.l.c <= tileValues {
		return j.tiled(lo, hi)
	}
	return j.loss.positions(j.rowJob, lo, hi)
}

// run runs the job on the workers and returns its value. A mean over
// nothing (every target ignored) is 0 with a zero gradient: the rows are
// then not computed, only the gradient cleared.
func (j *rows[T, L]) run(workers int) T {
	red, b, grad := j.red, j.b, j.grad // runJob clears the job
	if red.empty {
		j.grad = nil
	}
	sum := runJob(j, b, workers)
	if red.empty && grad != nil {
		clear(grad)
	}
	return red.value(sum)
}

// tiled computes positions [lo, hi) of an (N, C, d1…dk) shape tile by
// tile, each tile the positions of one n gathered into contiguous rows,
// and returns the sum of the tiles' sums, in order.
func (j *rows[T, L]) tiled(lo, hi int) float64 {
	d := j.l
	buf := getTile[T]()
	defer putTile(buf)
	xs, gs, ts := &buf.x, &buf.g, &buf.t
	per := tileValues / d.c
	sum := 0.0
	for p := lo; p < hi; {
		s := p % d.inner
		n := min(per, hi-p, d.inner-s) // positions of one n
		base := d.rowBase(p)
		size := n * d.c
		gather(xs[:size], j.x, base, d.inner, d.c, n)
		tile := j.rowJob
		tile.l, tile.x, tile.t, tile.grad = dims{n: n, c: d.c, inner: 1}, xs[:size], nil, nil
		tile.losses, tile.red = subLosses(j.losses, p, n), j.red.sub(p, n)
		if j.t != nil {
			tile.t = ts[:size]
			gather(tile.t, j.t, base, d.inner, d.c, n)
		}
		if j.grad != nil {
			tile.grad = gs[:size]
		}
		sum += j.loss.tile(p, n).positions(tile, 0, n)
		if j.grad != nil {
			scatter(j.grad, tile.grad, base, d.inner, d.c, n)
		}
		p += n
	}
	return sum
}

// tileBuf is the scratch of one tile: logits, gradient and targets.
type tileBuf[T Float] struct{ x, g, t [tileValues]T }

// getTile returns a tile buffer from its free list. Tiles are handed to a
// job through an interface, so buffers on the stack would escape to the
// heap on every call.
func getTile[T Float]() *tileBuf[T] { return parallel.Get[tileBuf[T]]() }

func putTile[T Float](b *tileBuf[T]) { parallel.Put(b) }

// gather copies the n positions from base (stride inner between classes)
// into dst as n rows of classes values.
func gather[T Float](dst, src []T, base, inner, classes, n int) {
	for c := range classes {
		col := src[base+c*inner:][:n]
		for t, v := range col {
			dst[t*classes+c] = v
		}
	}
}

// scatter is gather's inverse.
func scatter[T Float](dst, src []T, base, inner, classes, n int) {
	for c := range classes {
		col := dst[base+c*inner:][:n]
		for t := range col {
			col[t] = src[t*classes+c]
		}
	}
}

// subLosses returns losses[p0 : p0+n], or nil.
func subLosses[T Float](losses []T, p0, n int) []T {
	if losses == nil {
		return nil
	}
	return losses[p0 : p0+n]
}
