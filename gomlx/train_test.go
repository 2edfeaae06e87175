package gomlx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/xent-go/xent"
)

// blobs draws n points in 2-D around three centres, and their class.
func blobs(rng *rand.Rand, n int) ([][]float32, []int64) {
	centres := [3][2]float64{{-2, 0}, {2, 0}, {0, 2.5}}
	x, y := make([][]float32, n), make([]int64, n)
	for i := range x {
		c := rng.IntN(3)
		x[i] = []float32{float32(centres[c][0] + rng.NormFloat64()), float32(centres[c][1] + rng.NormFloat64())}
		y[i] = int64(c)
	}
	return x, y
}

// classifier is a small GoMLX model: dense 2 → 16, ReLU, dense 16 → 3.
func classifier(ctx *context.Context, _ any, inputs []*Node) []*Node {
	h := activations.Relu(layers.Dense(ctx.In("hidden"), inputs[0], true, 16))
	return []*Node{layers.Dense(ctx.In("logits"), h, true, 3)}
}

// train trains classifier with an xent loss on the simplego backend and
// returns the training loss and the accuracy before and after.
func trainClassifier(t *testing.T, b backends.Backend, cfg xent.Config[float64], steps int) (loss0, loss1, acc0, acc1 float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(51, 52))
	x, y := blobs(rng, 600)
	inputs, labels := tensors.FromValue(x), tensors.FromValue(y)
	lossFn, err := LossFn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.New()
	ctx.SetParam(optimizers.ParamLearningRate, 0.05)
	trainer := train.NewTrainer(b, ctx, classifier, lossFn, optimizers.Adam().Done(), nil, nil)
	accuracy := func() float64 {
		predict := context.MustNewExec(b, ctx.Reuse(), func(ctx *context.Context, x *Node) *Node {
			return classifier(ctx, nil, []*Node{x})[0]
		})
		out, err := predict.Exec(inputs)
		if err != nil {
			t.Fatal(err)
		}
		logits := tensors.MustCopyFlatData[float32](out[0])
		right := 0
		for i := range y {
			best := 0
			for c := 1; c < 3; c++ {
				if logits[3*i+c] > logits[3*i+best] {
					best = c
				}
			}
			if int64(best) == y[i] {
				right++
			}
		}
		return float64(right) / float64(len(y))
	}
	for step := range steps {
		metrics, err := trainer.TrainStep(nil, []*tensors.Tensor{inputs}, []*tensors.Tensor{labels})
		if err != nil {
			t.Fatal(err)
		}
		loss := tensors.MustCopyFlatData[float32](metrics[0])[0]
		if step == 0 {
			loss0, acc0 = float64(loss), accuracy()
		}
		loss1 = float64(loss)
	}
	return loss0, loss1, acc0, accuracy()
}

// TestTrainsWithXentLosses trains the same small model with the softmax
// and the sigmoid-focal loss of xent through GoMLX's train.Trainer on the
// pure-Go backend: the loss falls and the accuracy rises.
func TestTrainsWithXentLosses(t *testing.T) {
	b := backend(t)
	for _, cfg := range []xent.Config[float64]{
		{Loss: xent.Softmax, LabelSmoothing: 0.05},
		{Loss: xent.SoftmaxFocal, Gamma: new(2.0)},
	} {
		loss0, loss1, acc0, acc1 := trainClassifier(t, b, cfg, 150)
		t.Logf("%s: loss %.4f → %.4f, accuracy %.3f → %.3f", cfg.Loss, loss0, loss1, acc0, acc1)
		if !(loss1 < 0.5*loss0) || math.IsNaN(loss1) {
			t.Errorf("%s: the loss did not fall: %.4f → %.4f", cfg.Loss, loss0, loss1)
		}
		if !(acc1 > 0.9 && acc1 > acc0) {
			t.Errorf("%s: the accuracy did not rise: %.3f → %.3f", cfg.Loss, acc0, acc1)
		}
	}
}
