package xent

import (
	"math"

	"github.com/xent-go/xent/internal/check"
	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/num"
)

// call is one call of a loss as the shared prologue sees it: what the loss
// was given, and what validating it found. Every loss fills in the first
// part and runs validate before it computes or writes anything.
type call[T Float, I Index] struct {
	shape       []int
	logits      []T
	indices     []I // the targets of kind ClassIndices
	targets     []T // the targets of the other kinds
	kind        TargetKind
	perElement  bool // one loss per element, not per position
	out         Output[T]
	reduction   Reduction
	gradOutput  []T
	sample      []T // the sample weights, one per position, or nil
	ignoreIndex *int
	// perClass are the per-class options, named as in errors; a nil one is
	// not set.
	perClass [2]check.Named[T]
	// meanWeight, for ClassIndices, is the class weight of each counted
	// target in the mean's divisor (softmax's weight), or nil for 1 each.
	meanWeight []T

	layout       // the validated shape
	ignore int64 // the ignore index, for ClassIndices
	red    reducer[T]
}

// validate runs the checks every loss shares, in this order, and stops at
// the first that fails:
//
//  1. the shape (N, C, d1…dk);
//  2. the lengths of the logits, of the targets (one per position for class
//     indices, the logits' shape otherwise) and of the outputs (one loss per
//     position, or per element);
//  3. the per-class options: C finite values ≥ 0; the sample weights: one
//     finite value ≥ 0 per position;
//  4. options, the loss's own checks of its numbers, passed in as their
//     first error (nil when they hold);
//  5. the targets, by kind: class indices in [0, C) or the ignore index;
//     probabilities and multi-hot counts finite and ≥ 0 (and each
//     position's count M finite); binary targets in [0, 1];
//  6. the reduction, the upstream gradient (reduction None only, one value
//     per loss) and the mean's divisor: the weight of the counted targets
//     for class indices, the positions with M > 0 for multi-hot targets,
//     the positions for probabilities, the elements for binary targets,
//     each position counted s times with sample weights s;
//  7. that no output shares memory with an input or with the other output.
func (c *call[T, I]) validate(options error) error {
	l, err := newLayout(c.shape)
	if err != nil {
		return err
	}
	c.layout = l
	perLoss, nTargets := l.positions, l.elements
	if c.perElement {
		perLoss = l.elements
	}
	if c.kind == ClassIndices {
		nTargets = l.positions
	}
	for _, n := range [...]struct {
		what      string
		got, want int
		set       bool
	}{
		{"logits", len(c.logits), l.elements, true},
		{"targets", len(c.indices) + len(c.targets), nTargets, true},
		{"gradient buffer", len(c.out.Grad), l.elements, c.out.Grad != nil},
		{"losses buffer", len(c.out.Losses), perLoss, c.out.Losses != nil},
	} {
		if n.set {
			if err := l.checkLen(n.what, n.got, n.want); err != nil {
				return err
			}
		}
	}
	for _, v := range c.perClass {
		if err := check.ClassWeights(v.Name, v.V, l.c); err != nil {
			return err
		}
	}
	if err := c.checkSampleWeights(); err != nil {
		return err
	}
	if allOnes(c.sample) { // no weighting at all: the unweighted call, to the bit, at its speed
		c.sample = nil
	}
	if options != nil {
		return options
	}
	count, err := c.checkTargets()
	if err != nil {
		return err
	}
	if c.red, err = newReducer(l, c.reduction, c.gradOutput, perLoss, count); err != nil {
		return err
	}
	c.red.sample, c.red.perElement, c.red.d = c.sample, c.perElement, l.dims
	var targets []T
	if c.kind != ClassIndices {
		targets = c.targets
	}
	inputs := [...]check.Named[T]{{Name: "logits", V: c.logits}, {Name: "targets", V: targets},
		c.perClass[0], c.perClass[1], {Name: "sample weights", V: c.sample}, {Name: "upstream gradient (GradOutput)", V: c.gradOutput}}
	outputs := [...]check.Named[T]{{Name: "gradient buffer", V: c.out.Grad}, {Name: "losses buffer", V: c.out.Losses}}
	return check.Overlap(outputs[:], inputs[:])
}

// checkSampleWeights validates the sample weights: nil, or one finite
// value ≥ 0 per position.
func (c *call[T, I]) checkSampleWeights() error {
	if c.sample == nil {
		return nil
	}
	if err := c.checkLen("sample weights", len(c.sample), c.positions); err != nil {
		return err // named with the shape, as the other lengths are
	}
	return check.SampleWeights(c.sample, c.positions, c.position)
}

// checkTargets validates the targets by their kind and returns the mean's
// divisor.
func (c *call[T, I]) checkTargets() (float64, error) {
	l := &c.layout
	switch c.kind {
	case ClassIndices:
		c.ignore = check.IgnoreIndex(c.ignoreIndex)
		n, err := check.IndexTargets(c.indices, c.ignore, l.c, c.meanWeight, c.sample, l.position) // Σ s·w_y
		return n.Weight, err
	case Binary:
		if i := kernel.FirstOutside(c.targets, 0, 1); i >= 0 {
			return 0, targetError("target %v at %s is outside [0, 1]", float64(c.targets[i]), l.element(i))
		}
		if c.sample != nil {
			return float64(l.c) * c.sampleSum(), nil
		}
		return float64(l.elements), nil
	}
	if i := kernel.FirstOutside(c.targets, 0, num.MaxFinite[T]()); i >= 0 {
		return 0, targetError("target %v at %s is not a finite number ≥ 0", float64(c.targets[i]), l.element(i))
	}
	if c.kind == Probabilities {
		if c.sample != nil {
			return c.sampleSum(), nil
		}
		return float64(l.positions), nil
	}
	counted := 0.0 // MultiHot: the positions with M > 0, each counted s times
	for p := range l.positions {
		m := rowSum(c.targets, l.rowBase(p), l.inner, l.c)
		if math.IsInf(m, 0) {
			return 0, targetError("targets at %s add up to %v", l.position(p), m)
		}
		if m > 0 {
			counted += c.sampleOf(p)
		}
	}
	return counted, nil
}

// allOnes reports whether v is not nil and every value is 1.
func allOnes[T Float](v []T) bool {
	for _, x := range v {
		if x != 1 {
			return false
		}
	}
	return v != nil
}

// sampleOf returns position p's sample weight, 1 without sample weights.
func (c *call[T, I]) sampleOf(p int) float64 {
	if c.sample == nil {
		return 1
	}
	return float64(c.sample[p])
}

// sampleSum returns Σ_p s_p, in float64 (kernel.Dot's sum).
func (c *call[T, I]) sampleSum() float64 { return kernel.Dot(nil, c.sample) }
