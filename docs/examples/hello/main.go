// Command hello is the smallest program that uses xent from a module of its
// own: the README's "Install" section copies it into a new module beside
// the clone and runs it.
package main

import (
	"fmt"
	"log"

	"github.com/xent-go/xent"
)

func main() {
	shape := []int{2, 3} // (N, C): two images, three classes
	logits := []float32{2, 1, 0.1, 0.5, 2.5, 0.3}
	labels := []int64{0, 1}
	grad := make([]float32, len(logits))
	loss, err := xent.SoftmaxCrossEntropy(shape, logits, labels,
		xent.SoftmaxOptions[float32]{LabelSmoothing: 0.1},
		xent.Output[float32]{Grad: grad})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loss %.4f\ngradient %.4f\n", loss, grad)
}
