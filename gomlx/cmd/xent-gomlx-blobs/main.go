// Command xent-gomlx-blobs trains a small GoMLX classifier with an xent
// loss and prints the loss and accuracy as it learns:
//
//	cd gomlx && go run ./cmd/xent-gomlx-blobs [--loss softmax-focal] [--steps 200]
//
// Every backend GoMLX offers is linked in (gomlx/backends/default: the
// pure-Go "go" backend and XLA); $GOMLX_BACKEND chooses one — "go",
// "xla:cpu", "xla:cuda", … — and without it the example runs on "go", so
// that nothing is downloaded unasked. An XLA backend needs its PJRT plugin:
// GoMLX downloads a missing one from the internet on first use unless
// $GOMLX_NO_AUTO_INSTALL is set (gomlx/README.md says how to install them
// on a machine without internet); a missing plugin or an unknown backend
// is an error that says so, never a panic.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/default"

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
	b, err := newBackend(os.Getenv(backends.ConfigEnvVar))
	if err != nil {
		return err
	}
	fmt.Printf("backend %s, loss %s\n", b.Name(), loss)
	return blobs.Train(b, xent.Config[float64]{Loss: loss}, steps, 25, func(s blobs.Step) { fmt.Println(s) })
}

// newBackend returns the backend config names ("go" when empty), with an
// error instead of GoMLX's panic for a backend that is not linked in, and
// one that says what to do when its constructor fails (a missing plugin).
func newBackend(config string) (b backends.Backend, err error) {
	if config == "" {
		config = "go"
	}
	name, _, _ := strings.Cut(config, ":")
	available := backends.List()
	slices.Sort(available)
	if !slices.Contains(available, name) {
		return nil, fmt.Errorf("backend %q: not one of the backends linked in: %s", config, strings.Join(available, ", "))
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %v", config, r)
		}
	}()
	if b, err = backends.NewWithConfig(config); err != nil {
		return nil, fmt.Errorf("backend %q: %w\n(an XLA backend needs its PJRT plugin: see gomlx/README.md, \"Plugins without internet\"; GOMLX_BACKEND=go runs in pure Go)", config, err)
	}
	return b, nil
}
