package xent

import (
	"math"

	"github.com/xent-go/xent/internal/kernel"
)

// Poly-1 (Leng et al. 2022, Optax's poly_loss_cross_entropy) is an option
// of SoftmaxCrossEntropy and SoftmaxProbCrossEntropy: each class term of the
// cross-entropy gets the first term of its Taylor series in 1 − p_c again,
// scaled by ε_poly. With v_c = w_c·t'_c the weighted (smoothed) targets,
// A = Σ_c v_c and B = Σ_c v_c·p_c,
//
//	l = Σ_c v_c·[−log p_c + ε_poly·(1 − p_c)] = CE + ε_poly·(A − B)
//	∂l/∂x_c = p_c·(A + ε_poly·B) − v_c·(1 + ε_poly·p_c)
//
// For one-hot targets without weights it is the paper's −log p_y +
// ε_poly·(1 − p_y), whose gradient is (1 + ε_poly·p_y)·(p_c − [c=y]).
// ε_poly = 0 is the plain cross-entropy, to the bit (it is not computed).

// targetProbs sets p[r] = p_y = exp(nl[r]) from nl[r] = −l, the negated
// losses −log p_y of one-hot rows, with the kernel's float64 exp (error
// below 2 ulp), a batch at a time: each lane is computed alone, so a row
// gets the same bits in a batch of 64 as alone, and the fused and the
// value-only calls agree to the bit. Every nl[r] is ≤ 0 or NaN.
func targetProbs(p, nl []float64) { kernel.ExpShiftSum(p, nl, 0) }

// targetProb is targetProbs of one row.
func targetProb(l float64) float64 {
	p, nl := [1]float64{}, [1]float64{-l}
	targetProbs(p[:], nl[:])
	return p[0]
}

// checkPoly validates ε_poly: finite and ≥ −1.
func checkPoly(eps float64) error {
	if !(eps >= -1) || math.IsInf(eps, 1) {
		return optionError("poly epsilon %v is not a finite number ≥ -1", eps)
	}
	return nil
}

// polyRow computes one counted row of a Poly-1 loss in plain Go: its loss,
// and its gradient times scale into r.grad when r.grad is not nil. t is the
// row's probability targets (base and stride as the logits'), or nil for
// the index target y; w the class weights or nil; smooth the label
// smoothing ε.
func polyRow[T Float](r rowJob[T], base, stride, classes int, t []T, y int, w []T, smooth, poly, scale float64) float64 {
	v := func(c, k int) float64 { // v_c = w_c·((1−ε)·t_c + ε/C)
		tc := 0.0
		switch {
		case t != nil:
			tc = float64(t[k])
		case c == y:
			tc = 1
		}
		return classWeight(w, c) * ((1-smooth)*tc + smooth/float64(classes))
	}
	lse, _ := rowLogSumExp(r.x, nil, base, stride, classes)
	var a, b, ce float64
	for c, k := 0, base; c < classes; c, k = c+1, k+stride {
		vc, x := v(c, k), float64(r.x[k])
		a += vc
		b += vc * math.Exp(x-lse)
		ce += vc * (lse - x)
	}
	if r.grad != nil {
		for c, k := 0, base; c < classes; c, k = c+1, k+stride {
			p := math.Exp(float64(r.x[k]) - lse)
			r.grad[k] = T(scale * (p*(a+poly*b) - v(c, k)*(1+poly*p)))
		}
	}
	return ce + poly*(a-b)
}
