package xent

import (
	"runtime"

	"github.com/xent-go/xent/internal/parallel"
)

// blockElements is the work of one block: about 64K logits. Blocks depend
// on the shape alone, never on the number of workers, and their partial
// sums are added in order, so a result is the same to the bit for any
// worker count.
const blockElements = 1 << 16

// blocking splits count units of unitSize elements into fixed blocks.
type blocking struct{ count, per int }

func newBlocking(count, unitSize int) blocking {
	per := max(1, blockElements/max(unitSize, 1))
	return blocking{count: count, per: per}
}

func (b blocking) blocks() int { return (b.count + b.per - 1) / b.per }

// span returns the units [lo, hi) of block i.
func (b blocking) span(i int) (lo, hi int) {
	lo = i * b.per
	return lo, min(lo+b.per, b.count)
}

// workerCount is the number of goroutines a call may use: the option, or
// GOMAXPROCS when it is 0.
func workerCount(option int) int {
	if option > 0 {
		return option
	}
	return runtime.GOMAXPROCS(0)
}

// runJob sums job's blocks on the workers and returns the job, cleared, to
// its free list.
func runJob[J any, P interface {
	*J
	parallel.Runner
}](job P, b blocking, workers int) float64 {
	s := parallel.Sum(job, b.blocks(), workerCount(workers))
	var zero J
	*job = zero // drop the caller's slices
	parallel.Put[J](job)
	return s
}

// tileValues bounds the logits of one tile of a strided softmax-family
// shape: tiles of ⌊tileValues/C⌋ positions are gathered into row-major
// scratch on the stack, computed as contiguous rows (by the SIMD kernels),
// and their gradient scattered back. Shapes with more classes keep the
// strided plain-Go rows.
const tileValues = 2048

// rowJob is what every softmax-family job holds besides its targets and
// options: the layout, the logits, the outputs, the reducer and the blocks.
type rowJob[T Float] struct {
	l               dims
	x, grad, losses []T
	red             reducer[T]
	b               blocking
}

// newRowJob returns the rows of a softmax-family call: positions in
// blocks of about blockElements logits.
func newRowJob[T Float](l layout, logits []T, out Output[T], red reducer[T]) rowJob[T] {
	return rowJob[T]{l: l.dims, x: logits, grad: out.Grad, losses: out.Losses, red: red, b: newBlocking(l.positions, l.c)}
}

func (r *rowJob[T]) dimsOf() dims { return r.l }

// tile returns the rows of positions p0 … p0+n given as the contiguous
// rows x and grad (grad nil for value only), for a job's sub.
func (r rowJob[T]) tile(x, grad []T, p0, n int) rowJob[T] {
	r.l, r.x, r.grad = dims{n: n, c: r.l.c, inner: 1}, x, grad
	r.losses, r.red = subLosses(r.losses, p0, n), r.red.sub(p0, n)
	return r
}

// runRows runs a softmax-family job, whose rows are rows, and returns its
// value. A mean over nothing (every target ignored) is 0 with a zero
// gradient: the rows are then not computed, only the gradient cleared.
func runRows[T Float, J any, P interface {
	*J
	parallel.Runner
}](job P, rows *rowJob[T], out Output[T], workers int) T {
	red, b := rows.red, rows.b // runJob clears the job
	if red.empty {
		rows.grad = nil
	}
	sum := runJob(job, b, workers)
	if red.empty && out.Grad != nil {
		clear(out.Grad)
	}
	return red.value(sum)
}

// tileable is what tiled needs of a softmax-family job.
type tileable[T Float] interface {
	dimsOf() dims
	// buffers returns the logits, the gradient (nil for value only) and
	// the element-shaped targets (nil for index targets).
	buffers() (x, grad, targets []T)
	// sub runs the job on n positions from p0 given as contiguous rows.
	sub(x, grad, targets []T, p0, n int) float64
}

// positioned is a softmax-family job: tileable, and able to compute a
// range of its positions in place.
type positioned[T Float] interface {
	tileable[T]
	positions(lo, hi int) float64
}

// blockOf computes block i of a softmax-family job: tile by tile for an
// (N, C, d1…dk) shape with few enough classes, in place otherwise.
func blockOf[T Float, J positioned[T]](j J, b blocking, i int) float64 {
	lo, hi := b.span(i)
	if d := j.dimsOf(); d.inner > 1 && d.c <= tileValues {
		return tiled[T](j, lo, hi)
	}
	return j.positions(lo, hi)
}

// tiled computes positions [lo, hi) of an (N, C, d1…dk) shape tile by
// tile, each tile the positions of one n, and returns the sum of the
// tiles' sums, in order.
func tiled[T Float, J tileable[T]](j J, lo, hi int) float64 {
	d := j.dimsOf()
	x, grad, targets := j.buffers()
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
		gather(xs[:size], x, base, d.inner, d.c, n)
		var tt, gg []T
		if targets != nil {
			tt = ts[:size]
			gather(tt, targets, base, d.inner, d.c, n)
		}
		if grad != nil {
			gg = gs[:size]
		}
		sum += j.sub(xs[:size], gg, tt, p, n)
		if grad != nil {
			scatter(grad, gg, base, d.inner, d.c, n)
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
