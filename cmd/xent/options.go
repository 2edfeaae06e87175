package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/xent-go/xent"
)

// lossFlags are the flags that choose a loss and its scalar options, shared
// by eval and gradcheck.
type lossFlags struct {
	loss           string
	reduction      string
	ignoreIndex    int
	labelSmoothing float64
	alpha          optionalFloat
	gamma          float64
}

func (f *lossFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.loss, "loss", "", "the loss: softmax, softmax-prob, multilabel-softmax, sigmoid, sigmoid-focal or softmax-focal (required)")
	fs.StringVar(&f.reduction, "reduction", "mean", "the reduction: mean, sum, none or batchmean")
	fs.IntVar(&f.ignoreIndex, "ignore-index", xent.DefaultIgnoreIndex, "the target `index` whose positions are skipped (softmax, softmax-focal)")
	fs.Float64Var(&f.labelSmoothing, "label-smoothing", 0, "label smoothing `ε` in [0, 1] (softmax, softmax-prob)")
	fs.Var(&f.alpha, "alpha", "focal `α`: sigmoid-focal's weight of the positives (default 0.25; negative: off); for softmax-focal, the α of every class (default 1)")
	fs.Float64Var(&f.gamma, "gamma", xent.DefaultFocalGamma, "focal `γ` ≥ 0 (sigmoid-focal, softmax-focal)")
}

// optionOfFlag maps a flag to the option name Loss.Takes knows.
var optionOfFlag = map[string]string{
	"weight": "weight", "pos-weight": "pos_weight", "ignore-index": "ignore_index",
	"label-smoothing": "label_smoothing", "alpha": "alpha", "alpha-file": "alpha", "gamma": "gamma",
}

// config checks the flags given against the loss and returns the loss and
// its scalar options in a Config; the per-class slices are the caller's.
func (f *lossFlags) config(fs *flag.FlagSet) (xent.Config[float64], error) {
	if f.loss == "" {
		return xent.Config[float64]{}, usagef("%s: --loss is required", fs.Name()[len("xent "):])
	}
	loss, err := xent.ParseLoss(f.loss)
	if err != nil {
		return xent.Config[float64]{}, err
	}
	red, err := xent.ParseReduction(f.reduction)
	if err != nil {
		return xent.Config[float64]{}, err
	}
	set := setFlags(fs)
	for flagName, option := range optionOfFlag {
		if set[flagName] && !loss.Takes(option) {
			return xent.Config[float64]{}, usagef("--%s does not apply to loss %s", flagName, loss)
		}
	}
	if set["alpha"] && set["alpha-file"] {
		return xent.Config[float64]{}, usagef("give --alpha or --alpha-file, not both")
	}
	if set["alpha-file"] && loss != xent.SoftmaxFocal {
		return xent.Config[float64]{}, usagef("--alpha-file (α per class) applies to softmax-focal; sigmoid-focal takes --alpha")
	}
	cfg := xent.Config[float64]{Loss: loss, Reduction: red}
	if loss.Takes("ignore_index") {
		cfg.IgnoreIndex = new(f.ignoreIndex)
	}
	if loss.Takes("label_smoothing") {
		cfg.LabelSmoothing = f.labelSmoothing
	}
	if loss.Takes("gamma") {
		cfg.Gamma = new(f.gamma)
	}
	if loss == xent.SigmoidFocal {
		cfg.Alpha = new(xent.DefaultFocalAlpha)
		if f.alpha.set {
			cfg.Alpha = new(f.alpha.v)
		}
	}
	return cfg, nil
}

// classAlpha returns the per-class α of softmax-focal when --alpha was
// given: every one of the classes gets it. Otherwise nil.
func (f *lossFlags) classAlpha(fs *flag.FlagSet, loss xent.Loss, classes int) []float64 {
	if !f.classAlphaSet(fs, loss) {
		return nil
	}
	a := make([]float64, classes)
	for i := range a {
		a[i] = f.alpha.v
	}
	return a
}

// classAlphaSet reports whether classAlpha gives a per-class α.
func (f *lossFlags) classAlphaSet(fs *flag.FlagSet, loss xent.Loss) bool {
	return loss == xent.SoftmaxFocal && setFlags(fs)["alpha"]
}

// optionalFloat is a float flag with no default of its own, for a flag
// whose default depends on another (α: 0.25 for sigmoid-focal, 1 for
// softmax-focal) and which the usage states in words.
type optionalFloat struct {
	v   float64
	set bool
}

func (o *optionalFloat) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optionalFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	o.v, o.set = v, true
	return nil
}

// convertConfig turns a float64 Config into T, converting the slices.
func convertConfig[T xent.Float](c xent.Config[float64]) xent.Config[T] {
	return xent.Config[T]{
		Loss: c.Loss, Reduction: c.Reduction,
		Weight: convert[T](c.Weight), PosWeight: convert[T](c.PosWeight),
		IgnoreIndex: c.IgnoreIndex, LabelSmoothing: c.LabelSmoothing,
		Alpha: c.Alpha, ClassAlpha: convert[T](c.ClassAlpha), Gamma: c.Gamma,
		GradOutput: convert[T](c.GradOutput),
	}
}

func convert[T xent.Float, F xent.Float](v []F) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// shapeString formats a shape as NumPy does: (2, 3), (4,), ().
func shapeString(shape []int) string {
	s := "("
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(d)
	}
	if len(shape) == 1 {
		s += ","
	}
	return s + ")"
}
