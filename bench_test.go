package xent_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/gradcheck"
)

// BenchmarkLoss times the fused value+gradient call of every loss in both
// precisions on the shapes of the speed goals; bytes are the logits read
// and the gradient written.
func BenchmarkLoss(b *testing.B) {
	shapes := [][]int{{4096, 1000}, {256, 32000}, {65536, 80}, {64, 21, 64, 64}}
	for _, loss := range xent.Losses {
		for _, shape := range shapes {
			if shape[1] > 1000 && loss != xent.Softmax {
				continue
			}
			rng := rand.New(rand.NewPCG(1, 2))
			logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
			b.Run(fmt.Sprintf("%s/%v/float32", loss, shape), func(b *testing.B) {
				benchLoss(b, loss, shape, golden.Convert[float32](logits), indices, golden.Convert[float32](targets))
			})
			b.Run(fmt.Sprintf("%s/%v/float64", loss, shape), func(b *testing.B) {
				benchLoss(b, loss, shape, logits, indices, targets)
			})
		}
	}
}

func benchLoss[T xent.Float](b *testing.B, loss xent.Loss, shape []int, logits []T, indices []int64, targets []T) {
	grad := make([]T, len(logits))
	cfg := xent.Config[T]{Loss: loss}
	var zero T
	size := int64(len(logits)) * 2 * int64(sizeof(zero))
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := xent.Evaluate(cfg, shape, logits, indices, targets, xent.Output[T]{Grad: grad}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(logits)), "ns/elem")
}

func sizeof[T xent.Float](v T) int {
	if _, ok := any(v).(float32); ok {
		return 4
	}
	return 8
}
