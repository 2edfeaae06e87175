package xent

import (
	"github.com/xent-go/xent/internal/kernel"
)

// MultiLabelSoftmaxOptions configures MultiLabelSoftmaxCrossEntropy.
type MultiLabelSoftmaxOptions[T Float] struct {
	Reduction Reduction
	// SampleWeight, GradOutput (one value per position, for reduction None)
	// and Workers are as in SoftmaxOptions.
	SampleWeight, GradOutput []T
	Workers                  int
}

// MultiLabelSoftmaxCrossEntropy is the tutorial's softmax loss for several
// positive classes with the 1/M factor of Mahajan et al. (2018): with
// multi-hot (or non-negative count) targets y, M = Σ_c y_c and p = softmax(x)
// over axis 1,
//
//	l = −(1/M) Σ_c y_c log p_c
//	∂l/∂x_c = p_c − y_c/M
//
// A position with M = 0 gives 0 with a zero gradient and is not counted.
// Mean divides Σ l by the number of counted positions. With one positive
// class it is SoftmaxCrossEntropy.
//
// targets has the logits' shape; the other arguments, the numerics and the
// outputs are as for SoftmaxCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target that is negative, infinite or NaN, or a position whose M overflows;
// ErrOption for an unknown reduction or a GradOutput without None.
func MultiLabelSoftmaxCrossEntropy[T Float](shape []int, logits, targets []T, opts MultiLabelSoftmaxOptions[T], out Output[T]) (T, error) {
	c := call[T, int]{shape: shape, logits: logits, targets: targets, kind: MultiHot, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight}
	if err := c.validate(nil); err != nil {
		return 0, err
	}
	return newRows(&c, multiLabelRows[T]{}).run(opts.Workers), nil
}

// multiLabelRows is MultiLabelSoftmaxCrossEntropy's part of its job: none
// beyond the rows, whose r.t are the multi-hot targets y.
type multiLabelRows[T Float] struct{}

func (j multiLabelRows[T]) tile(int, int) multiLabelRows[T] { return j }

func (multiLabelRows[T]) positions(r rowJob[T], lo, hi int) float64 {
	stride, classes := r.l.inner, r.l.c
	sum := 0.0
	for p := lo; p < hi; p++ {
		base := r.l.rowBase(p)
		li := 0.0
		// M = Σ_c y_c, yx = Σ_c y_c x_c, and the row's maximum: in one
		// pass over contiguous rows.
		var mx T
		var m, yx float64
		if stride == 1 {
			mx, m, yx = kernel.MaxDot(r.x[base:base+classes], r.t[base:base+classes])
		} else {
			m = rowSum(r.t, base, stride, classes)
		}
		if m == 0 {
			if r.grad != nil {
				zeroRow(r.grad, base, stride, classes)
			}
		} else {
			var lse, s float64
			if stride == 1 {
				lse, s = logSumExpFrom(r.x[base:base+classes], eRow(r.grad, base, classes), mx)
			} else {
				lse, s = rowLogSumExp(r.x, r.grad, base, stride, classes)
				yx = rowDotRows(r.t, r.x, base, stride, classes)
			}
			// l = Σ_c y_c (lse − x_c) / M = lse − Σ_c y_c x_c / M
			li = lse - yx/m
			if r.grad != nil {
				scale := r.red.scale(p)
				rowScaleAdd(r.grad, base, stride, classes, scale/s, r.t, base, stride, -scale/m, 0)
			}
			sum += r.red.add(p, li)
		}
		r.store(p, li)
	}
	return sum
}

// multiLabelConfig is MultiLabelSoftmaxCrossEntropy for Evaluate.
func multiLabelConfig[T Float](c Config[T], shape []int, logits []T, _ []int64, targets []T, out Output[T]) (T, error) {
	return MultiLabelSoftmaxCrossEntropy(shape, logits, targets, MultiLabelSoftmaxOptions[T]{Reduction: c.Reduction,
		SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
