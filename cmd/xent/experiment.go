package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/experiment"
)

const experimentSynopsis = `multilabel [--quick] [--seeds K] [--long-tail] [--out DIR] [--data DIR] [--seed N] [--workers N]

Trains the default CNN, adapted to 56×56, on multi-digit MNIST (a 2×2 grid
of 1 to 4 digits, the targets the set of distinct digits) with
multilabel-softmax (the 1/M factor), sigmoid, sigmoid-focal (α 0.25, γ 2),
asymmetric (γ+ 0, γ− 4, m 0.05) and sigmoid with class-balanced weights
(β 0.999), each from K seeds: for one seed, the same images, initial
weights and batch order for every loss. It prints markdown tables of mean
average precision, micro-F1 at the threshold chosen on the validation
split, precision@M and exact-set accuracy, as mean ± sd over the seeds;
each loss's difference from sigmoid paired over the seeds with its 95%
interval (Student's t), in bold where the interval excludes 0; and
precision@M by the number of labels M; then a conclusion drawn from them.

--long-tail draws the training images' digits with frequencies falling off
geometrically from digit 0 to digit 9, digit 0 100× as frequent as digit 9
(validation and test images stay balanced), and adds the average precision
of digits 0–2 and of digits 7–9. Progress (seed, loss, epoch and the time
left) goes to stderr. --out receives results.json, the figures (PNG and
SVG) and report.html.

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
	seeds := fs.Int("seeds", 3, "`K` seeds, from --seed on")
	longTail := fs.Bool("long-tail", false, "long-tail training images, digit 0 100× as frequent as digit 9")
	out := fs.String("out", "xent-multilabel", "`directory` for results.json, the figures and report.html")
	dir := fs.String("data", "", "`directory` of MNIST's idx files (default: the GoMNIST module)")
	seed := fs.Uint64("seed", 1, "the first seed of the images, the initial weights and the batch order")
	workers := fs.Int("workers", 2, "goroutines")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	cfg := experiment.Full()
	if *quick {
		cfg = experiment.Quick()
	}
	cfg.Seed, cfg.Seeds, cfg.LongTail, cfg.Workers = *seed, *seeds, *longTail, *workers
	if err := cfg.Check(); err != nil {
		return usagef("%v", err)
	}
	train, test, err := data.MNIST(*dir)
	if err != nil {
		return err
	}
	results, err := experiment.Run(cfg, train, test, func(p experiment.Progress) { fmt.Fprintln(stderr, p) })
	if err != nil {
		return err
	}
	table, err := experiment.Table(results)
	if err != nil {
		return err
	}
	rows, err := results.Analyze()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := experiment.WriteReport(*out, results); err != nil {
		return err
	}
	fmt.Fprint(stdout, table)
	fmt.Fprintln(stdout)
	for _, line := range experiment.Conclusion(results, rows) {
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "\nreport in %s\n", filepath.Join(*out, "report.html"))
	return nil
}
