// Package blobs is a small GoMLX training example with an xent loss: a
// dense 2 → 16 → 3 classifier of three Gaussian blobs in the plane,
// trained with train.Trainer and Adam. cmd/xent-gomlx-blobs runs it; the
// adapter's tests check that it learns.
package blobs

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/xent-go/xent"
	xg "github.com/xent-go/xent/gomlx"
)

// Data draws n points around three centres, float32 (n, 2), and their
// class, int64 (n): the logits' and targets' layout of xent.
func Data(rng *rand.Rand, n int) (x [][]float32, y []int64) {
	centres := [3][2]float64{{-2, 0}, {2, 0}, {0, 2.5}}
	x, y = make([][]float32, n), make([]int64, n)
	for i := range x {
		c := rng.IntN(3)
		x[i] = []float32{float32(centres[c][0] + rng.NormFloat64()), float32(centres[c][1] + rng.NormFloat64())}
		y[i] = int64(c)
	}
	return x, y
}

// Model is the classifier: dense 2 → 16, ReLU, dense 16 → 3 logits.
func Model(ctx *context.Context, _ any, inputs []*Node) []*Node {
	h := activations.Relu(layers.Dense(ctx.In("hidden"), inputs[0], true, 16))
	return []*Node{layers.Dense(ctx.In("logits"), h, true, 3)}
}

// Step is the state after a training step.
type Step struct {
	Step     int
	Loss     float64 // the training loss of the step
	Accuracy float64 // on the training points, after the step
}

// Train trains Model with cfg's loss (learning rate 0.05, full batch of 600
// points, a fixed seed) and calls report after the first step and every
// every steps.
func Train(b backends.Backend, cfg xent.Config[float64], steps, every int, report func(Step)) error {
	x, y := Data(rand.New(rand.NewPCG(51, 52)), 600)
	inputs, labels := tensors.FromValue(x), tensors.FromValue(y)
	lossFn, err := xg.LossFn(cfg)
	if err != nil {
		return err
	}
	ctx := context.New()
	ctx.SetParam(optimizers.ParamLearningRate, 0.05)
	trainer := train.NewTrainer(b, ctx, Model, lossFn, optimizers.Adam().Done(), nil, nil)
	predict, err := context.NewExec(b, ctx.Reuse(), func(ctx *context.Context, x *Node) *Node {
		return Model(ctx, nil, []*Node{x})[0]
	})
	if err != nil {
		return err
	}
	for step := 1; step <= steps; step++ {
		metrics, err := trainer.TrainStep(nil, []*tensors.Tensor{inputs}, []*tensors.Tensor{labels})
		if err != nil {
			return err
		}
		if step != 1 && step%every != 0 && step != steps {
			continue
		}
		out, err := predict.Exec(inputs)
		if err != nil {
			return err
		}
		report(Step{Step: step, Loss: float64(tensors.MustCopyFlatData[float32](metrics[0])[0]), Accuracy: accuracy(tensors.MustCopyFlatData[float32](out[0]), y)})
	}
	return nil
}

// accuracy is the share of rows of logits (rows of 3) whose largest value
// is at the label.
func accuracy(logits []float32, y []int64) float64 {
	right := 0
	for i, label := range y {
		best := 0
		for c := 1; c < 3; c++ {
			if logits[3*i+c] > logits[3*i+best] {
				best = c
			}
		}
		if int64(best) == label {
			right++
		}
	}
	return float64(right) / float64(len(y))
}

// String formats a step for a log line.
func (s Step) String() string {
	return fmt.Sprintf("step %4d: loss %.4f, accuracy %.3f", s.Step, s.Loss, s.Accuracy)
}
