package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xent-go/xent/figures"
)

const plotSynopsis = `[--out DIR]

Draws the tutorial's pictures with xent's own functions, as PNG and SVG:
focal.* (the focal loss against p_t for γ = 0, 0.5, 1, 2, 5, as in
Lin et al. 2017, figure 1), cross-entropy-loss.* and cross-entropy-gradient.*
(softmax and sigmoid cross-entropy and their derivatives against the
positive class's logit), activations.* (softmax against sigmoid of one
score vector). Every plotted value is one the library returned.`

func runPlot(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("plot", plotSynopsis)
	out := fs.String("out", "xent-plots", "`directory` for the pictures")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	figs, err := figures.All()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := figures.Write(*out, figs); err != nil {
		return err
	}
	for _, name := range figures.Files(figs) {
		fmt.Fprintln(stdout, filepath.Join(*out, name))
	}
	return nil
}
