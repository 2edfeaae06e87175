// Package gomlx provides xent's losses as GoMLX graph functions, with
// exactly xent's semantics, so that a model trained with GoMLX — on the CPU,
// on an XLA device (GPU, TPU), or across devices — computes the same loss
// as xent on the CPU. The gradients come from GoMLX's automatic
// differentiation; where a stable formula has a kink (softplus at 0) or a
// power meets 0, the graph supplies the exact derivative instead, so that
// they equal xent's.
//
// Import it under a name of its own, to tell it from GoMLX's packages:
//
//	import xg "github.com/xent-go/xent/gomlx"
//
//	lossFn, err := xg.LossFn(xent.Config[float64]{Loss: xent.SigmoidFocal, Gamma: new(2.0)})
//	trainer := train.NewTrainer(backend, ctx, modelFn, lossFn, optimizer, nil, nil)
//
// The losses, options and reductions are xent's (see package xent and
// xent.Config): logits of shape (N, C, d1…dk) with classes on axis 1,
// class-index targets of shape (N, d1…dk) and any integer dtype, float
// targets of the logits' shape and dtype. Reduction None returns the
// per-position losses (per element for the sigmoid losses); the others a
// scalar. Config.GradOutput and Config.Workers do not apply: the graph's
// gradient is whatever flows into it.
//
// Options are checked when the function is made (NewLoss, LossFn) and give
// xent's errors. Shapes are checked when the graph is built and, as
// everywhere in GoMLX, a mismatch panics there. Target values are data, so
// the graph cannot refuse them: an index target outside [0, C) that is not
// the ignore index counts as a row of zeros, a probability outside [0, 1]
// is used as it is.
package gomlx

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"

	"github.com/xent-go/xent"
)

// Func computes a loss from logits and targets in a graph.
type Func func(logits, targets *Node) *Node

// WeightedFunc computes a loss from logits, targets and sample weights
// (one per position, shape (N, d1…dk), the logits' dtype) in a graph.
type WeightedFunc func(logits, targets, sampleWeight *Node) *Node

// NewLoss checks cfg's loss and options as xent does, and returns the loss
// as a graph function. Errors wrap xent.ErrOption. Sample weights are data,
// a graph input of each batch: cfg.SampleWeight is refused here, and
// NewWeightedLoss takes them.
func NewLoss(cfg xent.Config[float64]) (Func, error) {
	if cfg.SampleWeight != nil {
		return nil, fmt.Errorf("xent/gomlx: SampleWeight is data: give it to the function of NewWeightedLoss: %w", xent.ErrOption)
	}
	if err := check(cfg); err != nil {
		return nil, err
	}
	return func(logits, targets *Node) *Node { return build(cfg, logits, targets, nil) }, nil
}

// NewWeightedLoss is NewLoss with sample weights: each position's loss is
// multiplied by its weight s, and Mean counts it s times, as xent's
// SampleWeight does.
func NewWeightedLoss(cfg xent.Config[float64]) (WeightedFunc, error) {
	if _, err := NewLoss(cfg); err != nil {
		return nil, err
	}
	return func(logits, targets, s *Node) *Node {
		if want := positionsShape(logits); !slicesEqual(s.Shape().Dimensions, want) {
			panic(fmt.Sprintf("xent/gomlx: sample weights of shape %s; logits %s need one per position, %v", s.Shape(), logits.Shape(), want))
		}
		return build(cfg, logits, targets, ConvertDType(s, logits.DType()))
	}, nil
}

// LossFn is NewLoss as a GoMLX train.LossFn: labels[0] are the targets and
// predictions[0] the logits. train.Trainer takes the mean of what it
// returns, which is the loss itself for every reduction but None.
func LossFn(cfg xent.Config[float64]) (losses.LossFn, error) {
	f, err := NewLoss(cfg)
	if err != nil {
		return nil, err
	}
	return func(labels, predictions []*Node) *Node { return f(predictions[0], labels[0]) }, nil
}

// check validates what can be validated without data: cfg by xent's own
// Config.Check (one position of as many classes as its per-class options
// have), then whether this adapter has its loss's graph.
func check(cfg xent.Config[float64]) error {
	if cfg.GradOutput != nil {
		return fmt.Errorf("xent/gomlx: GradOutput does not apply in a graph: %w", xent.ErrOption)
	}
	if err := cfg.Check(0); err != nil {
		return err
	}
	if graphs[cfg.Loss] == nil {
		return fmt.Errorf("xent/gomlx: loss %s has no graph in this adapter yet: %w", cfg.Loss, xent.ErrOption)
	}
	return nil
}

// build makes the loss's graph.
func build(cfg xent.Config[float64], logits, targets, s *Node) *Node {
	if logits.Rank() < 2 {
		panic(fmt.Sprintf("xent/gomlx: logits of shape %s: want (N, C, d1…dk)", logits.Shape()))
	}
	if !logits.DType().IsFloat() {
		panic(fmt.Sprintf("xent/gomlx: logits of dtype %s: want a float", logits.DType()))
	}
	return graphs[cfg.Loss](cfg, logits, targets, s) // check rejected unknown losses
}

// graphs are the losses' graphs: today one for every loss of xent's
// registry. A loss added to the registry before its graph is written here
// is refused by NewLoss with an error that names it, so that adding a loss
// to xent changes nothing in this package.
var graphs = map[xent.Loss]func(cfg xent.Config[float64], logits, targets, s *Node) *Node{
	xent.Softmax:           softmax,
	xent.SoftmaxProb:       softmaxProb,
	xent.MultiLabelSoftmax: multiLabel,
	xent.Sigmoid:           sigmoid,
	xent.SigmoidFocal:      sigmoidFocal,
	xent.SoftmaxFocal:      softmaxFocal,
	xent.Asymmetric:        asymmetric,
}

// perClass returns v (one value per class) shaped to broadcast along axis
// 1 of logits, or nil for nil v.
func perClass(logits *Node, v []float64, name string) *Node {
	if v == nil {
		return nil
	}
	classes := logits.Shape().Dimensions[1]
	if len(v) != classes {
		panic(fmt.Sprintf("xent/gomlx: %s has %d values; logits %s have C = %d", name, len(v), logits.Shape(), classes))
	}
	dims := make([]int, logits.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[1] = classes
	return Reshape(ConvertDType(Const(logits.Graph(), v), logits.DType()), dims...)
}

// scalar returns v as a scalar node of x's dtype.
func scalar(x *Node, v float64) *Node { return Scalar(x.Graph(), x.DType(), v) }

// positionsShape is logits' shape without axis 1.
func positionsShape(logits *Node) []int {
	d := logits.Shape().Dimensions
	return append(append([]int{}, d[0]), d[2:]...)
}

// oneHot returns the one-hot rows of index targets y (N, d…) with the
// class on axis 1, of logits' dtype: all zero where y is the ignore index
// or outside [0, C).
func oneHot(logits, y *Node, ignore int) (hot, counted *Node) {
	if !y.DType().IsInt() {
		panic(fmt.Sprintf("xent/gomlx: index targets of dtype %s: want an integer dtype", y.DType()))
	}
	if !slicesEqual(y.Shape().Dimensions, positionsShape(logits)) {
		panic(fmt.Sprintf("xent/gomlx: index targets of shape %s; logits %s need %v", y.Shape(), logits.Shape(), positionsShape(logits)))
	}
	classes := logits.Shape().Dimensions[1]
	y = ConvertDType(y, dtypes.Int64)
	g := y.Graph()
	counted = NotEqual(y, Scalar(g, dtypes.Int64, ignore))
	safe := Where(counted, y, ZerosLike(y))
	hot = OneHot(safe, classes, logits.DType()) // (N, d…, C)
	rank := hot.Rank()
	perm := append([]int{0, rank - 1}, seq(1, rank-1)...)
	hot = TransposeAllDims(hot, perm...)
	hot = Mul(hot, ExpandAxes(ConvertDType(counted, logits.DType()), 1))
	return hot, counted
}

func seq(from, to int) []int {
	s := []int{}
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// weigh multiplies the per-position (or per-element: axis 1 is the class)
// losses l by the sample weights s (nil: none), and returns them with the
// mean's divisor: count is, per position (or element), what it contributes
// to the divisor without sample weights, or nil for 1 each.
func weigh(l, count, s *Node) (weighted, divisor *Node) {
	if count == nil {
		count = OnesLike(l)
	}
	if s != nil {
		if l.Rank() > s.Rank() {
			s = ExpandAxes(s, 1)
		}
		l, count = Mul(l, s), Mul(count, s)
	}
	return l, ReduceAllSum(count)
}

// reduce applies the reduction to per-position (or per-element) losses l:
// Mean divides by count, and a mean over a count of 0 is 0 with a zero
// gradient.
func reduce(r xent.Reduction, l, count *Node) *Node {
	switch r {
	case xent.None:
		return l
	case xent.Sum:
		return ReduceAllSum(l)
	case xent.BatchMean:
		return DivScalar(ReduceAllSum(l), float64(l.Shape().Dimensions[0]))
	}
	positive := GreaterThan(count, ZerosLike(count))
	safe := Where(positive, count, OnesLike(count))
	return Where(positive, Div(ReduceAllSum(l), safe), ZerosLike(count))
}

func ignoreIndex(cfg xent.Config[float64]) int {
	if cfg.IgnoreIndex != nil {
		return *cfg.IgnoreIndex
	}
	return xent.DefaultIgnoreIndex
}

// softmax is xent.SoftmaxCrossEntropy: (1−ε)(−w_y log p_y) + (ε/C)(−Σ w_c log p_c),
// plus Poly-1's ε_poly·Σ_c w_c t'_c (1 − p_c), Mean over Σ w_y of the
// counted positions.
func softmax(cfg xent.Config[float64], logits, y, s *Node) *Node {
	logp := LogSoftmax(logits, 1)
	hot, counted := oneHot(logits, y, ignoreIndex(cfg))
	w := perClass(logits, cfg.Weight, "weight")
	wHot := hot
	if w != nil {
		wHot = Mul(hot, w)
	}
	l := Neg(ReduceSum(Mul(wHot, logp), 1))
	eps := cfg.LabelSmoothing
	if eps > 0 {
		classes := float64(logits.Shape().Dimensions[1])
		wl := logp
		if w != nil {
			wl = Mul(w, logp)
		}
		smooth := Neg(ReduceSum(wl, 1))
		smooth = Mul(smooth, ConvertDType(counted, logits.DType()))
		l = Add(MulScalar(l, 1-eps), MulScalar(smooth, eps/classes))
	}
	if cfg.PolyEpsilon != 0 { // t' = (1−ε)e_y + ε/C on the counted positions
		classes := float64(logits.Shape().Dimensions[1])
		t := Add(MulScalar(hot, 1-eps), MulScalar(ExpandAxes(ConvertDType(counted, logits.DType()), 1), eps/classes))
		if w != nil {
			t = Mul(t, w)
		}
		l = Add(l, polyTerm(cfg.PolyEpsilon, t, logp))
	}
	l, count := weigh(l, ReduceSum(wHot, 1), s)
	return reduce(cfg.Reduction, l, count)
}

// polyTerm is Poly-1's ε·Σ_c v_c·(1 − p_c) for weighted targets v, per
// position.
func polyTerm(eps float64, v, logp *Node) *Node {
	return MulScalar(ReduceSum(Mul(v, OneMinus(Exp(logp))), 1), eps)
}

// floatTargets checks that t has the logits' shape and dtype.
func floatTargets(logits, t *Node) {
	if !t.Shape().Equal(logits.Shape()) {
		panic(fmt.Sprintf("xent/gomlx: targets of shape %s; %s needs the logits' shape %s", t.Shape(), "this loss", logits.Shape()))
	}
}

// softmaxProb is xent.SoftmaxProbCrossEntropy: −Σ w t' log p with
// t' = (1−ε)t + ε/C, Mean over the positions.
func softmaxProb(cfg xent.Config[float64], logits, t, s *Node) *Node {
	floatTargets(logits, t)
	classes := float64(logits.Shape().Dimensions[1])
	if eps := cfg.LabelSmoothing; eps > 0 {
		t = AddScalar(MulScalar(t, 1-eps), eps/classes)
	}
	if w := perClass(logits, cfg.Weight, "weight"); w != nil {
		t = Mul(t, w)
	}
	logp := LogSoftmax(logits, 1)
	l := Neg(ReduceSum(Mul(t, logp), 1))
	if cfg.PolyEpsilon != 0 {
		l = Add(l, polyTerm(cfg.PolyEpsilon, t, logp))
	}
	l, count := weigh(l, nil, s)
	return reduce(cfg.Reduction, l, count)
}

// multiLabel is xent.MultiLabelSoftmaxCrossEntropy: −(1/M) Σ y log p,
// positions with M = 0 give 0 and are not counted.
func multiLabel(cfg xent.Config[float64], logits, y, s *Node) *Node {
	floatTargets(logits, y)
	m := ReduceSum(y, 1)
	positive := GreaterThan(m, ZerosLike(m))
	safe := Where(positive, m, OnesLike(m))
	l := Div(Neg(ReduceSum(Mul(y, LogSoftmax(logits, 1)), 1)), safe)
	l = Where(positive, l, ZerosLike(l))
	l, count := weigh(l, ConvertDType(positive, logits.DType()), s)
	return reduce(cfg.Reduction, l, count)
}

// softplusNeg returns softplus(−x) = max(−x, 0) + log1p(e^−|x|) with the
// exact derivative −σ(−x): the value comes from the stable formula with no
// gradient, and a term of value 0 carries the derivative (autodiff of the
// formula would give 0 or −1 at x = 0, not −1/2).
func softplusNeg(x *Node) *Node {
	value := Add(Max(Neg(x), ZerosLike(x)), Log1p(Exp(Neg(Abs(x)))))
	return withDerivative(x, value, func(x *Node) *Node { return Neg(Sigmoid(Neg(x))) })
}

// expm1 returns e^z − 1 (GoMLX's Expm1, which has no gradient) with its
// derivative e^z.
func expm1(z *Node) *Node { return withDerivative(z, Expm1(z), Exp) }

// withDerivative returns value, a function of x computed without a
// gradient, whose derivative with respect to x is derivative(x): the value
// comes through StopGradient and a term of value 0 carries the gradient
// (0 where x is infinite, where the term would be Inf − Inf).
func withDerivative(x, value *Node, derivative func(x *Node) *Node) *Node {
	carrier := IdentityWithCustomGradient(x, func(x, v *Node) *Node { return Mul(v, derivative(x)) })
	zero := Sub(carrier, StopGradient(carrier))
	return Add(StopGradient(value), Where(IsFinite(x), zero, ZerosLike(x)))
}

// bce returns the unweighted binary cross-entropy (1−t)x + lw·softplus(−x)
// with lw = 1 + (q−1)t (q nil: 1).
func bce(x, t, q *Node) *Node {
	sp := softplusNeg(x)
	lin := Mul(OneMinus(t), x)
	if q == nil {
		return Add(lin, sp)
	}
	lw := Add(OnesLike(t), Mul(AddScalar(q, -1), t))
	return Add(lin, Mul(lw, sp))
}

// sigmoid is xent.SigmoidCrossEntropy, Mean over every element.
func sigmoid(cfg xent.Config[float64], x, t, s *Node) *Node {
	floatTargets(x, t)
	l := bce(x, t, perClass(x, cfg.PosWeight, "pos_weight"))
	if w := perClass(x, cfg.Weight, "weight"); w != nil {
		l = Mul(l, w)
	}
	l, count := weigh(l, nil, s)
	return reduce(cfg.Reduction, l, count)
}

// power returns u^γ for u ≥ 0 whose derivative is finite where u > 0 and
// 0 where u = 0 (γ > 0): the base is 1 where u is 0, and the result 0
// there.
func power(u *Node, gamma float64) *Node {
	positive := GreaterThan(u, ZerosLike(u))
	safe := Where(positive, u, OnesLike(u))
	return Where(positive, Pow(safe, scalar(u, gamma)), ZerosLike(u))
}

// sigmoidFocal is xent.SigmoidFocalLoss: α_t·(1−p_t)^γ·bce, with
// 1−p_t = t·σ(−x) + (1−t)·σ(x).
func sigmoidFocal(cfg xent.Config[float64], x, t, s *Node) *Node {
	floatTargets(x, t)
	alpha, gamma := xent.DefaultFocalAlpha, xent.DefaultFocalGamma
	if cfg.Alpha != nil {
		alpha = *cfg.Alpha
	}
	if cfg.Gamma != nil {
		gamma = *cfg.Gamma
	}
	l := bce(x, t, nil)
	if gamma != 0 {
		u := Add(Mul(t, Sigmoid(Neg(x))), Mul(OneMinus(t), Sigmoid(x)))
		l = Mul(power(u, gamma), l)
	}
	if alpha >= 0 {
		at := Add(MulScalar(t, alpha), MulScalar(OneMinus(t), 1-alpha))
		l = Mul(at, l)
	}
	l, count := weigh(l, nil, s)
	return reduce(cfg.Reduction, l, count)
}

// softmaxFocal is xent.SoftmaxFocalLoss: −α_y (1−p_y)^γ log p_y, with
// 1−p_y = −expm1(log p_y), Mean over the counted positions.
func softmaxFocal(cfg xent.Config[float64], logits, y, s *Node) *Node {
	gamma := xent.DefaultFocalGamma
	if cfg.Gamma != nil {
		gamma = *cfg.Gamma
	}
	hot, counted := oneHot(logits, y, ignoreIndex(cfg))
	logpy := ReduceSum(Mul(hot, LogSoftmax(logits, 1)), 1) // 0 where not counted
	l := Neg(logpy)
	if gamma != 0 {
		l = Mul(power(Neg(expm1(logpy)), gamma), l)
	}
	if a := perClass(logits, cfg.ClassAlpha, "alpha"); a != nil {
		l = Mul(ReduceSum(Mul(hot, a), 1), l)
	}
	l, count := weigh(l, ConvertDType(counted, logits.DType()), s)
	return reduce(cfg.Reduction, l, count)
}

// asymmetric is xent.AsymmetricLoss: −w·[t·(1−p)^γ+·log p +
// (1−t)·p_m^γ−·log(1 − p_m)], p_m = max(σ(x) − m, 0), with log p =
// −softplus(−x), 1 − p = σ(−x), log(1 − p_m) = log(min(1, σ(−x) + m)) (for
// m = 0, −softplus(x)), Mean over every element. DetachFocalWeight stops
// the gradient of the two factors.
func asymmetric(cfg xent.Config[float64], x, t, s *Node) *Node {
	floatTargets(x, t)
	gp, gn, m := xent.DefaultAsymmetricGammaPos, xent.DefaultAsymmetricGammaNeg, xent.DefaultAsymmetricClip
	for _, o := range []struct {
		v   *float64
		dst *float64
	}{{cfg.GammaPos, &gp}, {cfg.GammaNeg, &gn}, {cfg.Clip, &m}} {
		if o.v != nil {
			*o.dst = *o.v
		}
	}
	factor := func(f *Node) *Node {
		if cfg.DetachFocalWeight {
			return StopGradient(f)
		}
		return f
	}
	pos := softplusNeg(x) // −log p
	if gp != 0 {
		pos = Mul(factor(power(Sigmoid(Neg(x)), gp)), pos)
	}
	var neg *Node // −log(1 − p_m)
	var pm *Node
	if m == 0 {
		neg, pm = softplusNeg(Neg(x)), Sigmoid(x)
	} else {
		pm = Max(AddScalar(Sigmoid(x), -m), ZerosLike(x))
		neg = Neg(Log(Min(AddScalar(Sigmoid(Neg(x)), m), OnesLike(x))))
	}
	if gn != 0 {
		neg = Mul(factor(power(pm, gn)), neg)
	}
	l := Add(Mul(t, pos), Mul(OneMinus(t), neg))
	if w := perClass(x, cfg.Weight, "weight"); w != nil {
		l = Mul(l, w)
	}
	l, count := weigh(l, nil, s)
	return reduce(cfg.Reduction, l, count)
}
