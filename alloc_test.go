package xent_test

import (
	"math/rand/v2"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/gradcheck"
)

// TestNoAllocation: once the buffers exist, a call allocates nothing, for
// every loss and both precisions.
func TestNoAllocation(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	shape := []int{8, 10, 3}
	for _, loss := range xent.Losses {
		for _, red := range []xent.Reduction{xent.Mean, xent.None} {
			logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
			n := len(logits)
			if !loss.PerElement() {
				n /= shape[1]
			}
			x32, t32 := golden.Convert[float32](logits), golden.Convert[float32](targets)
			out32 := xent.Output[float32]{Grad: make([]float32, len(logits)), Losses: make([]float32, n)}
			cfg32 := xent.Config[float32]{Loss: loss, Reduction: red}
			if a := testing.AllocsPerRun(20, func() {
				if _, err := xent.Evaluate(cfg32, shape, x32, indices, t32, out32); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("%s %v float32: %v allocations per call", loss, red, a)
			}
			out64 := xent.Output[float64]{Grad: make([]float64, len(logits)), Losses: make([]float64, n)}
			cfg64 := xent.Config[float64]{Loss: loss, Reduction: red}
			if a := testing.AllocsPerRun(20, func() {
				if _, err := xent.Evaluate(cfg64, shape, logits, indices, targets, out64); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("%s %v float64: %v allocations per call", loss, red, a)
			}
		}
	}
	// The direct calls, not through Evaluate.
	logits, indices, _ := gradcheck.RandomInputs(rng, xent.Softmax, shape)
	grad := make([]float64, len(logits))
	if a := testing.AllocsPerRun(20, func() {
		xent.SoftmaxCrossEntropy(shape, logits, indices, xent.SoftmaxOptions[float64]{LabelSmoothing: 0.1}, xent.Output[float64]{Grad: grad})
	}); a != 0 {
		t.Errorf("SoftmaxCrossEntropy: %v allocations per call", a)
	}
}
