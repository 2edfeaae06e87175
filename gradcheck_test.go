package xent_test

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/gradcheck"
)

// optionSets lists the option combinations of each loss that the gradient
// check covers, for C classes.
func optionSets(rng *rand.Rand, loss xent.Loss, classes int) map[string]xent.Config[float64] {
	sets := map[string]xent.Config[float64]{"plain": {}, "sample": {}} // "sample": random sample weights, drawn per shape
	switch loss {
	case xent.Softmax:
		sets["weight"] = xent.Config[float64]{Weight: gradcheck.PositiveWeights(rng, classes)}
		sets["ignore0"] = xent.Config[float64]{IgnoreIndex: new(0)}
		sets["smoothing"] = xent.Config[float64]{LabelSmoothing: 0.15}
		sets["all"] = xent.Config[float64]{Weight: gradcheck.PositiveWeights(rng, classes), IgnoreIndex: new(1), LabelSmoothing: 0.3}
	case xent.SoftmaxProb:
		sets["weight"] = xent.Config[float64]{Weight: gradcheck.PositiveWeights(rng, classes)}
		sets["smoothing"] = xent.Config[float64]{LabelSmoothing: 0.2}
		sets["all"] = xent.Config[float64]{Weight: gradcheck.PositiveWeights(rng, classes), LabelSmoothing: 0.5}
	case xent.Sigmoid:
		sets["weight"] = xent.Config[float64]{Weight: gradcheck.PositiveWeights(rng, classes)}
		sets["pos_weight"] = xent.Config[float64]{PosWeight: gradcheck.PositiveWeights(rng, classes)}
		sets["all"] = xent.Config[float64]{Weight: gradcheck.PositiveWeights(rng, classes), PosWeight: gradcheck.PositiveWeights(rng, classes)}
	case xent.SigmoidFocal:
		for _, a := range []float64{0.25, -1, 0, 1} {
			for _, g := range []float64{0, 0.5, 1, 2, 5} {
				sets[fmt.Sprintf("a%v_g%v", a, g)] = xent.Config[float64]{Alpha: new(a), Gamma: new(g)}
			}
		}
	case xent.SoftmaxFocal:
		for _, g := range []float64{0, 0.5, 1, 1.5, 2, 5} {
			sets[fmt.Sprintf("g%v", g)] = xent.Config[float64]{Gamma: new(g)}
			sets[fmt.Sprintf("alpha_g%v", g)] = xent.Config[float64]{Gamma: new(g), ClassAlpha: gradcheck.PositiveWeights(rng, classes)}
		}
		sets["ignore2_alpha"] = xent.Config[float64]{IgnoreIndex: new(2), ClassAlpha: gradcheck.PositiveWeights(rng, classes)}
	case xent.Asymmetric:
		for _, g := range [][2]float64{{0, 0}, {0, 4}, {1, 4}, {0.5, 2.5}, {2, 1}} {
			for _, m := range []float64{0, 0.05, 0.2} {
				// DetachFocalWeight's gradient is not the loss's derivative:
				// TestAsymmetricDetach checks it against its own definition.
				sets[fmt.Sprintf("gp%v_gn%v_m%v", g[0], g[1], m)] = xent.Config[float64]{
					GammaPos: new(g[0]), GammaNeg: new(g[1]), Clip: new(m)}
			}
		}
		sets["weight"] = xent.Config[float64]{Weight: gradcheck.PositiveWeights(rng, classes)}
	}
	switch loss {
	case xent.Softmax:
		sets["poly"] = xent.Config[float64]{PolyEpsilon: 1.5}
		sets["poly_all"] = xent.Config[float64]{PolyEpsilon: -0.5, Weight: gradcheck.PositiveWeights(rng, classes), LabelSmoothing: 0.2}
	case xent.SoftmaxProb:
		sets["poly"] = xent.Config[float64]{PolyEpsilon: 2}
		sets["poly_all"] = xent.Config[float64]{PolyEpsilon: -1, Weight: gradcheck.PositiveWeights(rng, classes), LabelSmoothing: 0.3}
	}
	return sets
}

// TestGradientFiniteDifference checks the analytic gradient of every loss,
// option set and reduction (None with and without an upstream gradient) on
// an (N, C) and an (N, C, d1, d2) shape against a finite difference.
func TestGradientFiniteDifference(t *testing.T) {
	const tolerance = 1e-6
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][]int{{5, 4}, {2, 3, 2, 3}}
	checked := 0
	for _, loss := range xent.Losses {
		for _, shape := range shapes {
			sets := optionSets(rng, loss, shape[1])
			for _, name := range slices.Sorted(maps.Keys(sets)) {
				opts := sets[name]
				for _, red := range []xent.Reduction{xent.Mean, xent.Sum, xent.None, xent.BatchMean} {
					for _, upstream := range []bool{false, true} {
						if upstream && red != xent.None {
							continue
						}
						logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
						cfg := opts
						cfg.Loss, cfg.Reduction = loss, red
						if upstream {
							n := len(logits)
							if !loss.PerElement() {
								n /= shape[1]
							}
							cfg.GradOutput = make([]float64, n)
							for i := range cfg.GradOutput {
								cfg.GradOutput[i] = 4*rng.Float64() - 2
							}
						}
						if cfg.Clip != nil && *cfg.Clip > 0 { // away from the kink of p_m at σ(x) = m
							kink := math.Log(*cfg.Clip / (1 - *cfg.Clip))
							for i, x := range logits {
								if math.Abs(x-kink) < 0.05 {
									logits[i] = kink + 0.1
								}
							}
						}
						if name == "sample" { // one weight per position, some 0
							cfg.SampleWeight = make([]float64, len(logits)/shape[1])
							for i := range cfg.SampleWeight {
								cfg.SampleWeight[i] = float64(rng.IntN(4)) * rng.Float64()
							}
						}
						for p := range indices {
							if indices[p] == xent.DefaultIgnoreIndex && cfg.IgnoreIndex != nil {
								indices[p] = int64(*cfg.IgnoreIndex)
							}
						}
						if len(indices) > 0 { // at least one counted position
							indices[0] = 0
							if cfg.IgnoreIndex != nil && *cfg.IgnoreIndex == 0 {
								indices[0] = 1
							}
						}
						label := fmt.Sprintf("%s/%s/%v/%v/upstream=%v", loss, name, shape, red, upstream)
						r, err := gradcheck.Check(cfg, shape, logits, indices, targets)
						if err != nil {
							t.Fatalf("%s: %v", label, err)
						}
						if !(r.WorstRelative <= tolerance) {
							t.Errorf("%s: relative error %.3g at logit %d: analytic %.12g, finite difference %.12g",
								label, r.WorstRelative, r.WorstAt, r.Analytic, r.Numeric)
						}
						if r.MaxGrad == 0 {
							t.Errorf("%s: the gradient is zero everywhere; the check proves nothing", label)
						}
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d gradient checks", checked)
}

// TestAsymmetricDetach checks DetachFocalWeight's gradient against its
// definition: the derivative of the loss with the factors (1−p)^γ+ and
// p_m^γ− frozen at the logit, taken by central differences of
// −w·[t·F+·log σ(x) + (1−t)·F−·log(1 − max(σ(x) − m, 0))].
func TestAsymmetricDetach(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, c := range [][3]float64{{0, 4, 0.05}, {1, 4, 0.05}, {0.5, 2.5, 0.2}, {2, 1, 0}, {0, 0, 0}} {
		gp, gn, m := c[0], c[1], c[2]
		const n = 64
		x, tg := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = 8*rng.Float64() - 4
			tg[i] = float64(rng.IntN(2))
			if rng.IntN(3) == 0 {
				tg[i] = rng.Float64()
			}
		}
		grad := make([]float64, n)
		if _, err := xent.AsymmetricLoss([]int{n, 1}, x, tg, xent.AsymmetricOptions[float64]{Reduction: xent.Sum,
			GammaPos: new(gp), GammaNeg: new(gn), Clip: new(m), DetachFocalWeight: true}, xent.Output[float64]{Grad: grad}); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			p := sigmoid(x[i])
			fPos, fNeg := math.Pow(1-p, gp), math.Pow(math.Max(p-m, 0), gn)
			surrogate := func(z float64) float64 {
				q := sigmoid(z)
				return -(tg[i]*fPos*math.Log(q) + (1-tg[i])*fNeg*math.Log(1-math.Max(q-m, 0)))
			}
			const h = 1e-5
			if m > 0 && math.Abs(p-m) < 1e-3 {
				continue // the kink of p_m
			}
			fd := (surrogate(x[i]+h) - surrogate(x[i]-h)) / (2 * h)
			if d := math.Abs(fd - grad[i]); d > 1e-7*math.Max(1, math.Abs(fd)) {
				t.Errorf("γ+ %v γ− %v m %v, x %v t %v: gradient %v, the frozen factors' derivative %v", gp, gn, m, x[i], tg[i], grad[i], fd)
			}
		}
	}
}
