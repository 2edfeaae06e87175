package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/xent-go/xent/internal/gemm"
)

// Dense is y = x·Wᵀ + b with W of Out×In, on feature vectors.
type Dense[T Float] struct {
	Out     int
	in      int
	W, B    *Param[T]
	workers int
	n       int
	x       []T
	y, din  []T
}

func (d *Dense[T]) setWorkers(w int) { d.workers = w }

func (d *Dense[T]) Init(in Shape, rng *rand.Rand) (Shape, error) {
	if d.Out < 1 {
		return Shape{}, fmt.Errorf("nn: Dense with %d outputs", d.Out)
	}
	d.in = in.Size()
	d.W = &Param[T]{Name: "dense.weight", Shape: []int{d.Out, d.in}, Value: he[T](rng, d.Out*d.in, d.in), Grad: make([]T, d.Out*d.in)}
	d.B = &Param[T]{Name: "dense.bias", Shape: []int{d.Out}, Value: make([]T, d.Out), Grad: make([]T, d.Out)}
	return Shape{C: d.Out, H: 1, W: 1}, nil
}

func (d *Dense[T]) Params() []*Param[T] { return []*Param[T]{d.W, d.B} }
func (d *Dense[T]) String() string      { return fmt.Sprintf("Dense(%d→%d)", d.in, d.Out) }

func (d *Dense[T]) Forward(x []T, n int) []T {
	d.n, d.x = n, x
	y := grow(&d.y, n*d.Out)
	gemm.Mul(y, d.Out, gemm.Matrix[T]{Data: x, Stride: d.in}, gemm.Matrix[T]{Data: d.W.Value, Stride: d.in, Trans: true}, n, d.Out, d.in, false, d.workers)
	for r := range n {
		row := y[r*d.Out : (r+1)*d.Out]
		for j, b := range d.B.Value {
			row[j] += b
		}
	}
	return y
}

// Backward adds dW = doutᵀ·x and db = Σ dout, and returns dout·W.
func (d *Dense[T]) Backward(dout []T) []T {
	gemm.Mul(d.W.Grad, d.in, gemm.Matrix[T]{Data: dout, Stride: d.Out, Trans: true}, gemm.Matrix[T]{Data: d.x, Stride: d.in}, d.Out, d.in, d.n, true, d.workers)
	for r := range d.n {
		for j, g := range dout[r*d.Out : (r+1)*d.Out] {
			d.B.Grad[j] += g
		}
	}
	din := grow(&d.din, d.n*d.in)
	gemm.Mul(din, d.in, gemm.Matrix[T]{Data: dout, Stride: d.Out}, gemm.Matrix[T]{Data: d.W.Value, Stride: d.in}, d.n, d.in, d.Out, false, d.workers)
	return din
}

// Conv2D is a 3×3 convolution with "same" zero padding and stride 1, Out
// filters over the input's channels, computed as im2col and one matrix
// product: out(n·H·W, Out) = cols(n·H·W, C·9)·Wᵀ.
type Conv2D[T Float] struct {
	Out           int
	in            Shape
	W, B          *Param[T]
	workers       int
	n             int
	cols, outT, y []T
	doutT, dcols  []T
	din, sums     []T
}

func (c *Conv2D[T]) setWorkers(w int) { c.workers = w }

func (c *Conv2D[T]) Init(in Shape, rng *rand.Rand) (Shape, error) {
	if c.Out < 1 || in.C < 1 || in.H < 1 || in.W < 1 {
		return Shape{}, fmt.Errorf("nn: Conv2D of %d filters over %v", c.Out, in)
	}
	c.in = in
	k := in.C * 9
	c.W = &Param[T]{Name: "conv.weight", Shape: []int{c.Out, in.C, 3, 3}, Value: he[T](rng, c.Out*k, k), Grad: make([]T, c.Out*k)}
	c.B = &Param[T]{Name: "conv.bias", Shape: []int{c.Out}, Value: make([]T, c.Out), Grad: make([]T, c.Out)}
	return Shape{C: c.Out, H: in.H, W: in.W}, nil
}

func (c *Conv2D[T]) Params() []*Param[T] { return []*Param[T]{c.W, c.B} }
func (c *Conv2D[T]) String() string {
	return fmt.Sprintf("Conv2D(3×3, %d→%d)", c.in.C, c.Out)
}

// im2col fills cols (n·H·W rows of C·9): row (b, y, x) holds, for each
// channel ch and offset (ky, kx), x[b][ch][y+ky−1][x+kx−1], 0 outside.
func (c *Conv2D[T]) im2col(x []T, n int) []T {
	cols := grow(&c.cols, n*c.in.H*c.in.W*c.in.C*9)
	split(n, c.workers, func(lo, hi int) {
		c.im2colRange(x, cols, lo, hi)
	})
	return cols
}

func (c *Conv2D[T]) im2colRange(x, cols []T, lo, hi int) {
	h, w, k := c.in.H, c.in.W, c.in.C*9
	for b := lo; b < hi; b++ {
		for y := range h {
			for xx := range w {
				row := cols[((b*h+y)*w+xx)*k:][:k]
				for ch := range c.in.C {
					plane := x[(b*c.in.C+ch)*h*w:][:h*w]
					for ky := range 3 {
						sy := y + ky - 1
						for kx := range 3 {
							sx := xx + kx - 1
							v := T(0)
							if sy >= 0 && sy < h && sx >= 0 && sx < w {
								v = plane[sy*w+sx]
							}
							row[ch*9+ky*3+kx] = v
						}
					}
				}
			}
		}
	}
}

func (c *Conv2D[T]) Forward(x []T, n int) []T {
	c.n = n
	hw, k := c.in.H*c.in.W, c.in.C*9
	cols := c.im2col(x, n)
	outT := grow(&c.outT, n*hw*c.Out)
	gemm.Mul(outT, c.Out, gemm.Matrix[T]{Data: cols, Stride: k}, gemm.Matrix[T]{Data: c.W.Value, Stride: k, Trans: true}, n*hw, c.Out, k, false, c.workers)
	y := grow(&c.y, n*c.Out*hw) // (n, Out, H, W)
	split(n, c.workers, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for o := range c.Out {
				plane, bias := y[(b*c.Out+o)*hw:][:hw], c.B.Value[o]
				for p := range plane {
					plane[p] = outT[(b*hw+p)*c.Out+o] + bias
				}
			}
		}
	})
	return y
}

// Backward adds dW = doutᵀ·cols and db = Σ dout, and returns col2im of
// dout·W.
func (c *Conv2D[T]) Backward(dout []T) []T {
	n, hw, k := c.n, c.in.H*c.in.W, c.in.C*9
	doutT := grow(&c.doutT, n*hw*c.Out)
	sums := grow(&c.sums, n*c.Out)
	split(n, c.workers, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for o := range c.Out {
				plane := dout[(b*c.Out+o)*hw:][:hw]
				sum := T(0)
				for p, g := range plane {
					doutT[(b*hw+p)*c.Out+o] = g
					sum += g
				}
				sums[b*c.Out+o] = sum
			}
		}
	})
	for b := range n { // in example order, whatever the workers
		for o, s := range sums[b*c.Out : (b+1)*c.Out] {
			c.B.Grad[o] += s
		}
	}
	gemm.Mul(c.W.Grad, k, gemm.Matrix[T]{Data: doutT, Stride: c.Out, Trans: true}, gemm.Matrix[T]{Data: c.cols, Stride: k}, c.Out, k, n*hw, true, c.workers)
	dcols := grow(&c.dcols, n*hw*k)
	gemm.Mul(dcols, k, gemm.Matrix[T]{Data: doutT, Stride: c.Out}, gemm.Matrix[T]{Data: c.W.Value, Stride: k}, n*hw, k, c.Out, false, c.workers)
	din := grow(&c.din, n*c.in.Size())
	split(n, c.workers, func(lo, hi int) {
		c.col2imRange(dcols, din, lo, hi)
	})
	return din
}

// col2imRange adds each column value of examples [lo, hi) back to the input
// pixel it came from.
func (c *Conv2D[T]) col2imRange(dcols, din []T, lo, hi int) {
	h, w, k := c.in.H, c.in.W, c.in.C*9
	clear(din[lo*c.in.Size() : hi*c.in.Size()])
	for b := lo; b < hi; b++ {
		for y := range h {
			for xx := range w {
				row := dcols[((b*h+y)*w+xx)*k:][:k]
				for ch := range c.in.C {
					plane := din[(b*c.in.C+ch)*h*w:][:h*w]
					for ky := range 3 {
						sy := y + ky - 1
						if sy < 0 || sy >= h {
							continue
						}
						for kx := range 3 {
							if sx := xx + kx - 1; sx >= 0 && sx < w {
								plane[sy*w+sx] += row[ch*9+ky*3+kx]
							}
						}
					}
				}
			}
		}
	}
}
