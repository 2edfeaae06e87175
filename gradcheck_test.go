package xent_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/gradcheck"
)

// optionSets lists the option combinations of each loss that the gradient
// check covers, for C classes.
func optionSets(rng *rand.Rand, loss xent.Loss, classes int) map[string]xent.Config[float64] {
	sets := map[string]xent.Config[float64]{"plain": {}}
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
