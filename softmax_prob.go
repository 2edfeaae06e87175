package xent

import (
	"github.com/xent-go/xent/internal/check"
	"github.com/xent-go/xent/internal/kernel"
)

// SoftmaxProbOptions configures SoftmaxProbCrossEntropy. The zero value is
// PyTorch's default: mean reduction, no weights, no smoothing.
type SoftmaxProbOptions[T Float] struct {
	Reduction Reduction
	// Weight is w, one finite weight ≥ 0 per class; nil means all 1.
	Weight []T
	// LabelSmoothing is ε ∈ [0, 1]: the targets become (1−ε)t + ε/C.
	LabelSmoothing float64
	// PolyEpsilon is Poly-1's ε_poly ≥ −1, as for SoftmaxCrossEntropy.
	PolyEpsilon float64
	// SampleWeight, GradOutput (one value per position, for reduction None)
	// and Workers are as in SoftmaxOptions.
	SampleWeight, GradOutput []T
	Workers                  int
}

// SoftmaxProbCrossEntropy is the cross-entropy of softmax(x) against
// probability targets t, PyTorch's CrossEntropyLoss with class
// probabilities. With t' = (1−ε)t + ε/C and p = softmax(x) over axis 1:
//
//	l = −Σ_c w_c t'_c log p_c
//	∂l/∂x_c = (Σ_k w_k t'_k)·p_c − w_c t'_c
//
// Rows of t need not sum to 1, and there is no ignore index. Mean divides
// Σ l by the number of positions N·d1⋯dk.
//
// targets has the logits' shape; the other arguments, the numerics and the
// outputs are as for SoftmaxCrossEntropy.
//
// Errors, returned before anything is written: ErrShape for a bad shape or
// length, or outputs that overlap the inputs (see Output); ErrTarget for a
// target that is negative, infinite or NaN; ErrOption as for
// SoftmaxCrossEntropy.
func SoftmaxProbCrossEntropy[T Float](shape []int, logits, targets []T, opts SoftmaxProbOptions[T], out Output[T]) (T, error) {
	c := call[T, int]{shape: shape, logits: logits, targets: targets, kind: Probabilities, out: out,
		reduction: opts.Reduction, gradOutput: opts.GradOutput, sample: opts.SampleWeight, perClass: [2]check.Named[T]{{Name: "weight", V: opts.Weight}}}
	err := check.LabelSmoothing(opts.LabelSmoothing)
	if err == nil {
		err = checkPoly(opts.PolyEpsilon)
	}
	if err := c.validate(err); err != nil {
		return 0, err
	}
	return newRows(&c, softmaxProbRows[T]{w: opts.Weight, eps: opts.LabelSmoothing, poly: opts.PolyEpsilon}).run(opts.Workers), nil
}

// softmaxProbRows is SoftmaxProbCrossEntropy's part of its job; its
// targets are the rows' r.t.
type softmaxProbRows[T Float] struct {
	w         []T
	eps, poly float64
}

func (j softmaxProbRows[T]) tile(int, int) softmaxProbRows[T] { return j }

func (j softmaxProbRows[T]) positions(r rowJob[T], lo, hi int) float64 {
	stride, classes := r.l.inner, r.l.c
	smooth := j.eps / float64(classes)
	sum := 0.0
	for p := lo; p < hi; p++ {
		base := r.l.rowBase(p)
		if j.poly != 0 {
			li := polyRow(r, base, stride, classes, r.t, 0, j.w, j.eps, j.poly, r.red.scale(p))
			sum += r.red.add(p, li)
			r.store(p, li)
			continue
		}
		// With t' = (1−ε)t + ε/C: Σ w t' = (1−ε)Σ w t + (ε/C)W and
		// Σ w t' x = (1−ε)Σ w t x + (ε/C)Σ w x; l = lse·Σ w t' − Σ w t' x.
		var lse, s, wt, wtx float64 // wt = Σ w t', wtx = Σ w t' x
		if stride == 1 && j.w == nil {
			x, t := r.x[base:base+classes], r.t[base:base+classes]
			m, st, stx := kernel.MaxDot(x, t) // one pass for the three
			lse, s = logSumExpFrom(x, eRow(r.grad, base, classes), m)
			wt, wtx = st, stx
			if j.eps > 0 {
				wt = (1-j.eps)*wt + smooth*float64(classes)
				wtx = (1-j.eps)*wtx + smooth*kernel.Dot(nil, x)
			}
		} else {
			lse, s = rowLogSumExp(r.x, r.grad, base, stride, classes)
			for c, k := 0, base; c < classes; c, k = c+1, k+stride {
				v := classWeight(j.w, c) * ((1-j.eps)*float64(r.t[k]) + smooth)
				wt += v
				wtx += v * float64(r.x[k])
			}
		}
		li := wt*lse - wtx
		if r.grad != nil {
			// ∂l/∂x_c = (Σ w t')·p_c − w_c t'_c, p_c = e_c/s
			scale := r.red.scale(p)
			if j.w == nil {
				rowScaleAdd(r.grad, base, stride, classes, wt/s*scale, r.t, base, stride, -(1-j.eps)*scale, -smooth*scale)
			} else {
				for c, k := 0, base; c < classes; c, k = c+1, k+stride {
					v := classWeight(j.w, c) * ((1-j.eps)*float64(r.t[k]) + smooth)
					r.grad[k] = T((wt/s*float64(r.grad[k]) - v) * scale)
				}
			}
		}
		sum += r.red.add(p, li)
		r.store(p, li)
	}
	return sum
}

// softmaxProbConfig is SoftmaxProbCrossEntropy for Evaluate.
func softmaxProbConfig[T Float](c Config[T], shape []int, logits []T, _ []int64, targets []T, out Output[T]) (T, error) {
	return SoftmaxProbCrossEntropy(shape, logits, targets, SoftmaxProbOptions[T]{Reduction: c.Reduction, Weight: c.Weight,
		LabelSmoothing: c.LabelSmoothing, PolyEpsilon: c.PolyEpsilon, SampleWeight: c.SampleWeight, GradOutput: c.GradOutput, Workers: c.Workers}, out)
}
