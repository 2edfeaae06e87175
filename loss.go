package xent

import "strings"

// Loss names one of the six losses, as the command line and the reference
// files spell them.
type Loss string

// The losses.
const (
	Softmax           Loss = "softmax"            // SoftmaxCrossEntropy
	SoftmaxProb       Loss = "softmax-prob"       // SoftmaxProbCrossEntropy
	MultiLabelSoftmax Loss = "multilabel-softmax" // MultiLabelSoftmaxCrossEntropy
	Sigmoid           Loss = "sigmoid"            // SigmoidCrossEntropy
	SigmoidFocal      Loss = "sigmoid-focal"      // SigmoidFocalLoss
	SoftmaxFocal      Loss = "softmax-focal"      // SoftmaxFocalLoss
)

// Losses lists every loss, in the order of the package documentation.
var Losses = []Loss{Softmax, SoftmaxProb, MultiLabelSoftmax, Sigmoid, SigmoidFocal, SoftmaxFocal}

// ParseLoss accepts a loss name with '-' or '_' ("softmax_prob" is
// SoftmaxProb). Any other name is an error wrapping ErrOption.
func ParseLoss(name string) (Loss, error) {
	l := Loss(strings.ReplaceAll(name, "_", "-"))
	for _, known := range Losses {
		if l == known {
			return l, nil
		}
	}
	names := make([]string, len(Losses))
	for i, known := range Losses {
		names[i] = string(known)
	}
	return "", optionError("loss %q is not one of %s", name, strings.Join(names, ", "))
}

// IndexTargets reports whether the loss takes class-index targets, one per
// position, rather than float targets of the logits' shape.
func (l Loss) IndexTargets() bool { return l == Softmax || l == SoftmaxFocal }

// PerElement reports whether the loss gives one loss per element (the
// sigmoid losses) rather than one per position.
func (l Loss) PerElement() bool { return l == Sigmoid || l == SigmoidFocal }

// Config is any loss with its options, for code that picks the loss at run
// time. A field that does not apply to Loss must be left at its zero value.
type Config[T Float] struct {
	Loss           Loss
	Reduction      Reduction
	Weight         []T      // softmax, softmax-prob, sigmoid
	PosWeight      []T      // sigmoid
	IgnoreIndex    *int     // softmax, softmax-focal
	LabelSmoothing float64  // softmax, softmax-prob
	Alpha          *float64 // sigmoid-focal
	ClassAlpha     []T      // softmax-focal: α per class
	Gamma          *float64 // sigmoid-focal, softmax-focal
	GradOutput     []T      // reduction None
	Workers        int      // goroutines; 0 means GOMAXPROCS
}

// Evaluate computes cfg's loss. Index targets go in indices (for Softmax and
// SoftmaxFocal) and float targets in targets (for the others); the other
// slice must be nil. It returns what the loss's own function returns, and an
// ErrOption error for an unknown loss or an option that does not apply.
func Evaluate[T Float](cfg Config[T], shape []int, logits []T, indices []int64, targets []T, out Output[T]) (T, error) {
	if err := cfg.checkApplies(); err != nil {
		return 0, err
	}
	if cfg.Loss.IndexTargets() && targets != nil {
		return 0, optionError("loss %s takes class-index targets, not float targets", cfg.Loss)
	}
	if !cfg.Loss.IndexTargets() && indices != nil {
		return 0, optionError("loss %s takes float targets, not class indices", cfg.Loss)
	}
	switch cfg.Loss {
	case Softmax:
		return SoftmaxCrossEntropy(shape, logits, indices, SoftmaxOptions[T]{
			Reduction: cfg.Reduction, Weight: cfg.Weight, IgnoreIndex: cfg.IgnoreIndex,
			LabelSmoothing: cfg.LabelSmoothing, GradOutput: cfg.GradOutput, Workers: cfg.Workers}, out)
	case SoftmaxProb:
		return SoftmaxProbCrossEntropy(shape, logits, targets, SoftmaxProbOptions[T]{
			Reduction: cfg.Reduction, Weight: cfg.Weight, LabelSmoothing: cfg.LabelSmoothing,
			GradOutput: cfg.GradOutput, Workers: cfg.Workers}, out)
	case MultiLabelSoftmax:
		return MultiLabelSoftmaxCrossEntropy(shape, logits, targets, MultiLabelSoftmaxOptions[T]{
			Reduction: cfg.Reduction, GradOutput: cfg.GradOutput, Workers: cfg.Workers}, out)
	case Sigmoid:
		return SigmoidCrossEntropy(shape, logits, targets, SigmoidOptions[T]{
			Reduction: cfg.Reduction, Weight: cfg.Weight, PosWeight: cfg.PosWeight,
			GradOutput: cfg.GradOutput, Workers: cfg.Workers}, out)
	case SigmoidFocal:
		return SigmoidFocalLoss(shape, logits, targets, SigmoidFocalOptions[T]{
			Reduction: cfg.Reduction, Alpha: cfg.Alpha, Gamma: cfg.Gamma, GradOutput: cfg.GradOutput, Workers: cfg.Workers}, out)
	default: // SoftmaxFocal; checkApplies rejected unknown names
		return SoftmaxFocalLoss(shape, logits, indices, SoftmaxFocalOptions[T]{
			Reduction: cfg.Reduction, Alpha: cfg.ClassAlpha, Gamma: cfg.Gamma,
			IgnoreIndex: cfg.IgnoreIndex, GradOutput: cfg.GradOutput, Workers: cfg.Workers}, out)
	}
}

// Takes reports whether the loss takes the option, named as PyTorch names
// it: "weight", "pos_weight", "ignore_index", "label_smoothing", "alpha"
// (a number for sigmoid-focal, one per class for softmax-focal) or "gamma".
func (l Loss) Takes(option string) bool {
	switch option {
	case "weight":
		return l == Softmax || l == SoftmaxProb || l == Sigmoid
	case "pos_weight":
		return l == Sigmoid
	case "ignore_index":
		return l == Softmax || l == SoftmaxFocal
	case "label_smoothing":
		return l == Softmax || l == SoftmaxProb
	case "alpha", "gamma":
		return l == SigmoidFocal || l == SoftmaxFocal
	}
	return false
}

// checkApplies rejects an unknown loss and any option set for a loss that
// does not take it.
func (cfg *Config[T]) checkApplies() error {
	if _, err := ParseLoss(string(cfg.Loss)); err != nil {
		return err
	}
	l := cfg.Loss
	for _, o := range [...]struct {
		name    string
		set     bool
		applies bool
	}{
		{"weight", cfg.Weight != nil, l.Takes("weight")},
		{"pos_weight", cfg.PosWeight != nil, l.Takes("pos_weight")},
		{"ignore_index", cfg.IgnoreIndex != nil, l.Takes("ignore_index")},
		{"label_smoothing", cfg.LabelSmoothing != 0, l.Takes("label_smoothing")},
		{"alpha (a number: sigmoid-focal's; softmax-focal takes ClassAlpha, one α per class)", cfg.Alpha != nil, l == SigmoidFocal},
		{"per-class alpha (ClassAlpha)", cfg.ClassAlpha != nil, l == SoftmaxFocal},
		{"gamma", cfg.Gamma != nil, l.Takes("gamma")},
	} {
		if o.set && !o.applies {
			return optionError("%s does not apply to loss %s", o.name, l)
		}
	}
	return nil
}
