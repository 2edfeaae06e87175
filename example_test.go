package xent_test

import (
	"fmt"

	"github.com/xent-go/xent"
)

// Three images, four classes: the mean softmax cross-entropy and its
// gradient, in one call.
func ExampleSoftmaxCrossEntropy() {
	shape := []int{3, 4} // (N, C)
	logits := []float32{
		2.0, 1.0, 0.1, -1.0,
		0.5, 2.5, 0.3, 0.0,
		-1.0, 0.2, 0.1, 3.0,
	}
	labels := []int64{0, 2, -100} // the third image is ignored
	grad := make([]float32, len(logits))
	loss, err := xent.SoftmaxCrossEntropy(shape, logits, labels,
		xent.SoftmaxOptions[float32]{LabelSmoothing: 0.1}, xent.Output[float32]{Grad: grad})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f\n", loss)
	fmt.Printf("grad of image 0 %.4f\n", grad[0:4])
	fmt.Printf("grad of image 2 %.4f\n", grad[8:12])
	// Output:
	// loss 1.5141
	// grad of image 0 [-0.1435 0.1049 0.0352 0.0034]
	// grad of image 2 [0.0000 0.0000 0.0000 0.0000]
}

// Soft targets (knowledge distillation, mixup): the cross-entropy against
// class probabilities.
func ExampleSoftmaxProbCrossEntropy() {
	shape := []int{2, 3}
	logits := []float64{1, 2, 3, 3, 2, 1}
	teacher := []float64{0.1, 0.2, 0.7, 0.5, 0.5, 0}
	loss, err := xent.SoftmaxProbCrossEntropy(shape, logits, teacher, xent.SoftmaxProbOptions[float64]{}, xent.Output[float64]{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.6f\n", loss)
	// Output: 0.857606
}

// The tutorial's softmax loss with several positive classes: each image's
// loss is scaled by 1/M, M its number of positives.
func ExampleMultiLabelSoftmaxCrossEntropy() {
	shape := []int{2, 4}
	logits := []float32{3, 3, -1, 0, 0, 0, 0, 5}
	multiHot := []float32{1, 1, 0, 0, 0, 0, 0, 1} // M = 2, then M = 1
	grad := make([]float32, 8)
	losses := make([]float32, 2)
	_, err := xent.MultiLabelSoftmaxCrossEntropy(shape, logits, multiHot,
		xent.MultiLabelSoftmaxOptions[float32]{Reduction: xent.None}, xent.Output[float32]{Grad: grad, Losses: losses})
	if err != nil {
		panic(err)
	}
	fmt.Printf("losses %.4f\n", losses)
	fmt.Printf("grad of image 0 %.4f (p − y/M)\n", grad[:4])
	// Output:
	// losses [0.7266 0.0200]
	// grad of image 0 [-0.0165 -0.0165 0.0089 0.0241] (p − y/M)
}

// Binary cross-entropy with logits for a multi-label problem, positives
// weighted up by pos_weight (here 3 for every class).
func ExampleSigmoidCrossEntropy() {
	shape := []int{2, 3}
	logits := []float64{2, -1, 0, -3, 4, 0.5}
	targets := []float64{1, 0, 1, 0, 1, 0}
	loss, err := xent.SigmoidCrossEntropy(shape, logits, targets,
		xent.SigmoidOptions[float64]{PosWeight: []float64{3, 3, 3}, Reduction: xent.Sum}, xent.Output[float64]{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.6f\n", loss)
	// Output: 3.850601
}

// Focal loss with torchvision's defaults α = 0.25, γ = 2 (the zero
// options): well-classified elements contribute almost nothing.
func ExampleSigmoidFocalLoss() {
	shape := []int{1, 4}
	logits := []float32{4, -4, 0, -2}
	targets := []float32{1, 0, 1, 1} // easy, easy, uncertain, wrong
	losses := make([]float32, 4)
	_, err := xent.SigmoidFocalLoss(shape, logits, targets,
		xent.SigmoidFocalOptions[float32]{Reduction: xent.None}, xent.Output[float32]{Losses: losses})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.6f\n", losses)
	// Output: [0.000001 0.000004 0.043322 0.412520]
}

// Focal loss on softmax outputs for semantic segmentation: logits of shape
// (N, C, H, W), one class index per pixel, γ = 1 set with new.
func ExampleSoftmaxFocalLoss() {
	shape := []int{1, 2, 2, 2} // one image, 2 classes, 2×2 pixels
	logits := []float64{
		3, 0, // class 0, row 0
		-1, 1, // class 0, row 1
		0, 0, // class 1, row 0
		1, 1, // class 1, row 1
	}
	labels := []int64{0, 1, 1, 255} // per pixel; 255 marks "void"
	loss, err := xent.SoftmaxFocalLoss(shape, logits, labels,
		xent.SoftmaxFocalOptions[float64]{Gamma: new(1.0), IgnoreIndex: new(255)}, xent.Output[float64]{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.6f\n", loss)
	// Output: 0.121336
}

// Picking the loss by name, as a command-line flag would.
func ExampleEvaluate() {
	loss, err := xent.ParseLoss("sigmoid_focal")
	if err != nil {
		panic(err)
	}
	cfg := xent.Config[float64]{Loss: loss, Reduction: xent.Mean, Gamma: new(0.0), Alpha: new(-1.0)}
	v, err := xent.Evaluate(cfg, []int{1, 2}, []float64{0, 0}, nil, []float64{1, 0}, xent.Output[float64]{})
	fmt.Printf("%.6f %v\n", v, err) // γ = 0 without α: binary cross-entropy, log 2
	// Output: 0.693147 <nil>
}

// Errors say what is wrong and where, and wrap a sentinel.
func ExampleError() {
	_, err := xent.SoftmaxCrossEntropy([]int{2, 10}, make([]float32, 20), []int32{3, 12},
		xent.SoftmaxOptions[float32]{}, xent.Output[float32]{})
	fmt.Println(err)
	// Output: xent: target 12 at position 1 is outside [0, 10)
}
