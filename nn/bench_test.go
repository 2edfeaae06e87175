package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/xent-go/xent"
)

// BenchmarkTrainStep is one Adam step of the default network on a batch
// of 64 random 28×28 images: forward, softmax cross-entropy, backward,
// update. images/s is the figure to compare with PyTorch.
func BenchmarkTrainStep(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			net, err := DefaultNetwork[float32](10, 1, workers)
			if err != nil {
				b.Fatal(err)
			}
			const batch = 64
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, batch*net.In.Size())
			for i := range x {
				x[i] = rng.Float32()
			}
			labels := make([]int64, batch)
			for i := range labels {
				labels[i] = int64(i % 10)
			}
			grad := make([]float32, batch*10)
			opt := &Adam[float32]{LR: 1e-3}
			opts := xent.SoftmaxOptions[float32]{Workers: workers}
			b.ResetTimer()
			for range b.N {
				logits, err := net.Forward(x, batch)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := xent.SoftmaxCrossEntropy([]int{batch, 10}, logits, labels, opts, xent.Output[float32]{Grad: grad}); err != nil {
					b.Fatal(err)
				}
				net.ZeroGrad()
				if _, err := net.Backward(grad); err != nil {
					b.Fatal(err)
				}
				if err := opt.Step(net.Params()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
