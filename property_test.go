package xent_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/gradcheck"
)

// evaluate runs cfg with a gradient and per-loss losses and returns them.
func evaluate[T xent.Float](t *testing.T, cfg xent.Config[T], shape []int, logits []T, indices []int64, targets []T) (T, []T, []T) {
	t.Helper()
	n := len(logits)
	if !cfg.Loss.PerElement() {
		n /= shape[1]
	}
	out := xent.Output[T]{Grad: make([]T, len(logits)), Losses: make([]T, n)}
	v, err := xent.Evaluate(cfg, shape, logits, indices, targets, out)
	if err != nil {
		t.Fatal(err)
	}
	return v, out.Grad, out.Losses
}

func sameBits[T xent.Float](t *testing.T, what string, a, b []T) {
	t.Helper()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s[%d]: %v != %v", what, i, a[i], b[i])
		}
	}
}

func within(t *testing.T, what string, got, want []float64, dtype string) {
	t.Helper()
	if err := golden.Compare(what, got, want, dtype); err != nil {
		t.Error(err)
	}
}

var propertyShapes = [][]int{{7, 5}, {3, 4, 2, 3}, {1, 1}, {2, 1, 3}}

// TestFocalGammaZeroIsCrossEntropy: sigmoid-focal with γ = 0 and α < 0 is
// sigmoid to the bit; softmax-focal with γ = 0 is softmax weighted by α
// (equal sums; Mean divides by the count of positions, not Σ α_y).
func TestFocalGammaZeroIsCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, shape := range propertyShapes {
		for _, red := range []xent.Reduction{xent.Mean, xent.Sum, xent.None, xent.BatchMean} {
			logits, _, targets := gradcheck.RandomInputs(rng, xent.Sigmoid, shape)
			v1, g1, l1 := evaluate(t, xent.Config[float64]{Loss: xent.Sigmoid, Reduction: red}, shape, logits, nil, targets)
			v2, g2, l2 := evaluate(t, xent.Config[float64]{Loss: xent.SigmoidFocal, Reduction: red, Alpha: new(-1.0), Gamma: new(0.0)}, shape, logits, nil, targets)
			if v1 != v2 {
				t.Errorf("%v %v: sigmoid %v, focal γ=0 %v", shape, red, v1, v2)
			}
			sameBits(t, "grad", g1, g2)
			sameBits(t, "losses", l1, l2)

			logits, indices, _ := gradcheck.RandomInputs(rng, xent.Softmax, shape)
			alpha := gradcheck.PositiveWeights(rng, shape[1])
			if red == xent.Mean {
				alpha = nil // the divisors differ when α is set
			}
			v1, g1, l1 = evaluate(t, xent.Config[float64]{Loss: xent.Softmax, Reduction: red, Weight: alpha}, shape, logits, indices, nil)
			v2, g2, l2 = evaluate(t, xent.Config[float64]{Loss: xent.SoftmaxFocal, Reduction: red, ClassAlpha: alpha, Gamma: new(0.0)}, shape, logits, indices, nil)
			within(t, "softmax-focal γ=0 value", []float64{v2}, []float64{v1}, "float64")
			within(t, "softmax-focal γ=0 grad", g2, g1, "float64")
			within(t, "softmax-focal γ=0 losses", l2, l1, "float64")
		}
	}
}

// oneHot returns the float targets of indices (shape's positions), with
// ignored positions left all zero.
func oneHot(shape []int, indices []int64) []float64 {
	classes, inner := shape[1], 1
	for _, d := range shape[2:] {
		inner *= d
	}
	out := make([]float64, len(indices)*classes)
	for p, y := range indices {
		if y >= 0 {
			n, s := p/inner, p%inner
			out[n*classes*inner+int(y)*inner+s] = 1
		}
	}
	return out
}

// TestOneHotTargetsAreSoftmax: multilabel-softmax with one positive per
// position, and softmax-prob with one-hot targets, equal softmax.
func TestOneHotTargetsAreSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, shape := range propertyShapes {
		for _, red := range []xent.Reduction{xent.Mean, xent.Sum, xent.None, xent.BatchMean} {
			logits, indices, _ := gradcheck.RandomInputs(rng, xent.Softmax, shape)
			for p := range indices {
				indices[p] = int64(rng.IntN(shape[1])) // no ignored position
			}
			hot := oneHot(shape, indices)
			v1, g1, l1 := evaluate(t, xent.Config[float64]{Loss: xent.Softmax, Reduction: red}, shape, logits, indices, nil)
			for _, loss := range []xent.Loss{xent.MultiLabelSoftmax, xent.SoftmaxProb} {
				v2, g2, l2 := evaluate(t, xent.Config[float64]{Loss: loss, Reduction: red}, shape, logits, nil, hot)
				within(t, string(loss)+" value", []float64{v2}, []float64{v1}, "float64")
				within(t, string(loss)+" grad", g2, g1, "float64")
				within(t, string(loss)+" losses", l2, l1, "float64")
			}
		}
	}
}

// TestShiftInvariance: adding a constant to every logit of a position
// changes neither loss nor gradient of the softmax-family losses.
func TestShiftInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, loss := range []xent.Loss{xent.Softmax, xent.SoftmaxProb, xent.MultiLabelSoftmax, xent.SoftmaxFocal} {
		for _, shape := range propertyShapes {
			logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
			cfg := xent.Config[float64]{Loss: loss, Reduction: xent.Sum}
			v1, g1, _ := evaluate(t, cfg, shape, logits, indices, targets)
			classes, inner := shape[1], len(logits)/shape[0]/shape[1]
			shifted := append([]float64(nil), logits...)
			for n := 0; n < shape[0]; n++ {
				for s := 0; s < inner; s++ {
					k := 1000 * (2*rng.Float64() - 1)
					for c := 0; c < classes; c++ {
						shifted[n*classes*inner+c*inner+s] += k
					}
				}
			}
			v2, g2, _ := evaluate(t, cfg, shape, shifted, indices, targets)
			// The shift rounds each logit by up to 2⁻⁴³ (|x| < 2¹⁰), so the
			// comparison allows that much more than the float64 tolerance.
			if math.Abs(v2-v1) > 1e-9*math.Max(1, math.Abs(v1)) {
				t.Errorf("%s %v: value %v, shifted %v", loss, shape, v1, v2)
			}
			for i := range g1 {
				if math.Abs(g1[i]-g2[i]) > 1e-9 {
					t.Fatalf("%s %v: grad[%d] %v, shifted %v", loss, shape, i, g1[i], g2[i])
				}
			}
		}
	}
}

// TestExtremeLogitsFloat32: logits of ±1e4 in float32 give finite values
// that agree with the float64 computation on the same inputs.
func TestExtremeLogitsFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	shape := []int{16, 7}
	for _, loss := range xent.Losses {
		for _, red := range []xent.Reduction{xent.Mean, xent.None} {
			logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
			for i := range logits {
				logits[i] = float64(float32(logits[i] * 2500)) // ±1e4
				if rng.IntN(4) == 0 {
					logits[i] = float64(float32(math.Copysign(1e4, logits[i])))
				}
			}
			cfg := xent.Config[float64]{Loss: loss, Reduction: red}
			v64, g64, l64 := evaluate(t, cfg, shape, logits, indices, targets)
			cfg32 := xent.Config[float32]{Loss: loss, Reduction: red}
			v32, g32, l32 := evaluate(t, cfg32, shape, golden.Convert[float32](logits), indices, golden.Convert[float32](targets))
			for _, v := range append(append(golden.Float64s(g32), golden.Float64s(l32)...), float64(v32)) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s %v: a non-finite result %v", loss, red, v)
				}
			}
			if v64 < 100 && red == xent.Mean {
				t.Errorf("%s: mean loss %v is too small for logits of ±1e4", loss, v64)
			}
			within(t, string(loss)+" value", []float64{float64(v32)}, []float64{v64}, "float32")
			within(t, string(loss)+" grad", golden.Float64s(g32), g64, "float32")
			within(t, string(loss)+" losses", golden.Float64s(l32), l64, "float32")
		}
	}
}

// TestNaNLogitPoisonsItsPositionOnly: a NaN logit makes its own position's
// loss and gradient NaN, and leaves the others alone.
func TestNaNLogitPoisonsItsPositionOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shape := []int{3, 4}
	for _, loss := range xent.Losses {
		logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
		for p := range indices {
			indices[p] = int64(p % shape[1])
		}
		if targets != nil && !loss.PerElement() {
			for i := range targets {
				targets[i] = 1
			}
		}
		logits[5] = math.NaN() // position 1, class 1
		v, grad, losses := evaluate(t, xent.Config[float64]{Loss: loss, Reduction: xent.None}, shape, logits, indices, targets)
		if !math.IsNaN(v) {
			t.Errorf("%s: value %v, want NaN", loss, v)
		}
		for i, g := range grad {
			poisoned := i/4 == 1
			if loss.PerElement() {
				poisoned = i == 5
			}
			if math.IsNaN(g) != poisoned {
				t.Errorf("%s: grad[%d] = %v", loss, i, g)
			}
		}
		for i, l := range losses {
			poisoned := i == 1
			if loss.PerElement() {
				poisoned = i == 5
			}
			if math.IsNaN(l) != poisoned {
				t.Errorf("%s: losses[%d] = %v", loss, i, l)
			}
		}
	}
}

// TestEmptyMeanIsZero: a mean over nothing (every target ignored, no
// positive label, or N = 0) is 0 with a zero gradient, where PyTorch gives
// NaN.
func TestEmptyMeanIsZero(t *testing.T) {
	shape := []int{2, 3}
	logits := []float64{1, 2, 3, 4, 5, 6}
	cases := []struct {
		cfg     xent.Config[float64]
		indices []int64
		targets []float64
	}{
		{xent.Config[float64]{Loss: xent.Softmax}, []int64{-100, -100}, nil},
		{xent.Config[float64]{Loss: xent.SoftmaxFocal}, []int64{-100, -100}, nil},
		{xent.Config[float64]{Loss: xent.MultiLabelSoftmax}, nil, make([]float64, 6)},
		{xent.Config[float64]{Loss: xent.Softmax, Weight: []float64{0, 1, 1}}, []int64{0, 0}, nil},
	}
	for _, c := range cases {
		grad := []float64{9, 9, 9, 9, 9, 9}
		v, err := xent.Evaluate(c.cfg, shape, logits, c.indices, c.targets, xent.Output[float64]{Grad: grad})
		if err != nil {
			t.Fatal(err)
		}
		if v != 0 {
			t.Errorf("%s: value %v, want 0", c.cfg.Loss, v)
		}
		for i, g := range grad {
			if g != 0 {
				t.Errorf("%s: grad[%d] = %v, want 0", c.cfg.Loss, i, g)
			}
		}
	}
	for _, loss := range xent.Losses {
		for _, red := range []xent.Reduction{xent.Mean, xent.BatchMean, xent.Sum, xent.None} {
			var indices []int64
			var targets []float64
			if loss.IndexTargets() {
				indices = []int64{}
			} else {
				targets = []float64{}
			}
			v, err := xent.Evaluate(xent.Config[float64]{Loss: loss, Reduction: red}, []int{0, 3}, []float64{}, indices, targets, xent.Output[float64]{Grad: []float64{}})
			if err != nil || v != 0 {
				t.Errorf("%s %v on N = 0: %v, %v; want 0, nil", loss, red, v, err)
			}
		}
	}
}
