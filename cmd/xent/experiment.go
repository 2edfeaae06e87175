package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/experiment"
)

const experimentSynopsis = `multilabel [--quick] [--out DIR] [--data DIR] [--seed N] [--workers N]

Trains the default CNN, adapted to 56×56, on multi-digit MNIST (a 2×2 grid
of 1 to 4 digits, the targets the set of distinct digits) with
multilabel-softmax (the 1/M factor), sigmoid and sigmoid-focal (α 0.25,
γ 2), from the same initial weights and in the same batch order, and prints
a markdown table of mean average precision, micro-F1 at the threshold
chosen on the validation split, precision@M, exact-set accuracy and
training time. --out receives results.json, the training-loss,
validation-mAP and precision–recall curves (PNG and SVG) and report.html.

The full run uses 30,000 training, 5,000 validation and 10,000 test images
for 3 epochs; --quick 6,000, 1,000 and 2,000 for 2 epochs.`

func runExperiment(stdout, stderr io.Writer, args []string) error {
	if len(args) > 0 && args[0] != "multilabel" && args[0] != "-h" && args[0] != "-help" && args[0] != "--help" {
		return usagef("experiment: unknown experiment %q; the one there is: multilabel", args[0])
	}
	if len(args) > 0 && args[0] == "multilabel" {
		args = args[1:]
	} else if len(args) == 0 {
		return usagef("experiment: name the experiment: xent experiment multilabel")
	}
	fs := newFlagSet("experiment", experimentSynopsis)
	quick := fs.Bool("quick", false, "the small run")
	out := fs.String("out", "xent-multilabel", "`directory` for results.json, the plots and report.html")
	dir := fs.String("data", "", "`directory` of MNIST's idx files (default: the GoMNIST module)")
	seed := fs.Uint64("seed", 1, "seed of the images, the initial weights and the batch order")
	workers := fs.Int("workers", 2, "goroutines")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	cfg := experiment.Full()
	if *quick {
		cfg = experiment.Quick()
	}
	cfg.Seed, cfg.Workers = *seed, *workers
	if err := cfg.Check(); err != nil {
		return usagef("%v", err)
	}
	train, test, err := data.MNIST(*dir)
	if err != nil {
		return err
	}
	results, err := experiment.Run(cfg, train, test, func(line string) { fmt.Fprintln(stderr, line) })
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := experiment.WriteReport(*out, cfg, results); err != nil {
		return err
	}
	fmt.Fprint(stdout, experiment.Table(results))
	fmt.Fprintf(stdout, "\nreport in %s\n", filepath.Join(*out, "report.html"))
	return nil
}
