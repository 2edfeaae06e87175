package train

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/xent-go/xent"
)

// TestLoadModel: a model loaded from the checkpoint alone predicts the
// test set with the accuracy the run recorded, for a softmax and a
// sigmoid loss, from a finished and from a stopped run; its probabilities
// sum to 1 (softmax) or are σ of the logits (sigmoid).
func TestLoadModel(t *testing.T) {
	trainSet, testSet := tiny(40, 3), tiny(10, 4)
	for _, loss := range []xent.Loss{xent.Softmax, xent.Sigmoid} {
		c := Defaults()
		c.Loss, c.Epochs, c.Batch = loss, 2, 8
		tr, err := New(c, "tiny", trainSet, testSet)
		if err != nil {
			t.Fatal(err)
		}
		runAll(t, tr)
		path := filepath.Join(t.TempDir(), "c.safetensors")
		if err := tr.Save(path); err != nil {
			t.Fatal(err)
		}
		m, err := LoadModel(path)
		if err != nil {
			t.Fatalf("%s: %v", loss, err)
		}
		if m.Input.C != 1 || m.Input.H != 4 || m.Classes != 2 || m.Dataset != "tiny" || m.Config != c || m.Sigmoid() != (loss == xent.Sigmoid) {
			t.Fatalf("%s: model %+v", loss, m)
		}
		probs, predicted, err := m.Predict(testSet)
		if err != nil {
			t.Fatal(err)
		}
		correct := 0
		for i, p := range predicted {
			if p == int(testSet.Labels[i]) {
				correct++
			}
			row := probs[i*2 : i*2+2]
			if loss == xent.Softmax && math.Abs(float64(row[0]+row[1])-1) > 1e-6 {
				t.Errorf("%s: softmax probabilities %v", loss, row)
			}
			if best := argmax(row); best != p {
				t.Errorf("%s: image %d predicted %d, probabilities %v", loss, i, p, row)
			}
		}
		last := m.Metrics.Epochs[len(m.Metrics.Epochs)-1]
		if got := float64(correct) / float64(testSet.N); got != last.TestAccuracy {
			t.Errorf("%s: Predict's accuracy %v, the run recorded %v", loss, got, last.TestAccuracy)
		}
		if _, _, err := m.Predict(tiny(3, 1)); err != nil {
			t.Errorf("another set of the same shape: %v", err)
		}
		wrong := tiny(3, 1)
		wrong.Height, wrong.Width = 2, 8
		if _, _, err := m.Predict(wrong); !errors.Is(err, ErrConfig) {
			t.Errorf("images of another shape: %v, want ErrConfig", err)
		}
	}
	if _, err := LoadModel(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrCheckpoint) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
