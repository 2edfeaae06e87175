package main

import (
	"fmt"
	"io"

	"github.com/xent-go/xent"
)

// runDemo is what xent prints with no arguments: one small batch under
// every loss, computed by the library, and where to go next.
func runDemo(w io.Writer) error {
	shape := []int{3, 4}
	logits := []float64{
		2.0, 1.0, 0.1, -1.0,
		0.5, 2.5, 0.3, 0.0,
		-1.0, 0.2, 0.1, 3.0,
	}
	labels := []int64{0, 2, 3}
	multiHot := []float64{ // the label plus a second positive in row 1
		1, 0, 0, 0,
		0, 1, 1, 0,
		0, 0, 0, 1,
	}
	oneHot := []float64{
		1, 0, 0, 0,
		0, 0, 1, 0,
		0, 0, 0, 1,
	}
	fmt.Fprint(w, `xent: the cross-entropy losses of CNN training, value and gradient in one pass.

A built-in example: a batch of 3 score vectors over 4 classes.

`)
	grad := make([]float64, len(logits))
	losses := make([]float64, 3)
	_, err := xent.SoftmaxCrossEntropy(shape, logits, labels, xent.SoftmaxOptions[float64]{}, xent.Output[float64]{Grad: grad, Losses: losses})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "  scores z                      label  -log softmax(z)_label   gradient of the mean")
	for n := range 3 {
		row := logits[4*n : 4*n+4]
		fmt.Fprintf(w, "  [%5.1f %5.1f %5.1f %5.1f]    %d      %-20.6f  [%6.3f %6.3f %6.3f %6.3f]\n",
			row[0], row[1], row[2], row[3], labels[n], losses[n], grad[4*n], grad[4*n+1], grad[4*n+2], grad[4*n+3])
	}
	fmt.Fprintf(w, "\nThe same batch under every loss (reduction mean):\n")
	for _, c := range []struct {
		cfg     xent.Config[float64]
		indices []int64
		targets []float64
		note    string
	}{
		{xent.Config[float64]{Loss: xent.Softmax}, labels, nil, "categorical cross-entropy, the labels above"},
		{xent.Config[float64]{Loss: xent.Softmax, LabelSmoothing: 0.1}, labels, nil, "the same with label smoothing 0.1"},
		{xent.Config[float64]{Loss: xent.SoftmaxProb}, nil, oneHot, "one-hot probabilities: equals softmax"},
		{xent.Config[float64]{Loss: xent.MultiLabelSoftmax}, nil, multiHot, "row 1 has classes 1 and 2 positive, 1/M = 1/2"},
		{xent.Config[float64]{Loss: xent.Sigmoid}, nil, multiHot, "binary cross-entropy, mean over all 12 scores"},
		{xent.Config[float64]{Loss: xent.SigmoidFocal}, nil, multiHot, "focal, α = 0.25, γ = 2"},
		{xent.Config[float64]{Loss: xent.SoftmaxFocal}, labels, nil, "focal on softmax, γ = 2"},
	} {
		v, err := xent.Evaluate(c.cfg, shape, logits, c.indices, c.targets, xent.Output[float64]{})
		if err != nil {
			return err
		}
		name := string(c.cfg.Loss)
		if c.cfg.LabelSmoothing != 0 {
			name += " ε=0.1"
		}
		fmt.Fprintf(w, "  %-22s %.6f   %s\n", name, v, c.note)
	}
	fmt.Fprint(w, `
Next:
  xent eval --loss softmax --logits X.npy --targets T.npy --out-grad D.npy
  xent gradcheck --loss sigmoid-focal --shape 8x5 --gamma 0.5
  xent help
`)
	return nil
}
