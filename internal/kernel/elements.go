package kernel

import "math"

// Elements are the operands of the element kernels over n = len(X)
// elements. A per-element operand that is nil takes its scalar instead.
type Elements[T Float] struct {
	X, T []T // logits and targets, n each
	// W is the weight and Q the positive weight of each element (the sigmoid
	// loss only); nil means WS and QS for every element.
	W, Q   []T
	WS, QS T
	// G scales each element's gradient and its loss in the returned sum
	// (the upstream gradient of reduction none); nil means GS for the
	// gradient and 1 for the sum.
	G  []T
	GS T
	// Grad and Losses receive ∂l_i/∂x_i·g_i and l_i; either may be nil.
	Grad, Losses []T
	// S, when not nil and W is nil, weighs rows: the elements are len(S)
	// rows of len(X)/len(S), and row r's elements take the weight WS·S[r]
	// (rounded to T) in place of WS; elements past the last whole row are
	// not computed. One call does the work of a call a row with that
	// product as WS, with the same losses and gradients to the bit and
	// without a call's fixed cost a row.
	S []T
}

// count is the number of elements computed: len(X), or len(S) whole rows.
func (e *Elements[T]) count() int {
	if e.S == nil {
		return len(e.X)
	}
	return len(e.S) * e.rowLen()
}

// rowLen is the length of a row of row weights S: len(X) without them.
func (e *Elements[T]) rowLen() int {
	switch {
	case e.S == nil:
		return len(e.X)
	case len(e.S) == 0:
		return 0
	}
	return len(e.X) / len(e.S)
}

// weight is element i's weight: W_i, or WS (times its row's S).
func (e *Elements[T]) weight(i int) float64 {
	switch {
	case e.W != nil:
		return float64(e.W[i])
	case e.S != nil:
		return float64(e.WS * e.S[i/e.rowLen()])
	}
	return float64(e.WS)
}

// Sigmoid computes binary cross-entropy with logits element by element,
//
//	l_i = w_i·[(1−t)·x + (1+(q−1)t)·softplus(−x)]
//	d_i = w_i·[(1−t)·σ(x) − q·t·σ(−x)]
//
// writes Grad_i = d_i·g_i and Losses_i = l_i, and returns Σ l_i·g_i (Σ l_i
// when G is nil) in float64.
func Sigmoid[T Float](e *Elements[T]) float64 {
	return sigmoidOn(e)
}

// sigmoidGo is Sigmoid's reference loop, the Go path.
func sigmoidGo[T Float](e *Elements[T]) float64 {
	sum := 0.0
	for i := range e.count() {
		w, q := e.weight(i), pick(e.Q, e.QS, i)
		l, d := BinaryCrossEntropy(float64(e.X[i]), float64(e.T[i]), q)
		sum += store(e, i, w*l, w*d)
	}
	return sum
}

// SigmoidFocal computes the sigmoid focal loss element by element (Q is
// not used), with α_t = α·t + (1−α)(1−t), or 1 when α < 0:
//
//	l_i = w_i·α_t·(1−p_t)^γ·bce(x, t),  d_i its derivative (see SigmoidFocalLoss)
//
// and writes and returns as Sigmoid does. The assembly takes γ = 0 and
// whole γ up to 16; any other γ runs in Go.
func SigmoidFocal[T Float](e *Elements[T], alpha, gamma float64) float64 {
	if gamma == math.Trunc(gamma) && gamma <= maxIntegerGamma {
		return sigmoidFocalOn(e, alpha, int(gamma))
	}
	return sigmoidFocalGo(e, alpha, gamma)
}

// sigmoidFocalGo is SigmoidFocal's reference loop, the Go path.
func sigmoidFocalGo[T Float](e *Elements[T], alpha, gamma float64) float64 {
	sum := 0.0
	for i := range e.count() {
		w := e.weight(i)
		l, d := SigmoidFocalElement(float64(e.X[i]), float64(e.T[i]), alpha, gamma)
		sum += store(e, i, w*l, w*d)
	}
	return sum
}

// maxIntegerGamma is the largest γ the assembly raises by repeated
// multiplication.
const maxIntegerGamma = 16

func pick[T Float](v []T, s T, i int) float64 {
	if v != nil {
		return float64(v[i])
	}
	return float64(s)
}

// store writes element i's loss l and derivative d and returns its term of
// the sum.
func store[T Float](e *Elements[T], i int, l, d float64) float64 {
	g := pick(e.G, e.GS, i)
	if e.Grad != nil {
		e.Grad[i] = T(d * g)
	}
	if e.Losses != nil {
		e.Losses[i] = T(l)
	}
	if e.G != nil {
		return l * g
	}
	return l
}

// Sigmoids returns σ(|x|) and σ(−|x|) = 1 − σ(|x|), each to full relative
// precision, and e = exp(−|x|) ∈ (0, 1].
func Sigmoids(x float64) (big, small, e float64) {
	e = math.Exp(-math.Abs(x))
	return 1 / (1 + e), e / (1 + e), e
}

// BinaryCrossEntropy returns the unweighted loss and derivative of one
// element with logit x, target t and positive weight q: a sum of
// non-negative terms, (1−t)x + (1+(q−1)t)·log1p(e^−x) for x ≥ 0 and
// −q·t·x + (1+(q−1)t)·log1p(e^x) for x < 0, and (1−t)σ(x) − q·t·σ(−x); one
// exp serves both.
func BinaryCrossEntropy(x, t, q float64) (loss, grad float64) {
	big, small, e := Sigmoids(x)
	softplus := math.Log1p(e) // softplus(−|x|)
	lw := 1 + (q-1)*t
	if x >= 0 {
		return (1-t)*x + lw*softplus, (1-t)*big - q*t*small
	}
	return -q*t*x + lw*softplus, (1-t)*small - q*t*big
}

// SigmoidFocalElement returns the loss and derivative of one element of the
// sigmoid focal loss. With u = 1−p_t = t·σ(−x) + (1−t)·σ(x) (no
// cancellation) and r = σ(x)σ(−x)/u ≤ 1,
//
//	l = α_t·u^γ·bce,  ∂l/∂x = α_t·u^γ·(γ·r·(1−2t)·bce + ∂bce/∂x)
//
// finite for every finite x; where u underflows to 0 (γ > 0) both are their
// limit, 0. γ = 0 gives α_t·bce exactly.
func SigmoidFocalElement(x, t, alpha, gamma float64) (loss, grad float64) {
	bce, dbce := BinaryCrossEntropy(x, t, 1)
	at := 1.0
	if alpha >= 0 {
		at = alpha*t + (1-alpha)*(1-t)
	}
	if gamma == 0 {
		return at * bce, at * dbce
	}
	big, small, _ := Sigmoids(x)
	sx, smx := big, small // σ(x), σ(−x)
	if x < 0 {
		sx, smx = small, big
	}
	u := t*smx + (1-t)*sx
	if u == 0 {
		return 0, 0
	}
	ug := math.Pow(u, gamma)
	return at * ug * bce, at * ug * (gamma*(sx*smx/u)*(1-2*t)*bce + dbce)
}

// AsymmetricParams are the asymmetric loss's γ+, γ−, margin m and
// whether the focusing factors are held constant in the gradient.
type AsymmetricParams struct {
	GammaPos, GammaNeg, Clip float64
	Detach                   bool
}

// Asymmetric computes the asymmetric loss element by element (Q is not
// used):
//
//	l_i = w_i·a(x, t),  d_i = w_i·∂a/∂x (see AsymmetricElement)
//
// and writes and returns as Sigmoid does. The assembly takes whole γ+ and
// γ− up to 16 and m = 0 or m ≥ 2⁻¹⁰⁰; any other runs in Go.
func Asymmetric[T Float](e *Elements[T], p AsymmetricParams) float64 {
	if wholeGamma(p.GammaPos) && wholeGamma(p.GammaNeg) && (p.Clip == 0 || p.Clip >= 0x1p-100) {
		return asymmetricOn(e, p)
	}
	return asymmetricGo(e, p)
}

// asymmetricGo is Asymmetric's reference loop, the Go path.
func asymmetricGo[T Float](e *Elements[T], p AsymmetricParams) float64 {
	sum := 0.0
	for i := range e.count() {
		w := e.weight(i)
		l, d := AsymmetricElement(float64(e.X[i]), float64(e.T[i]), p)
		sum += store(e, i, w*l, w*d)
	}
	return sum
}

func wholeGamma(g float64) bool { return g == math.Trunc(g) && g >= 0 && g <= maxIntegerGamma }

// AsymmetricElement returns the unweighted loss and derivative of one
// element of the asymmetric loss, with p = σ(x) and p_m = max(p − m, 0):
//
//	a = t·(1−p)^γ+·softplus(−x) − (1−t)·p_m^γ−·log(1 − p_m)
//	∂a/∂x = t·σ(−x)^γ+·(−γ+·σ(x)·softplus(−x) − σ(−x))
//	      + (1−t)·[p > m]·σ(x)σ(−x)·p_m^γ−·(1/(1−p_m) − γ−·log(1−p_m)/p_m)
//
// with 1 − p_m = σ(−x) + m (for m = 0, −log(1 − p) = softplus(x) and the
// second line is (1−t)·p^γ−·(σ(x) + γ−·σ(−x)·softplus(x))), 0^0 = 1. With
// Detach the factors σ(−x)^γ+ and p_m^γ− are held constant:
// −t·σ(−x)^(γ+ +1) + (1−t)·[p > m]·σ(x)σ(−x)·p_m^γ−/(1−p_m).
func AsymmetricElement(x, t float64, p AsymmetricParams) (loss, grad float64) {
	big, small, e := Sigmoids(x)
	sx, smx := big, small // σ(x), σ(−x)
	if x < 0 {
		sx, smx = small, big
	}
	sp := math.Log1p(e)      // softplus(−|x|)
	spNeg := max(-x, 0) + sp // softplus(−x) = −log p
	spPos := max(x, 0) + sp  // softplus(x) = −log(1 − p)
	if t != 0 {
		f := power(smx, p.GammaPos) // (1−p)^γ+
		loss = t * f * spNeg
		if p.Detach || p.GammaPos == 0 { // γ+ = 0: no 0·σ(x)·softplus(−x), which is NaN at x = −∞
			grad = -t * f * smx
		} else {
			grad = t * f * (-p.GammaPos*sx*spNeg - smx)
		}
	}
	if t == 1 {
		return loss, grad
	}
	if p.Clip == 0 {
		f := power(sx, p.GammaNeg) // p^γ−
		loss += (1 - t) * f * spPos
		if p.Detach {
			grad += (1 - t) * f * sx
		} else if f != 0 {
			grad += (1 - t) * f * (sx + p.GammaNeg*smx*spPos)
		}
		return loss, grad
	}
	pm := sx - p.Clip
	switch {
	case pm != pm:
		return math.NaN(), math.NaN() // a NaN logit
	case !(pm > 0):
		return loss, grad // p ≤ m: the term and its derivative are 0
	}
	onePm := smx + p.Clip // 1 − p_m < 1
	var logOnePm float64  // log(1 − p_m), accurate where p_m is small and where it is near 1
	if pm < 0.5 {
		logOnePm = math.Log1p(-pm)
	} else {
		logOnePm = math.Log(onePm)
	}
	f := power(pm, p.GammaNeg)
	loss -= (1 - t) * f * logOnePm
	ss := sx * smx
	if p.Detach {
		grad += (1 - t) * ss * f / onePm
	} else {
		grad += (1 - t) * ss * f * (1/onePm - p.GammaNeg*logOnePm/pm)
	}
	return loss, grad
}

// power returns b^g with 0^0 = 1: by repeated multiplication for whole g up
// to maxIntegerGamma, as the assembly does.
func power(b, g float64) float64 {
	if g == math.Trunc(g) && g >= 0 && g <= maxIntegerGamma {
		r := 1.0
		for range int(g) {
			r *= b
		}
		return r
	}
	return math.Pow(b, g)
}
