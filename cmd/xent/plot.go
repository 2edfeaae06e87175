package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xent-go/xent/figures"
	"github.com/xent-go/xent/internal/outfile"
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
	files, err := figures.Render(figs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	// Every picture and the list on stdout, or (a full disk, a closed
	// stdout) none of them.
	var set outfile.Set
	if err := set.AddFiles(*out, figures.Files(figs), files); err != nil {
		return err
	}
	var list bytes.Buffer
	for _, name := range figures.Files(figs) {
		fmt.Fprintln(&list, filepath.Join(*out, name))
	}
	return set.Commit(func() error { return writeStdout(stdout, list.Bytes()) })
}
