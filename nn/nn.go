// Package nn is the small set of layers a classic image classifier needs —
// Conv2D (3×3, "same" padding, stride 1), ReLU, MaxPool2D (2×2), Flatten,
// Dense — with forward and backward passes, He initialisation, and SGD
// with momentum and Adam: enough to train a CNN with xent's losses, not a
// general framework. Layers are generic over float32 (training) and
// float64 (gradient checks); convolutions and dense layers multiply with
// internal/gemm.
//
// A batch of n examples is a flat slice in (n, C, H, W) order. Forward
// returns a slice the layer owns until its next Forward; Backward takes the
// gradient of the loss with respect to that output, adds the gradients of
// the layer's parameters to their Grad, and returns the gradient with
// respect to the input (also owned by the layer).
package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/xent-go/xent/internal/num"
)

// Float is float32 or float64, the one constraint of every package here.
type Float = num.Float

// Shape is the shape of one example: channels × height × width (a
// feature vector is C × 1 × 1).
type Shape struct{ C, H, W int }

// Size is C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W) }

// Param is a learned tensor and the gradient accumulated for it.
type Param[T Float] struct {
	Name        string
	Shape       []int // as PyTorch shapes the same tensor: (out, in) or (out, in, 3, 3)
	Value, Grad []T
}

// ErrShape is wrapped by the errors of Network.Forward and Backward when a
// slice does not hold the values the network's shapes call for.
var ErrShape = errors.New("nn: wrong number of values")

// Layer is one stage of a network. Its Forward and Backward trust their
// arguments — n·in.Size() inputs, a gradient of the last output's size,
// Backward after Forward — as Network, which checks them, calls them.
type Layer[T Float] interface {
	// Init fixes the input shape, allocates the parameters and draws their
	// initial values from rng, and returns the output shape.
	Init(in Shape, rng *rand.Rand) (Shape, error)
	Forward(x []T, n int) []T
	Backward(dout []T) []T
	Params() []*Param[T]
	String() string
}

// grow returns (*s)[:n], reallocating when it is too short.
func grow[T Float](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}

// split runs f on [0, n) cut into at most workers contiguous ranges, the
// ranges in parallel. Callers give each index its own output, so the result
// does not depend on workers.
func split(n, workers int, f func(lo, hi int)) {
	w := min(workers, n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Go(func() { f(lo, hi) })
	}
	f(0, n/w)
	wg.Wait()
}

// parallelism is embedded by the layers that split their work over
// goroutines; NewNetwork sets it.
type parallelism struct{ workers int }

func (p *parallelism) setWorkers(n int) { p.workers = n }

// he draws n weights from N(0, 2/fanIn), He et al.'s initialisation for
// layers followed by ReLU.
func he[T Float](rng *rand.Rand, n, fanIn int) []T {
	w := make([]T, n)
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = T(std * rng.NormFloat64())
	}
	return w
}

// ReLU is max(x, 0).
type ReLU[T Float] struct {
	parallelism
	out, din []T
}

func (r *ReLU[T]) Init(in Shape, _ *rand.Rand) (Shape, error) { return in, nil }
func (r *ReLU[T]) Params() []*Param[T]                        { return nil }
func (r *ReLU[T]) String() string                             { return "ReLU" }

func (r *ReLU[T]) Forward(x []T, n int) []T {
	out := grow(&r.out, len(x))
	split(len(x), r.workers, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			out[lo+i] = max(v, 0)
		}
	})
	return out
}

// Backward passes the gradient where the output was positive.
func (r *ReLU[T]) Backward(dout []T) []T {
	din := grow(&r.din, len(dout))
	split(len(dout), r.workers, func(lo, hi int) {
		out, din := r.out[lo:hi], din[lo:hi]
		for i, g := range dout[lo:hi] {
			v := T(0) // a conditional move: the signs are random, a branch mispredicts
			if out[i] > 0 {
				v = g
			}
			din[i] = v
		}
	})
	return din
}

// Flatten turns C×H×W into a feature vector: the data is already in that
// order, so it only changes the shape.
type Flatten[T Float] struct{}

func (Flatten[T]) Init(in Shape, _ *rand.Rand) (Shape, error) {
	return Shape{C: in.Size(), H: 1, W: 1}, nil
}
func (Flatten[T]) Forward(x []T, n int) []T { return x }
func (Flatten[T]) Backward(dout []T) []T    { return dout }
func (Flatten[T]) Params() []*Param[T]      { return nil }
func (Flatten[T]) String() string           { return "Flatten" }

// MaxPool2D takes the maximum of each 2×2 window, stride 2 (an odd last
// row or column is dropped).
type MaxPool2D[T Float] struct {
	parallelism
	in, out Shape
	n       int
	arg     []int32 // per output value, the input index of its maximum
	y, din  []T
}

func (p *MaxPool2D[T]) Init(in Shape, _ *rand.Rand) (Shape, error) {
	if in.H < 2 || in.W < 2 {
		return Shape{}, fmt.Errorf("nn: MaxPool2D needs at least 2×2, got %v", in)
	}
	p.in, p.out = in, Shape{C: in.C, H: in.H / 2, W: in.W / 2}
	return p.out, nil
}
func (p *MaxPool2D[T]) Params() []*Param[T] { return nil }
func (p *MaxPool2D[T]) String() string      { return "MaxPool2D(2×2)" }

func (p *MaxPool2D[T]) Forward(x []T, n int) []T {
	p.n = n
	size := n * p.out.Size()
	y := grow(&p.y, size)
	if cap(p.arg) < size {
		p.arg = make([]int32, size)
	}
	p.arg = p.arg[:size]
	split(n*p.in.C, p.workers, func(lo, hi int) {
		o := lo * p.out.H * p.out.W
		for plane := lo; plane < hi; plane++ {
			base := plane * p.in.H * p.in.W
			for i := range p.out.H {
				for j := range p.out.W {
					k := base + 2*i*p.in.W + 2*j
					best, v := k, x[k]
					if x[k+1] > v {
						best, v = k+1, x[k+1]
					}
					if x[k+p.in.W] > v {
						best, v = k+p.in.W, x[k+p.in.W]
					}
					if x[k+p.in.W+1] > v {
						best, v = k+p.in.W+1, x[k+p.in.W+1]
					}
					y[o], p.arg[o] = v, int32(best)
					o++
				}
			}
		}
	})
	return y
}

// Backward routes each gradient to its window's maximum.
func (p *MaxPool2D[T]) Backward(dout []T) []T {
	din := grow(&p.din, p.n*p.in.Size())
	outPlane, inPlane := p.out.H*p.out.W, p.in.H*p.in.W
	split(p.n*p.in.C, p.workers, func(lo, hi int) {
		clear(din[lo*inPlane : hi*inPlane])
		for o := lo * outPlane; o < hi*outPlane; o++ {
			din[p.arg[o]] = dout[o] // windows do not overlap
		}
	})
	return din
}

// Network is a sequence of layers.
type Network[T Float] struct {
	In     Shape
	Layers []Layer[T]
	Out    Shape
	n      int // the batch of the last Forward
}

// NewNetwork initialises layers for inputs of shape in, drawing the
// parameters from seed. The layers split their work over workers
// goroutines (0 means GOMAXPROCS); the results are the same to the bit for
// any number.
func NewNetwork[T Float](in Shape, seed uint64, workers int, layers ...Layer[T]) (*Network[T], error) {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6e))
	shape := in
	for i, l := range layers {
		if w, ok := l.(interface{ setWorkers(int) }); ok {
			w.setWorkers(workers)
		}
		var err error
		if shape, err = l.Init(shape, rng); err != nil {
			return nil, fmt.Errorf("layer %d (%v): %w", i, l, err)
		}
	}
	return &Network[T]{In: in, Layers: layers, Out: shape}, nil
}

// Forward runs the layers on a batch of n ≥ 1 examples, n·In.Size()
// values, and returns the n·Out.Size() outputs (owned by the last layer
// until the next Forward). A wrong count is an ErrShape error.
func (net *Network[T]) Forward(x []T, n int) ([]T, error) {
	if n < 1 || len(x) != n*net.In.Size() {
		return nil, fmt.Errorf("%w: %d input values for a batch of %d of %v: want %d",
			ErrShape, len(x), n, net.In, max(n, 0)*net.In.Size())
	}
	net.n = n
	for _, l := range net.Layers {
		x = l.Forward(x, n)
	}
	return x, nil
}

// Backward runs the layers backwards from the gradient of the loss with
// respect to the last Forward's output, adding to the parameters'
// gradients, and returns the gradient with respect to the input. A
// gradient of the wrong size, or a call before any Forward, is an
// ErrShape error.
func (net *Network[T]) Backward(dout []T) ([]T, error) {
	if net.n == 0 || len(dout) != net.n*net.Out.Size() {
		return nil, fmt.Errorf("%w: a gradient of %d values after a forward pass of %d of %v",
			ErrShape, len(dout), net.n, net.Out)
	}
	for i := len(net.Layers) - 1; i >= 0; i-- {
		dout = net.Layers[i].Backward(dout)
	}
	return dout, nil
}

// Params returns every layer's parameters, in order.
func (net *Network[T]) Params() []*Param[T] {
	var ps []*Param[T]
	for _, l := range net.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// ZeroGrad sets every gradient to 0.
func (net *Network[T]) ZeroGrad() {
	for _, p := range net.Params() {
		clear(p.Grad)
	}
}

// DefaultNetwork is the network `xent train` uses on 28×28 grey images,
// fixed so that it can be compared with the same network in PyTorch:
// conv 3×3×16 → ReLU → maxpool → conv 3×3×32 → ReLU → maxpool →
// dense 1568→128 → ReLU → dense 128→classes.
func DefaultNetwork[T Float](classes int, seed uint64, workers int) (*Network[T], error) {
	return Classifier[T](Shape{C: 1, H: 28, W: 28}, classes, seed, workers)
}

// Classifier is DefaultNetwork's architecture on inputs of shape in: the
// first dense layer takes 32·(H/4)·(W/4) features (6272 on the 56×56
// multi-digit images).
func Classifier[T Float](in Shape, classes int, seed uint64, workers int) (*Network[T], error) {
	if classes < 1 {
		return nil, fmt.Errorf("nn: a classifier of %d classes", classes)
	}
	return NewNetwork(in, seed, workers,
		&Conv2D[T]{Out: 16}, &ReLU[T]{}, &MaxPool2D[T]{},
		&Conv2D[T]{Out: 32}, &ReLU[T]{}, &MaxPool2D[T]{},
		Flatten[T]{}, &Dense[T]{Out: 128}, &ReLU[T]{}, &Dense[T]{Out: classes})
}
