// Command xent-gomlx-blobs trains a small GoMLX classifier with an xent
// loss and prints the loss and accuracy as it learns:
//
//	cd gomlx && go run ./cmd/xent-gomlx-blobs [--loss softmax-focal] [--steps 200]
//
// It runs on the backend GoMLX chooses ($GOMLX_BACKEND; here the pure-Go
// simplego backend).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/gomlx/example/blobs"
)

func main() {
	loss := flag.String("loss", "softmax", "the xent loss: softmax or softmax-focal (class-index targets)")
	steps := flag.Int("steps", 150, "training steps")
	flag.Parse()
	if err := run(*loss, *steps); err != nil {
		fmt.Fprintln(os.Stderr, "xent-gomlx-blobs:", err)
		os.Exit(1)
	}
}

func run(lossName string, steps int) error {
	loss, err := xent.ParseLoss(lossName)
	if err != nil {
		return err
	}
	if !loss.IndexTargets() {
		return fmt.Errorf("loss %s takes float targets; this example has class indices (softmax, softmax-focal)", loss)
	}
	b, err := backends.New()
	if err != nil {
		return err
	}
	fmt.Printf("backend %s, loss %s\n", b.Name(), loss)
	return blobs.Train(b, xent.Config[float64]{Loss: loss}, steps, 25, func(s blobs.Step) { fmt.Println(s) })
}
