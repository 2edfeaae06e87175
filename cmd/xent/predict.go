package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/internal/npy"
	"github.com/xent-go/xent/internal/outfile"
	"github.com/xent-go/xent/train"
)

const predictSynopsis = `--checkpoint F (--images X.npy [--labels Y.npy] | --dataset NAME [--split test|train]) [--out P.npy] [--csv]

Loads the network a checkpoint of xent train holds (nothing else is
needed) and classifies images: a user's own, as .npy (N, H, W) or
(N, C, H, W), uint8 pixels divided by 255 as in training, or floats taken
as they are; or a split of MNIST or Fashion-MNIST. Prints how many images
each class got and, when labels are known, the accuracy and the confusion
matrix. --out writes the class probabilities, (N, classes) float32:
softmax over the logits, or σ of each for a network trained with a
sigmoid loss. --csv prints one line per image instead: its index, the
predicted class (the largest logit), the probabilities and the label.`

func runPredict(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("predict", predictSynopsis)
	checkpoint := fs.String("checkpoint", "", "the checkpoint `file` of xent train (required)")
	images := fs.String("images", "", "images `X.npy` to classify")
	labels := fs.String("labels", "", "their labels `Y.npy` (N,), for the accuracy")
	dataset := fs.String("dataset", "", "mnist or fashion-mnist instead of --images")
	dir := fs.String("data", "", "`directory` of the data set's idx files (see xent train -h)")
	split := fs.String("split", "test", "test or train")
	out := fs.String("out", "", "write the probabilities to `P.npy`")
	csv := fs.Bool("csv", false, "print a CSV line per image instead of the summary")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	set := setFlags(fs)
	switch {
	case *checkpoint == "":
		return usagef("predict: --checkpoint is required")
	case (*images == "") == (*dataset == ""):
		return usagef("predict: give --images or --dataset, one of them")
	case *images != "" && (set["split"] || set["data"]):
		return usagef("predict: --split and --data go with --dataset")
	case *dataset != "" && *labels != "":
		return usagef("predict: --labels goes with --images; a data set has its own")
	case *split != "test" && *split != "train":
		return usagef("predict: --split %q: want test or train", *split)
	}
	loadSets, ok := dataSets[*dataset]
	if *dataset != "" && !ok {
		return usagef("predict: --dataset %q: want mnist or fashion-mnist", *dataset)
	}
	var files outfile.Set
	for _, in := range []string{*checkpoint, *images, *labels} {
		if in != "" {
			files.Input(in)
		}
	}
	var probs []float32
	var shape []int
	if *out != "" {
		if err := files.Add("--out", *out, func(w io.Writer) error { return npy.Write(w, shape, probs) }); err != nil {
			return usagef("predict: %v", err)
		}
	}

	model, err := train.LoadModel(*checkpoint)
	if err != nil {
		return err
	}
	var s *data.Set
	what := *images
	if *images != "" {
		if s, err = readImageSet(*images, *labels, model.Classes); err != nil {
			return err
		}
	} else {
		trainSet, testSet, err := loadSets(*dir)
		if err != nil {
			return err
		}
		s, what = testSet, *dataset+" test"
		if *split == "train" {
			s, what = trainSet, *dataset+" train"
		}
	}
	if s.Classes > model.Classes {
		return fmt.Errorf("%s: label %d, but the network has %d classes", what, s.Classes-1, model.Classes)
	}
	probs, predicted, err := model.Predict(s)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	shape = []int{s.N, model.Classes}
	var report bytes.Buffer
	if *csv {
		writeCSV(&report, model.Classes, probs, predicted, s.Labels)
	} else {
		writeSummary(&report, model, what, s, predicted, *out)
	}
	return files.Commit(func() error { return writeStdout(stdout, report.Bytes()) })
}

// writeCSV writes one line per image: index, predicted, p0…p(K−1), and
// the label when known.
func writeCSV(w io.Writer, classes int, probs []float32, predicted []int, labels []uint8) {
	fmt.Fprint(w, "image,predicted")
	for c := range classes {
		fmt.Fprintf(w, ",p%d", c)
	}
	if labels != nil {
		fmt.Fprint(w, ",label")
	}
	fmt.Fprintln(w)
	for i, p := range predicted {
		fmt.Fprintf(w, "%d,%d", i, p)
		for _, v := range probs[i*classes : (i+1)*classes] {
			fmt.Fprintf(w, ",%.6g", v)
		}
		if labels != nil {
			fmt.Fprintf(w, ",%d", labels[i])
		}
		fmt.Fprintln(w)
	}
}

// writeSummary writes the counts per class and, with labels, the accuracy
// and the confusion matrix (rows: label, columns: predicted).
func writeSummary(w io.Writer, m *train.Model, what string, s *data.Set, predicted []int, out string) {
	how := "softmax"
	if m.Sigmoid() {
		how = "σ per class"
	}
	fmt.Fprintf(w, "%s: %s of %v, %d classes, trained with %s on %s (%s)\n", what, plural(s.N, "image"), m.Input, m.Classes, m.Config.Loss, m.Dataset, how)
	if s.Labels == nil {
		counts := make([]int, m.Classes)
		for _, p := range predicted {
			counts[p]++
		}
		fmt.Fprintf(w, "predicted classes: %s\n", joinInts(counts))
	} else {
		confusion := make([][]int, m.Classes)
		for i := range confusion {
			confusion[i] = make([]int, m.Classes)
		}
		correct := 0
		for i, p := range predicted {
			confusion[s.Labels[i]][p]++
			if p == int(s.Labels[i]) {
				correct++
			}
		}
		accuracy := 0.0
		if s.N > 0 {
			accuracy = float64(correct) / float64(s.N)
		}
		fmt.Fprintf(w, "accuracy %.2f%% (%d of %d)\n", 100*accuracy, correct, s.N)
		fmt.Fprintln(w, "confusion (rows: label, columns: predicted):")
		for _, row := range confusion {
			fmt.Fprintf(w, "  %s\n", joinInts(row))
		}
	}
	if out != "" {
		fmt.Fprintf(w, "probabilities written to %s\n", out)
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprintf("%5d", n)
	}
	return strings.Join(s, " ")
}
