package xent

import "strings"

// Loss names one of the losses, as the command line and the reference
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
	Asymmetric        Loss = "asymmetric"         // AsymmetricLoss
)

// registry is every loss, in the order of the package documentation: the
// one place that says what a loss takes, for Evaluate, ParseLoss, the
// command line, the reference tests and the GoMLX adapter.
var registry = [...]Spec{
	{Loss: Softmax, Function: "SoftmaxCrossEntropy", Targets: ClassIndices,
		Options:   []Option{optWeight, optIgnoreIndex, optLabelSmoothing, optPolyEpsilon, optSampleWeight},
		float32Fn: softmaxConfig[float32], float64Fn: softmaxConfig[float64]},
	{Loss: SoftmaxProb, Function: "SoftmaxProbCrossEntropy", Targets: Probabilities,
		Options:   []Option{optWeight, optLabelSmoothing, optPolyEpsilon, optSampleWeight},
		float32Fn: softmaxProbConfig[float32], float64Fn: softmaxProbConfig[float64]},
	{Loss: MultiLabelSoftmax, Function: "MultiLabelSoftmaxCrossEntropy", Targets: MultiHot,
		Options:   []Option{optSampleWeight},
		float32Fn: multiLabelConfig[float32], float64Fn: multiLabelConfig[float64]},
	{Loss: Sigmoid, Function: "SigmoidCrossEntropy", Targets: Binary, PerElement: true,
		Options:   []Option{optWeight, optPosWeight, optSampleWeight},
		float32Fn: sigmoidConfig[float32], float64Fn: sigmoidConfig[float64]},
	{Loss: SigmoidFocal, Function: "SigmoidFocalLoss", Targets: Binary, PerElement: true,
		Options:   []Option{optAlpha, optGamma, optSampleWeight},
		float32Fn: sigmoidFocalConfig[float32], float64Fn: sigmoidFocalConfig[float64]},
	{Loss: SoftmaxFocal, Function: "SoftmaxFocalLoss", Targets: ClassIndices,
		Options:   []Option{optClassAlpha, optGamma, optIgnoreIndex, optSampleWeight},
		float32Fn: softmaxFocalConfig[float32], float64Fn: softmaxFocalConfig[float64]},
	{Loss: Asymmetric, Function: "AsymmetricLoss", Targets: Binary, PerElement: true,
		Options:   []Option{optWeight, optGammaPos, optGammaNeg, optClip, optDetachFocalWeight, optSampleWeight},
		float32Fn: asymmetricConfig[float32], float64Fn: asymmetricConfig[float64]},
}

// The options, as Config holds them and the command line names them.
var (
	optWeight = Option{Name: "weight", Flag: "weight", Kind: PerClass, field: "Weight",
		Usage: "per-class weights, finite and ≥ 0"}
	optPosWeight = Option{Name: "pos_weight", Flag: "pos-weight", Kind: PerClass, field: "PosWeight",
		Usage: "per-class weights of the positive term, finite and ≥ 0"}
	optIgnoreIndex = Option{Name: "ignore_index", Flag: "ignore-index", Kind: Integer, field: "IgnoreIndex",
		Usage: "the target `index` whose positions are skipped (default -100)"}
	optLabelSmoothing = Option{Name: "label_smoothing", Flag: "label-smoothing", Kind: Number, field: "LabelSmoothing",
		Usage: "label smoothing `ε` in [0, 1] (default 0)"}
	optSampleWeight = Option{Name: "sample_weight", Flag: "sample-weight", Kind: PerPosition, field: "SampleWeight",
		Usage: "one weight ≥ 0 per position, finite"}
	optPolyEpsilon = Option{Name: "poly_epsilon", Flag: "poly-epsilon", Kind: Number, field: "PolyEpsilon",
		Usage: "Poly-1's `ε` ≥ -1, the weight of each class's 1 − p term (default 0)"}
	optAlpha = Option{Name: "alpha", Flag: "alpha", Kind: Number, field: "Alpha",
		Usage: "focal `α` ≤ 1, the weight of the positives (default 0.25; negative: off)"}
	optClassAlpha = Option{Name: "alpha", Flag: "alpha-file", Broadcast: "alpha", Kind: PerClass, field: "ClassAlpha",
		Usage: "focal α per class, finite and ≥ 0 (default 1)"}
	optGamma = Option{Name: "gamma", Flag: "gamma", Kind: Number, field: "Gamma",
		Usage: "focal `γ` ≥ 0 (default 2)"}
	optGammaPos = Option{Name: "gamma_pos", Flag: "gamma-pos", Kind: Number, field: "GammaPos",
		Usage: "`γ+` ≥ 0, the focusing exponent of the positives (default 0)"}
	optGammaNeg = Option{Name: "gamma_neg", Flag: "gamma-neg", Kind: Number, field: "GammaNeg",
		Usage: "`γ−` ≥ 0, the focusing exponent of the negatives (default 4)"}
	optClip = Option{Name: "clip", Flag: "clip", Kind: Number, field: "Clip",
		Usage: "the probability margin `m` in [0, 1) of the negatives (default 0.05)"}
	optDetachFocalWeight = Option{Name: "detach_focal_weight", Flag: "detach-focal-weight", Kind: Switch, field: "DetachFocalWeight",
		Usage: "hold the focusing factors constant in the gradient, as the ASL repository does"}
)

// Spec describes one loss.
type Spec struct {
	Loss       Loss
	Function   string     // the function of this package that computes it
	Targets    TargetKind // what its targets are
	PerElement bool       // one loss per element (the sigmoid losses), not per position
	// Options are the options it takes besides Reduction, GradOutput and
	// Workers, which every loss takes (SampleWeight, which every loss takes
	// too, is among them).
	Options []Option

	float32Fn evaluator[float32]
	float64Fn evaluator[float64]
}

// evaluator computes a loss from a Config: index targets in indices, float
// targets in targets.
type evaluator[T Float] func(cfg Config[T], shape []int, logits []T, indices []int64, targets []T, out Output[T]) (T, error)

// TargetKind says what a loss's targets are.
type TargetKind int

const (
	// ClassIndices: one class index in [0, C) per position, shape
	// (N, d1…dk), of any integer type; the ignore index skips a position.
	ClassIndices TargetKind = iota
	// Probabilities: finite values ≥ 0 of the logits' shape, a target
	// distribution per position (rows need not sum to 1).
	Probabilities
	// MultiHot: finite counts ≥ 0 of the logits' shape, M = Σ_c y_c
	// positives per position.
	MultiHot
	// Binary: values in [0, 1] of the logits' shape, one binary problem
	// per element.
	Binary
)

// Option describes one option of Config.
type Option struct {
	Name string     // PyTorch's name, as the reference files spell it: "label_smoothing"
	Flag string     // the command line's flag: "label-smoothing"
	Kind OptionKind // a number, an integer, or one value per class
	// Usage says what it is, its range and its default, for the flag's
	// help; a word in backquotes names the flag's value, as in package flag.
	Usage string
	// Broadcast is, for a PerClass option, a flag that gives every class
	// one number ("--alpha 0.5"), or "".
	Broadcast string

	field string // the Config field that holds it
}

// OptionKind says what an option holds.
type OptionKind int

const (
	Number      OptionKind = iota // a float64
	Integer                       // an int
	PerClass                      // one value per class, a []T of length C
	Switch                        // a bool
	PerPosition                   // one value per position, a []T of shape (N, d1…dk)
)

// Specs returns every loss's description, in the order of the package
// documentation.
func Specs() []Spec { return registry[:] }

// Losses lists every loss, in the order of the package documentation.
var Losses = func() []Loss {
	names := make([]Loss, len(registry))
	for i := range registry {
		names[i] = registry[i].Loss
	}
	return names
}()

// spec returns the loss's description, or nil for an unknown loss.
func (l Loss) spec() *Spec {
	for i := range registry {
		if registry[i].Loss == l {
			return &registry[i]
		}
	}
	return nil
}

// Spec returns the loss's description; ok is false for an unknown loss.
func (l Loss) Spec() (s Spec, ok bool) {
	if p := l.spec(); p != nil {
		return *p, true
	}
	return Spec{}, false
}

// ParseLoss accepts a loss name with '-' or '_' ("softmax_prob" is
// SoftmaxProb). Any other name is an error wrapping ErrOption.
func ParseLoss(name string) (Loss, error) {
	l := Loss(strings.ReplaceAll(name, "_", "-"))
	if l.spec() != nil {
		return l, nil
	}
	names := make([]string, len(Losses))
	for i, known := range Losses {
		names[i] = string(known)
	}
	return "", optionError("loss %q is not one of %s", name, strings.Join(names, ", "))
}

// IndexTargets reports whether the loss takes class-index targets, one per
// position, rather than float targets of the logits' shape.
func (l Loss) IndexTargets() bool {
	s := l.spec()
	return s != nil && s.Targets == ClassIndices
}

// PerElement reports whether the loss gives one loss per element (the
// sigmoid losses) rather than one per position.
func (l Loss) PerElement() bool {
	s := l.spec()
	return s != nil && s.PerElement
}

// Takes reports whether the loss takes the option, named as PyTorch names
// it (Option.Name: "weight", "label_smoothing", "gamma_neg", …; "alpha" is
// a number for sigmoid-focal, one per class for softmax-focal).
func (l Loss) Takes(option string) bool { return l.option(option) != nil }

// option returns the loss's option of that name, or nil.
func (l Loss) option(name string) *Option {
	if s := l.spec(); s != nil {
		for i := range s.Options {
			if s.Options[i].Name == name {
				return &s.Options[i]
			}
		}
	}
	return nil
}

// Option returns the loss's option of that (PyTorch) name; ok is false
// when the loss does not take it.
func (l Loss) Option(name string) (o Option, ok bool) {
	if p := l.option(name); p != nil {
		return *p, true
	}
	return Option{}, false
}

// Config is any loss with its options, for code that picks the loss at run
// time. A field that does not apply to Loss must be left at its zero value;
// which loss takes which is its Spec's Options (the comments below say it
// too).
type Config[T Float] struct {
	Loss           Loss
	Reduction      Reduction
	Weight         []T      // softmax, softmax-prob, sigmoid, asymmetric
	PosWeight      []T      // sigmoid
	IgnoreIndex    *int     // softmax, softmax-focal
	LabelSmoothing float64  // softmax, softmax-prob
	PolyEpsilon    float64  // softmax, softmax-prob
	Alpha          *float64 // sigmoid-focal
	ClassAlpha     []T      // softmax-focal: α per class
	Gamma          *float64 // sigmoid-focal, softmax-focal
	// GammaPos, GammaNeg, Clip and DetachFocalWeight: asymmetric.
	GammaPos, GammaNeg, Clip *float64
	DetachFocalWeight        bool
	SampleWeight             []T // every loss: one weight per position
	GradOutput               []T // reduction None
	Workers                  int // goroutines; 0 means GOMAXPROCS
}

// configField is one option field of a Config: exactly one pointer is set.
type configField[T Float] struct {
	name     string
	number   *float64
	optional **float64
	integer  **int
	perClass *[]T // PerClass and PerPosition
	flag     *bool
}

// fields lists the option fields of c by their Go names: the one place
// that ties Config's fields to the registry's options.
func (c *Config[T]) fields() [13]configField[T] {
	return [...]configField[T]{
		{name: "Weight", perClass: &c.Weight},
		{name: "PosWeight", perClass: &c.PosWeight},
		{name: "IgnoreIndex", integer: &c.IgnoreIndex},
		{name: "LabelSmoothing", number: &c.LabelSmoothing},
		{name: "PolyEpsilon", number: &c.PolyEpsilon},
		{name: "Alpha", optional: &c.Alpha},
		{name: "ClassAlpha", perClass: &c.ClassAlpha},
		{name: "Gamma", optional: &c.Gamma},
		{name: "GammaPos", optional: &c.GammaPos},
		{name: "GammaNeg", optional: &c.GammaNeg},
		{name: "Clip", optional: &c.Clip},
		{name: "DetachFocalWeight", flag: &c.DetachFocalWeight},
		{name: "SampleWeight", perClass: &c.SampleWeight},
	}
}

// set reports whether the field holds anything but its zero value.
func (f *configField[T]) set() bool {
	switch {
	case f.number != nil:
		return *f.number != 0
	case f.optional != nil:
		return *f.optional != nil
	case f.integer != nil:
		return *f.integer != nil
	case f.flag != nil:
		return *f.flag
	}
	return *f.perClass != nil
}

// field returns c's field of option o.
func (c *Config[T]) field(o *Option) configField[T] {
	for _, f := range c.fields() {
		if f.name == o.field {
			return f
		}
	}
	panic("xent: option " + o.Name + " has no Config field " + o.field) // a registry error, caught by the tests
}

// SetNumber sets c's option name, of kind Number, for c.Loss; it is an
// ErrOption error when the loss takes no such option. The value's range is
// checked by the loss.
func (c *Config[T]) SetNumber(name string, v float64) error {
	f, err := c.settable(name, Number)
	if err != nil {
		return err
	}
	if f.number != nil {
		*f.number = v
	} else {
		*f.optional = &v
	}
	return nil
}

// SetInteger sets c's option name, of kind Integer, as SetNumber does.
func (c *Config[T]) SetInteger(name string, v int) error {
	f, err := c.settable(name, Integer)
	if err != nil {
		return err
	}
	*f.integer = &v
	return nil
}

// SetSwitch sets c's option name, of kind Switch, as SetNumber does.
func (c *Config[T]) SetSwitch(name string, v bool) error {
	f, err := c.settable(name, Switch)
	if err != nil {
		return err
	}
	*f.flag = v
	return nil
}

// SetPerClass sets c's option name, of kind PerClass or PerPosition, as
// SetNumber does.
func (c *Config[T]) SetPerClass(name string, v []T) error {
	kind := PerClass
	if o := c.Loss.option(name); o != nil && o.Kind == PerPosition {
		kind = PerPosition
	}
	f, err := c.settable(name, kind)
	if err != nil {
		return err
	}
	*f.perClass = v
	return nil
}

func (c *Config[T]) settable(name string, kind OptionKind) (configField[T], error) {
	o := c.Loss.option(name)
	if o == nil {
		return configField[T]{}, optionError("%s does not apply to loss %s", name, c.Loss)
	}
	if o.Kind != kind {
		return configField[T]{}, optionError("%s of loss %s is %s, not %s", name, c.Loss, o.Kind, kind)
	}
	return c.field(o), nil
}

// String names the kind: "a number", "an integer", "one value per class".
func (k OptionKind) String() string {
	switch k {
	case Number:
		return "a number"
	case Integer:
		return "an integer"
	case Switch:
		return "true or false"
	case PerPosition:
		return "one value per position"
	}
	return "one value per class"
}

// Classes returns the number of classes c's per-class options imply: the
// length of the longest, or 0 when none is set.
func (c *Config[T]) Classes() int {
	n := 0
	for _, f := range c.fields() {
		if f.perClass != nil && optionOfField(f.name).Kind == PerClass {
			n = max(n, len(*f.perClass))
		}
	}
	return n
}

// Check validates c without data — its loss, the options it sets and
// their values — by evaluating it, value only, on one position of classes
// classes (for classes < 1, as many as its per-class options have, at
// least 1) with valid targets (class 0, or a one-hot row), so that any
// error is c's. It allocates two rows.
func (c Config[T]) Check(classes int) error {
	if classes < 1 {
		classes = max(1, c.Classes())
	}
	logits := make([]T, classes)
	if c.Loss.IndexTargets() {
		_, err := Evaluate(c, []int{1, classes}, logits, []int64{0}, nil, Output[T]{})
		return err
	}
	targets := make([]T, classes)
	targets[0] = 1
	_, err := Evaluate(c, []int{1, classes}, logits, nil, targets, Output[T]{})
	return err
}

// Evaluate computes cfg's loss. Index targets go in indices (for the losses
// whose Targets are ClassIndices) and float targets in targets (for the
// others); the other slice must be nil. It returns what the loss's own
// function returns, and an ErrOption error for an unknown loss or an option
// that does not apply.
func Evaluate[T Float](cfg Config[T], shape []int, logits []T, indices []int64, targets []T, out Output[T]) (T, error) {
	s := cfg.Loss.spec()
	if err := cfg.checkApplies(s); err != nil {
		return 0, err
	}
	if s.Targets == ClassIndices && targets != nil {
		return 0, optionError("loss %s takes class-index targets, not float targets", cfg.Loss)
	}
	if s.Targets != ClassIndices && indices != nil {
		return 0, optionError("loss %s takes float targets, not class indices", cfg.Loss)
	}
	switch fn := any(s.float32Fn).(type) {
	case evaluator[T]:
		return fn(cfg, shape, logits, indices, targets, out)
	}
	return any(s.float64Fn).(evaluator[T])(cfg, shape, logits, indices, targets, out)
}

// checkApplies rejects an unknown loss (s nil) and any option set for a
// loss that does not take it.
func (c Config[T]) checkApplies(s *Spec) error { // a value: a pointer would move Evaluate's cfg to the heap
	if s == nil {
		_, err := ParseLoss(string(c.Loss))
		return err
	}
	loss := c.Loss // a copy: were c.Loss in the message, c would move to the heap
	for _, f := range c.fields() {
		if f.set() && !s.takesField(f.name) {
			o := optionOfField(f.name)                    // the registry's strings, not f's: f points into c
			if same := loss.option(o.Name); same != nil { // the loss holds that option elsewhere
				return optionError("%s (Config.%s) does not apply to loss %s, which takes %s as Config.%s (%s)",
					o.Name, o.field, loss, o.Name, same.field, same.Kind)
			}
			return optionError("%s (Config.%s) does not apply to loss %s", o.Name, o.field, loss)
		}
	}
	return nil
}

// takesField reports whether the loss has an option held in that field.
func (s *Spec) takesField(field string) bool {
	for i := range s.Options {
		if s.Options[i].field == field {
			return true
		}
	}
	return false
}

// optionOfField returns the registry's option held in a Config field.
func optionOfField(field string) *Option {
	for i := range registry {
		for j := range registry[i].Options {
			if o := &registry[i].Options[j]; o.field == field {
				return o
			}
		}
	}
	panic("xent: no option is held in Config." + field) // a registry error, caught by the tests
}
