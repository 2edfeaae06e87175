package xent_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/xent-go/xent"
)

// TestBadInput: every invalid input gives an error that wraps the right
// sentinel and names the position and value, and leaves every output
// buffer as it was.
func TestBadInput(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	shape := []int{2, 3}
	logits := []float64{1, 2, 3, 4, 5, 6}
	idx := []int64{0, 2}
	prob := []float64{0, 1, 0, 0.5, 0.5, 0}
	type cfg = xent.Config[float64]
	cases := []struct {
		name     string
		cfg      cfg
		shape    []int
		logits   []float64
		indices  []int64
		targets  []float64
		grad     int // length of the gradient buffer; -1 for the right one
		losses   int // length of the losses buffer; -1 for the right one
		sentinel error
		want     []string // substrings of the message
	}{
		{"one axis", cfg{Loss: xent.Softmax}, []int{6}, logits, idx, nil, -1, -1, xent.ErrShape, []string{"shape [6]", "at least 2"}},
		{"negative axis", cfg{Loss: xent.Sigmoid}, []int{2, -3}, logits, nil, prob, -1, -1, xent.ErrShape, []string{"axis 1 is negative"}},
		{"C = 0", cfg{Loss: xent.Softmax}, []int{2, 0}, []float64{}, idx, nil, -1, -1, xent.ErrShape, []string{"C = 0"}},
		{"C = 0 sigmoid", cfg{Loss: xent.Sigmoid}, []int{2, 0}, []float64{}, nil, []float64{}, -1, -1, xent.ErrShape, []string{"C = 0"}},
		{"huge shape", cfg{Loss: xent.Softmax}, []int{1 << 20, 1 << 20}, logits, idx, nil, -1, -1, xent.ErrShape, []string{"more than"}},
		{"short logits", cfg{Loss: xent.Softmax}, shape, logits[:5], idx, nil, -1, -1, xent.ErrShape, []string{"logits has 5 values", "needs 6"}},
		{"long targets", cfg{Loss: xent.Softmax}, shape, logits, []int64{0, 1, 2}, nil, -1, -1, xent.ErrShape, []string{"targets has 3 values", "needs 2"}},
		{"prob targets short", cfg{Loss: xent.SoftmaxProb}, shape, logits, nil, prob[:4], -1, -1, xent.ErrShape, []string{"targets has 4 values"}},
		{"grad buffer", cfg{Loss: xent.Sigmoid}, shape, logits, nil, prob, 5, -1, xent.ErrShape, []string{"gradient buffer has 5 values"}},
		{"losses buffer", cfg{Loss: xent.Softmax}, shape, logits, idx, nil, -1, 6, xent.ErrShape, []string{"losses buffer has 6 values", "needs 2"}},
		{"losses buffer per element", cfg{Loss: xent.SigmoidFocal}, shape, logits, nil, prob, -1, 2, xent.ErrShape, []string{"losses buffer has 2 values", "needs 6"}},
		{"target = C", cfg{Loss: xent.Softmax}, shape, logits, []int64{0, 3}, nil, -1, -1, xent.ErrTarget, []string{"target 3 at position 1 is outside [0, 3)"}},
		{"negative target", cfg{Loss: xent.SoftmaxFocal}, shape, logits, []int64{-1, 0}, nil, -1, -1, xent.ErrTarget, []string{"target -1 at position 0"}},
		{"-100 with another ignore index", cfg{Loss: xent.Softmax, IgnoreIndex: new(255)}, shape, logits, []int64{-100, 0}, nil, -1, -1, xent.ErrTarget, []string{"target -100 at position 0"}},
		{"target position in K dims", cfg{Loss: xent.Softmax}, []int{1, 3, 2}, logits, []int64{0, 7}, nil, -1, -1, xent.ErrTarget, []string{"target 7 at position 1 [0 1]"}},
		{"sigmoid target > 1", cfg{Loss: xent.Sigmoid}, shape, logits, nil, []float64{0, 1, 1.5, 0, 0, 0}, -1, -1, xent.ErrTarget, []string{"target 1.5 at element [0 2] is outside [0, 1]"}},
		{"sigmoid target < 0", cfg{Loss: xent.SigmoidFocal}, shape, logits, nil, []float64{0, 1, 0, 0, -0.25, 0}, -1, -1, xent.ErrTarget, []string{"target -0.25 at element [1 1]"}},
		{"sigmoid target NaN", cfg{Loss: xent.Sigmoid}, shape, logits, nil, []float64{0, 1, 0, 0, 0, nan}, -1, -1, xent.ErrTarget, []string{"target NaN at element [1 2]"}},
		{"prob target negative", cfg{Loss: xent.SoftmaxProb}, shape, logits, nil, []float64{0, -1, 0, 0, 0, 0}, -1, -1, xent.ErrTarget, []string{"target -1 at element [0 1]", "≥ 0"}},
		{"prob target Inf", cfg{Loss: xent.SoftmaxProb}, shape, logits, nil, []float64{0, 0, 0, inf, 0, 0}, -1, -1, xent.ErrTarget, []string{"target +Inf at element [1 0]"}},
		{"multilabel target NaN", cfg{Loss: xent.MultiLabelSoftmax}, shape, logits, nil, []float64{0, 0, nan, 0, 0, 0}, -1, -1, xent.ErrTarget, []string{"target NaN at element [0 2]"}},
		{"multilabel M overflows", cfg{Loss: xent.MultiLabelSoftmax}, shape, logits, nil, []float64{1e308, 1e308, 0, 0, 0, 0}, -1, -1, xent.ErrTarget, []string{"targets at position 0 add up to +Inf"}},
		{"weight length", cfg{Loss: xent.Softmax, Weight: []float64{1, 1}}, shape, logits, idx, nil, -1, -1, xent.ErrShape, []string{"weight has 2 values", "C = 3"}},
		{"weight negative", cfg{Loss: xent.SoftmaxProb, Weight: []float64{1, -2, 1}}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"weight[1] = -2"}},
		{"weight NaN", cfg{Loss: xent.Sigmoid, Weight: []float64{1, 1, nan}}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"weight[2] = NaN"}},
		{"weight Inf", cfg{Loss: xent.Softmax, Weight: []float64{inf, 1, 1}}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"weight[0] = +Inf"}},
		{"pos_weight length", cfg{Loss: xent.Sigmoid, PosWeight: []float64{1}}, shape, logits, nil, prob, -1, -1, xent.ErrShape, []string{"pos_weight has 1 values"}},
		{"pos_weight negative", cfg{Loss: xent.Sigmoid, PosWeight: []float64{1, 1, -0.5}}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"pos_weight[2] = -0.5"}},
		{"class alpha NaN", cfg{Loss: xent.SoftmaxFocal, ClassAlpha: []float64{nan, 1, 1}}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"alpha[0] = NaN"}},
		{"label smoothing > 1", cfg{Loss: xent.Softmax, LabelSmoothing: 1.5}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"label smoothing 1.5 is outside [0, 1]"}},
		{"label smoothing < 0", cfg{Loss: xent.SoftmaxProb, LabelSmoothing: -0.1}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"label smoothing -0.1"}},
		{"label smoothing NaN", cfg{Loss: xent.Softmax, LabelSmoothing: nan}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"label smoothing NaN"}},
		{"gamma < 0", cfg{Loss: xent.SigmoidFocal, Gamma: new(-1.0)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"gamma -1"}},
		{"gamma NaN", cfg{Loss: xent.SoftmaxFocal, Gamma: new(nan)}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"gamma NaN"}},
		{"gamma Inf", cfg{Loss: xent.SigmoidFocal, Gamma: new(inf)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"gamma +Inf"}},
		{"alpha > 1", cfg{Loss: xent.SigmoidFocal, Alpha: new(1.5)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"alpha 1.5"}},
		{"alpha NaN", cfg{Loss: xent.SigmoidFocal, Alpha: new(nan)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"alpha NaN"}},
		{"subnormal mean divisor", cfg{Loss: xent.Softmax, Weight: []float64{2.6e-310, 1, 1}}, shape, logits, []int64{0, 0}, nil, -1, -1, xent.ErrOption, []string{"divisor 5.2e-310", "too small"}},
		{"unknown reduction", cfg{Loss: xent.Softmax, Reduction: 9}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"reduction 9"}},
		{"grad output without none", cfg{Loss: xent.Softmax, GradOutput: []float64{1, 1}}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"only allowed with reduction none, not mean"}},
		{"grad output length", cfg{Loss: xent.Sigmoid, Reduction: xent.None, GradOutput: []float64{1, 1}}, shape, logits, nil, prob, -1, -1, xent.ErrShape, []string{"GradOutput) has 2 values", "needs 6"}},
		{"gamma_pos < 0", cfg{Loss: xent.Asymmetric, GammaPos: new(-0.5)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"gamma_pos -0.5 is not a finite number ≥ 0"}},
		{"gamma_neg Inf", cfg{Loss: xent.Asymmetric, GammaNeg: new(inf)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"gamma_neg +Inf"}},
		{"gamma_neg NaN", cfg{Loss: xent.Asymmetric, GammaNeg: new(nan)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"gamma_neg NaN"}},
		{"clip 1", cfg{Loss: xent.Asymmetric, Clip: new(1.0)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"clip 1 is outside [0, 1)"}},
		{"clip < 0", cfg{Loss: xent.Asymmetric, Clip: new(-0.1)}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"clip -0.1"}},
		{"asymmetric target > 1", cfg{Loss: xent.Asymmetric}, shape, logits, nil, []float64{0, 2, 0, 0, 0, 0}, -1, -1, xent.ErrTarget, []string{"target 2 at element [0 1] is outside [0, 1]"}},
		{"asymmetric weight negative", cfg{Loss: xent.Asymmetric, Weight: []float64{1, -1, 1}}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"weight[1] = -1"}},
		{"poly epsilon < -1", cfg{Loss: xent.Softmax, PolyEpsilon: -1.5}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"poly epsilon -1.5 is not a finite number ≥ -1"}},
		{"poly epsilon Inf", cfg{Loss: xent.SoftmaxProb, PolyEpsilon: inf}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"poly epsilon +Inf"}},
		{"poly epsilon NaN", cfg{Loss: xent.Softmax, PolyEpsilon: nan}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"poly epsilon NaN"}},
		{"poly for sigmoid", cfg{Loss: xent.Sigmoid, PolyEpsilon: 1}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"poly_epsilon (Config.PolyEpsilon) does not apply to loss sigmoid"}},
		{"sample weights length", cfg{Loss: xent.Softmax, SampleWeight: []float64{1, 1, 1}}, shape, logits, idx, nil, -1, -1, xent.ErrShape, []string{"sample weights has 3 values", "needs 2"}},
		{"sample weight negative", cfg{Loss: xent.Sigmoid, SampleWeight: []float64{1, -2}}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"sample weight -2 at position 1 is not a finite number ≥ 0"}},
		{"sample weight NaN", cfg{Loss: xent.MultiLabelSoftmax, SampleWeight: []float64{nan, 1}}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"sample weight NaN at position 0"}},
		{"sample weight Inf in K dims", cfg{Loss: xent.Asymmetric, SampleWeight: []float64{1, inf}}, []int{1, 3, 2}, logits, nil, prob, -1, -1, xent.ErrOption, []string{"sample weight +Inf at position 1 [0 1]"}},
		{"unknown loss", cfg{Loss: "hinge"}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{`loss "hinge"`}},
		{"option for another loss", cfg{Loss: xent.Sigmoid, LabelSmoothing: 0.1}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"label_smoothing (Config.LabelSmoothing) does not apply to loss sigmoid"}},
		{"index targets for sigmoid", cfg{Loss: xent.Sigmoid}, shape, logits, idx, nil, -1, -1, xent.ErrOption, []string{"takes float targets"}},
		{"float targets for softmax", cfg{Loss: xent.Softmax}, shape, logits, nil, prob, -1, -1, xent.ErrOption, []string{"takes class-index targets"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			perLoss := len(c.logits)
			if !c.cfg.Loss.PerElement() && len(c.shape) >= 2 && c.shape[1] > 0 {
				perLoss /= c.shape[1]
			}
			gradLen, lossesLen := len(c.logits), perLoss
			if c.grad >= 0 {
				gradLen = c.grad
			}
			if c.losses >= 0 {
				lossesLen = c.losses
			}
			out := xent.Output[float64]{Grad: filled(gradLen), Losses: filled(lossesLen)}
			v, err := xent.Evaluate(c.cfg, c.shape, c.logits, c.indices, c.targets, out)
			if err == nil {
				t.Fatalf("no error (value %v)", v)
			}
			if !errors.Is(err, c.sentinel) {
				t.Errorf("error %q does not wrap %v", err, c.sentinel)
			}
			var xe *xent.Error
			if !errors.As(err, &xe) {
				t.Errorf("error %q is not an *xent.Error", err)
			}
			if !strings.HasPrefix(err.Error(), "xent: ") {
				t.Errorf("error %q lacks the xent: prefix", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if v != 0 {
				t.Errorf("value %v returned with the error", v)
			}
			for i, g := range out.Grad {
				if g != 7 {
					t.Fatalf("grad[%d] was written (%v)", i, g)
				}
			}
			for i, l := range out.Losses {
				if l != 7 {
					t.Fatalf("losses[%d] was written (%v)", i, l)
				}
			}
		})
	}
}

func filled(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 7
	}
	return v
}

func TestParseNames(t *testing.T) {
	for _, l := range xent.Losses {
		got, err := xent.ParseLoss(strings.ReplaceAll(string(l), "-", "_"))
		if err != nil || got != l {
			t.Errorf("ParseLoss(%q) = %v, %v", l, got, err)
		}
	}
	for _, r := range []xent.Reduction{xent.Mean, xent.Sum, xent.None, xent.BatchMean} {
		got, err := xent.ParseReduction(r.String())
		if err != nil || got != r {
			t.Errorf("ParseReduction(%q) = %v, %v", r, got, err)
		}
	}
	if _, err := xent.ParseReduction("average"); !errors.Is(err, xent.ErrOption) {
		t.Errorf("ParseReduction(average): %v", err)
	}
	if s := xent.Reduction(7).String(); s != "Reduction(7)" {
		t.Errorf("Reduction(7).String() = %q", s)
	}
}

// TestOverlappingBuffers: an output buffer that shares memory with an input
// or with the other output is an ErrShape error naming both, and nothing is
// written; buffers side by side in one array are fine.
func TestOverlappingBuffers(t *testing.T) {
	shape := []int{2, 3}
	// at holds where each buffer starts in one shared array: side by side,
	// until a case moves one onto another.
	type at struct{ logits, targets, weight, grad, losses int }
	cases := []struct {
		name  string
		takes string // the option or target kind the case needs, "" for any
		move  func(a *at)
		want  string
	}{
		{"side by side", "", func(a *at) {}, ""},
		{"grad is the logits", "", func(a *at) { a.grad = a.logits }, "gradient buffer shares memory with the logits"},
		{"grad from the last logit", "", func(a *at) { a.grad = a.logits + 5 }, "gradient buffer shares memory with the logits"},
		{"losses from the grad's last value", "", func(a *at) { a.losses = a.grad + 5 }, "gradient buffer shares memory with the losses buffer"},
		{"losses on the targets", "targets", func(a *at) { a.losses = a.targets }, "losses buffer shares memory with the targets"},
		{"grad on the weight", "weight", func(a *at) { a.grad = a.weight + 2 }, "gradient buffer shares memory with the weight"},
	}
	for _, loss := range xent.Losses {
		perLoss := 2
		if loss.PerElement() {
			perLoss = 6
		}
		floatTargets := loss != xent.Softmax && loss != xent.SoftmaxFocal
		for _, c := range cases {
			if (c.takes == "weight" && !loss.Takes("weight")) || (c.takes == "targets" && !floatTargets) {
				continue
			}
			t.Run(string(loss)+"/"+c.name, func(t *testing.T) {
				buf := make([]float64, 64)
				for i := range buf {
					buf[i] = float64(i%5) / 5
				}
				a := at{logits: 0, targets: 6, weight: 12, grad: 15, losses: 21}
				c.move(&a)
				cut := func(from, n int) []float64 { return buf[from : from+n : from+n] }
				cfg := xent.Config[float64]{Loss: loss}
				if loss.Takes("weight") {
					cfg.Weight = cut(a.weight, 3)
				}
				var indices []int64
				var targets []float64
				if floatTargets {
					targets = cut(a.targets, 6)
				} else {
					indices = []int64{0, 2}
				}
				before := slices.Clone(buf)
				_, err := xent.Evaluate(cfg, shape, cut(a.logits, 6), indices, targets,
					xent.Output[float64]{Grad: cut(a.grad, 6), Losses: cut(a.losses, perLoss)})
				if c.want == "" {
					if err != nil {
						t.Fatalf("buffers side by side: %v", err)
					}
					return
				}
				if !errors.Is(err, xent.ErrShape) || !strings.Contains(fmt.Sprint(err), c.want) {
					t.Fatalf("error %v; want ErrShape saying %q", err, c.want)
				}
				if !slices.Equal(buf, before) {
					t.Fatal("a buffer was written")
				}
			})
		}
	}
}
