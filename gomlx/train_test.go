package gomlx_test

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/gomlx/example/blobs"
)

// TestTrainsWithXentLosses trains the example classifier with the softmax
// and the softmax-focal loss of xent through GoMLX's train.Trainer on the
// pure-Go backend: the loss falls and the accuracy rises.
func TestTrainsWithXentLosses(t *testing.T) {
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []xent.Config[float64]{
		{Loss: xent.Softmax, LabelSmoothing: 0.05},
		{Loss: xent.SoftmaxFocal, Gamma: new(2.0)},
	} {
		var first, last blobs.Step
		err := blobs.Train(b, cfg, 150, 50, func(s blobs.Step) {
			if s.Step == 1 {
				first = s
			}
			last = s
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v → %v", cfg.Loss, first, last)
		if !(last.Loss < 0.5*first.Loss) || math.IsNaN(last.Loss) {
			t.Errorf("%s: the loss did not fall: %v → %v", cfg.Loss, first, last)
		}
		if !(last.Accuracy > 0.9 && last.Accuracy > first.Accuracy) {
			t.Errorf("%s: the accuracy did not rise: %v → %v", cfg.Loss, first, last)
		}
	}
}
