package xent_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/gradcheck"
)

// TestAsymmetricIsSigmoid: with γ+ = γ− = m = 0 the asymmetric loss is
// binary cross-entropy: value, per-element losses and gradient within
// 1e-15 relative in float64, with and without class weights.
func TestAsymmetricIsSigmoid(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][]int{{16, 7}, {3, 5, 4, 4}} {
		x, _, tg := gradcheck.RandomInputs(rng, xent.Sigmoid, shape)
		for i := range x {
			x[i] *= 5 // logits in [−20, 20]
		}
		for _, w := range [][]float64{nil, gradcheck.PositiveWeights(rng, shape[1])} {
			for _, red := range []xent.Reduction{xent.Mean, xent.None} {
				outS := xent.Output[float64]{Grad: make([]float64, len(x)), Losses: make([]float64, len(x))}
				outA := xent.Output[float64]{Grad: make([]float64, len(x)), Losses: make([]float64, len(x))}
				vs, err := xent.SigmoidCrossEntropy(shape, x, tg, xent.SigmoidOptions[float64]{Reduction: red, Weight: w}, outS)
				if err != nil {
					t.Fatal(err)
				}
				va, err := xent.AsymmetricLoss(shape, x, tg, xent.AsymmetricOptions[float64]{Reduction: red, Weight: w,
					GammaPos: new(0.0), GammaNeg: new(0.0), Clip: new(0.0)}, outA)
				if err != nil {
					t.Fatal(err)
				}
				close := func(what string, a, b []float64) {
					for i := range a {
						if d := math.Abs(a[i] - b[i]); d > 1e-15*math.Abs(a[i]) && d > 1e-300 {
							t.Errorf("%v %v w=%v: %s[%d] asymmetric %v, sigmoid %v", shape, red, w != nil, what, i, b[i], a[i])
							return
						}
					}
				}
				close("value", []float64{vs}, []float64{va})
				close("losses", outS.Losses, outA.Losses)
				close("grad", outS.Grad, outA.Grad)
			}
		}
	}
}

// TestNeutralOptions: Poly-1 with ε = 0 and sample weights of all 1 give
// the results without them, to the bit, for every loss, reduction and
// kernel path, float32.
func TestNeutralOptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, path := range kernelPaths() {
		for _, shape := range [][]int{{9, 11}, {2, 5, 3, 7}, {64, 40}} {
			for _, loss := range xent.Losses {
				x64, idx, t64 := gradcheck.RandomInputs(rng, loss, shape)
				x, tg := golden.Convert[float32](x64), golden.Convert[float32](t64)
				ones := make([]float32, len(x)/shape[1])
				for i := range ones {
					ones[i] = 1
				}
				for _, red := range []xent.Reduction{xent.Mean, xent.Sum, xent.None, xent.BatchMean} {
					base := xent.Config[float32]{Loss: loss, Reduction: red}
					neutral := base
					neutral.SampleWeight = ones
					want := evaluateOn(path, base, shape, x, idx, tg)
					got := evaluateOn(path, neutral, shape, x, idx, tg)
					if want.err != nil || got.err != nil {
						t.Fatal(want.err, got.err)
					}
					if math.Float32bits(got.value) != math.Float32bits(want.value) || !slices.Equal(bits(got.grad), bits(want.grad)) ||
						!slices.Equal(bits(got.losses), bits(want.losses)) {
						t.Errorf("%v %s %v %v: sample weights of 1 change the result (%v, want %v)", path, loss, shape, red, got.value, want.value)
					}
					if loss.Takes("poly_epsilon") {
						poly := base
						if err := poly.SetNumber("poly_epsilon", 0); err != nil {
							t.Fatal(err)
						}
						if got := evaluateOn(path, poly, shape, x, idx, tg); got.err != nil || math.Float32bits(got.value) != math.Float32bits(want.value) ||
							!slices.Equal(bits(got.grad), bits(want.grad)) {
							t.Errorf("%v %s: ε_poly = 0 gives %v, want %v", path, loss, got.value, want.value)
						}
					}
				}
			}
		}
	}
}

// TestNewOptionsExtremeLogits: logits of ±1e4 give finite values and
// gradients for the asymmetric loss, Poly-1 and sample weights, float32.
func TestNewOptionsExtremeLogits(t *testing.T) {
	x := []float32{1e4, -1e4, 0, 1e4, -1e4, 3, -1e4, 1e4, -2}
	bin := []float32{1, 0, 1, 0, 1, 0, 0.5, 0.5, 1}
	idx := []int64{0, 1, 2}
	for _, cfg := range []xent.Config[float32]{
		{Loss: xent.Asymmetric},
		{Loss: xent.Asymmetric, GammaPos: new(1.0), GammaNeg: new(2.0), Clip: new(0.0)},
		{Loss: xent.Asymmetric, DetachFocalWeight: true},
		{Loss: xent.Softmax, PolyEpsilon: 2, SampleWeight: []float32{0.5, 2, 1}},
		{Loss: xent.Softmax, PolyEpsilon: -1, LabelSmoothing: 0.1, Weight: []float32{1, 2, 3}},
		{Loss: xent.Sigmoid, SampleWeight: []float32{0.5, 2, 1}},
	} {
		var indices []int64
		var targets []float32
		if cfg.Loss.IndexTargets() {
			indices = idx
		} else {
			targets = bin
		}
		out := xent.Output[float32]{Grad: make([]float32, len(x))}
		v, err := xent.Evaluate(cfg, []int{3, 3}, x, indices, targets, out)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Errorf("%+v: value %v", cfg, v)
		}
		for i, g := range out.Grad {
			if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
				t.Errorf("%+v: grad[%d] = %v", cfg, i, g)
			}
		}
	}
	// The asymmetric loss of a confident wrong positive is about |x|.
	v, _ := xent.AsymmetricLoss([]int{1, 1}, []float64{-1e4}, []float64{1}, xent.AsymmetricOptions[float64]{Reduction: xent.Sum}, xent.Output[float64]{})
	if v != 1e4 {
		t.Errorf("positive at −1e4: %v, want 1e4", v)
	}
}

func bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

// TestClassBalancedBad: the weights' bad inputs, each naming the class or
// the value, wrapping ErrOption.
func TestClassBalancedBad(t *testing.T) {
	for _, c := range []struct {
		counts []int64
		beta   float64
		want   string
	}{
		{nil, 0.9, "no class counts"},
		{[]int64{3, 0}, 0.9, "class 1 has count 0"},
		{[]int64{-1, 4}, 0, "class 0 has count -1"},
		{[]int64{3, 4}, 1, "beta 1 is outside [0, 1)"},
		{[]int64{3, 4}, -0.5, "beta -0.5"},
		{[]int64{3, 4}, math.NaN(), "beta NaN"},
	} {
		if _, err := xent.ClassBalancedWeights(c.counts, c.beta); !errors.Is(err, xent.ErrOption) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v β %v: %v, want %q", c.counts, c.beta, err, c.want)
		}
	}
	// β near 1: close to inverse frequencies, normalised to C, no NaN.
	w, err := xent.ClassBalancedWeights([]int64{1000, 10, 1}, 1-1e-12)
	if err != nil || math.Abs(w[0]+w[1]+w[2]-3) > 1e-12 || !(w[2] > w[1] && w[1] > w[0]) || math.Abs(w[1]/w[0]-100) > 1e-6 {
		t.Errorf("β = 1 − 1e-12: %v, %v", w, err)
	}
}

// TestSampleWeightsScalePositions: with reduction none, a sample weight s
// scales its position's losses and gradient by s (to float32 rounding), for
// every loss, on every path, on rows shorter and longer than a vector and
// on a K-dim shape — whichever way the kernels take the weights.
func TestSampleWeightsScalePositions(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, loss := range xent.Losses {
		for _, shape := range [][]int{{7, 10}, {5, 16}, {4, 37}, {3, 130}, {2, 21, 5}} {
			logits, indices, t64 := gradcheck.RandomInputs(rng, loss, shape)
			x, targets := golden.Convert[float32](logits), golden.Convert[float32](t64)
			positions := len(x) / shape[1]
			s := make([]float32, positions)
			for i := range s {
				s[i] = 0.25 + 2*rng.Float32()
			}
			inner := len(x) / (shape[0] * shape[1])
			sampleOf := func(i int) float64 { // the sample weight of element i
				n, k := i/(shape[1]*inner), i%inner
				return float64(s[n*inner+k])
			}
			for _, p := range kernelPaths() {
				plain := evaluateOn(p, xent.Config[float32]{Loss: loss, Reduction: xent.None}, shape, x, indices, targets)
				weighted := evaluateOn(p, xent.Config[float32]{Loss: loss, Reduction: xent.None, SampleWeight: s}, shape, x, indices, targets)
				if plain.err != nil || weighted.err != nil {
					t.Fatal(plain.err, weighted.err)
				}
				close := func(what string, i int, got, unweighted float32, s float64) {
					want := s * float64(unweighted) // to float32 rounding of terms of size 1 (a softmax gradient's p − t cancels)
					if math.Abs(float64(got)-want) > 2e-6*math.Abs(want)+1e-6*s {
						t.Fatalf("%v/%s/%v: %s[%d] = %v, want %v·%v = %v", p, loss, shape, what, i, got, s, unweighted, want)
					}
				}
				for i := range x {
					close("grad", i, weighted.grad[i], plain.grad[i], sampleOf(i))
				}
				for i := range weighted.losses {
					if loss.PerElement() {
						close("losses", i, weighted.losses[i], plain.losses[i], sampleOf(i))
					} else {
						close("losses", i, weighted.losses[i], plain.losses[i], float64(s[i]))
					}
				}
			}
		}
	}
}
