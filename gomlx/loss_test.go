package gomlx

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/gradcheck"
)

func backend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run evaluates f on the simplego backend and returns the loss (flat) and
// the gradient of Σ g·loss (g = gradOutput, or 1) with respect to the
// logits, both as float64.
func run[T float32 | float64](t testing.TB, b backends.Backend, f Func, shape []int, logits []T, indices []int64, targets []T, gradOutput []T) (loss, grad []float64) {
	t.Helper()
	var dtype dtypes.DType = dtypes.Float64
	if _, ok := any(T(0)).(float32); ok {
		dtype = dtypes.Float32
	}
	g := NewGraph(b, "loss")
	x := Parameter(g, "logits", shapes.Make(dtype, shape...))
	var tt *Node
	var tInput *tensors.Tensor
	if indices != nil {
		posShape := append(append([]int{}, shape[0]), shape[2:]...)
		tt = Parameter(g, "targets", shapes.Make(dtypes.Int64, posShape...))
		tInput = tensors.FromFlatDataAndDimensions(indices, posShape...)
	} else {
		tt = Parameter(g, "targets", shapes.Make(dtype, shape...))
		tInput = tensors.FromFlatDataAndDimensions(targets, shape...)
	}
	l := f(x, tt)
	total := l
	if l.Rank() > 0 {
		weights := OnesLike(l)
		if gradOutput != nil {
			weights = Const(g, tensors.FromFlatDataAndDimensions(gradOutput, l.Shape().Dimensions...))
		}
		total = ReduceAllSum(Mul(l, weights))
	}
	dx := Gradient(total, x)[0]
	g.Compile(l, dx)
	out := g.Run(tensors.FromFlatDataAndDimensions(logits, shape...), tInput)
	return golden.Float64s(tensors.MustCopyFlatData[T](out[0])), golden.Float64s(tensors.MustCopyFlatData[T](out[1]))
}

// TestGolden runs every reference case through the graph, value and
// autodiff gradient, at the golden tolerances.
func TestGolden(t *testing.T) {
	b := backend(t)
	var cases []golden.Case
	for _, dir := range []string{"../testdata/golden", "../testdata/refgen", "../testdata/golden-v2", "../testdata/refgen-v2"} {
		c, err := golden.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c...)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg, err := golden.Config[float64](&c)
			if err != nil {
				t.Fatal(err)
			}
			if graphs[cfg.Loss] == nil {
				t.Skipf("loss %s has no graph here yet (TestGraphsAndRegistry)", cfg.Loss)
			}
			gradOutput, sample := cfg.GradOutput, cfg.SampleWeight
			cfg.GradOutput, cfg.SampleWeight = nil, nil
			f, err := NewLoss(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if sample != nil { // sample weights are a graph input
				wf, err := NewWeightedLoss(cfg)
				if err != nil {
					t.Fatal(err)
				}
				f = func(logits, targets *Node) *Node {
					s := Const(logits.Graph(), tensors.FromFlatDataAndDimensions(sample, positionsShape(logits)...))
					return wf(logits, targets, s)
				}
			}
			var indices []int64
			if cfg.Loss.IndexTargets() {
				indices = c.Indices()
			}
			var loss, grad []float64
			if c.Dtype == "float32" {
				var targets []float32
				if indices == nil {
					targets = golden.Convert[float32](c.Targets)
				}
				loss, grad = run(t, b, f, c.Shape, golden.Convert[float32](c.Logits), indices, targets, golden.Convert[float32](gradOutput))
			} else {
				var targets []float64
				if indices == nil {
					targets = c.Targets
				}
				loss, grad = run(t, b, f, c.Shape, c.Logits, indices, targets, gradOutput)
			}
			if err := golden.Compare("loss", loss, c.LossValue.List, c.Dtype); err != nil {
				t.Error(err)
			}
			if err := golden.Compare("grad", grad, c.Grad, c.Dtype); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestEqualsXent compares the graph with xent's own result on random
// inputs, for every loss and option set, in float64 at 1e-9.
func TestEqualsXent(t *testing.T) {
	b := backend(t)
	rng := rand.New(rand.NewPCG(41, 42))
	for _, loss := range xent.Losses {
		if graphs[loss] == nil {
			continue // refused: TestGraphsAndRegistry
		}
		for _, shape := range [][]int{{6, 5}, {2, 4, 3, 2}} {
			for _, red := range []xent.Reduction{xent.Mean, xent.Sum, xent.None, xent.BatchMean} {
				cfg := xent.Config[float64]{Loss: loss, Reduction: red}
				switch loss {
				case xent.Softmax:
					cfg.Weight, cfg.LabelSmoothing, cfg.IgnoreIndex = gradcheck.PositiveWeights(rng, shape[1]), 0.2, new(1)
				case xent.SoftmaxProb:
					cfg.Weight, cfg.LabelSmoothing = gradcheck.PositiveWeights(rng, shape[1]), 0.1
				case xent.Sigmoid:
					cfg.Weight, cfg.PosWeight = gradcheck.PositiveWeights(rng, shape[1]), gradcheck.PositiveWeights(rng, shape[1])
				case xent.SigmoidFocal:
					cfg.Alpha, cfg.Gamma = new(0.3), new(0.5)
				case xent.SoftmaxFocal:
					cfg.ClassAlpha, cfg.Gamma, cfg.IgnoreIndex = gradcheck.PositiveWeights(rng, shape[1]), new(1.5), new(0)
				}
				logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
				for p := range indices {
					if indices[p] == xent.DefaultIgnoreIndex && cfg.IgnoreIndex != nil {
						indices[p] = int64(*cfg.IgnoreIndex)
					}
				}
				n := len(logits)
				if !loss.PerElement() {
					n /= shape[1]
				}
				want := xent.Output[float64]{Grad: make([]float64, len(logits)), Losses: make([]float64, n)}
				value, err := xent.Evaluate(cfg, shape, logits, indices, targets, want)
				if err != nil {
					t.Fatal(err)
				}
				f, err := NewLoss(cfg)
				if err != nil {
					t.Fatal(err)
				}
				loss, grad := run(t, b, f, shape, logits, indices, targets, nil)
				name := fmt.Sprintf("%s %v %v", cfg.Loss, shape, red)
				wantLoss := []float64{value}
				if red == xent.None {
					wantLoss = want.Losses
				}
				if err := golden.Compare("loss", loss, wantLoss, "float64"); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if err := golden.Compare("grad", grad, want.Grad, "float64"); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		}
	}
}

// TestSoftplusAtZero: the sigmoid loss's gradient at x = 0 is σ(0) − t
// (autodiff of the stable formula alone would give 0 or 1 there).
func TestSoftplusAtZero(t *testing.T) {
	f, err := NewLoss(xent.Config[float64]{Loss: xent.Sigmoid, Reduction: xent.Sum})
	if err != nil {
		t.Fatal(err)
	}
	_, grad := run(t, backend(t), f, []int{1, 2}, []float64{0, 0}, nil, []float64{1, 0}, nil)
	if grad[0] != -0.5 || grad[1] != 0.5 {
		t.Errorf("grad %v, want [-0.5 0.5]", grad)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, cfg := range []xent.Config[float64]{
		{Loss: "hinge"},
		{Loss: xent.Softmax, LabelSmoothing: 2},
		{Loss: xent.Sigmoid, Weight: []float64{1, -1}},
		{Loss: xent.SigmoidFocal, Gamma: new(-1.0)},
		{Loss: xent.Sigmoid, LabelSmoothing: 0.1},
		{Loss: xent.Softmax, GradOutput: []float64{1}},
	} {
		if _, err := LossFn(cfg); !errors.Is(err, xent.ErrOption) && !errors.Is(err, xent.ErrShape) {
			t.Errorf("%+v: %v, want an xent error", cfg, err)
		}
	}
}

// TestGraphsAndRegistry: every graph is of a loss of xent's registry, and
// a registry loss without a graph is refused by NewLoss with an error that
// names it (TestEqualsXent holds every graph to xent's values).
func TestGraphsAndRegistry(t *testing.T) {
	known := map[xent.Loss]bool{}
	for _, s := range xent.Specs() {
		known[s.Loss] = true
	}
	for loss := range graphs {
		if !known[loss] {
			t.Errorf("a graph for %s, which is not in xent's registry", loss)
		}
	}
	for _, s := range xent.Specs() {
		_, err := NewLoss(xent.Config[float64]{Loss: s.Loss})
		switch {
		case graphs[s.Loss] != nil && err != nil:
			t.Errorf("%s: %v", s.Loss, err)
		case graphs[s.Loss] == nil && (!errors.Is(err, xent.ErrOption) || !strings.Contains(err.Error(), string(s.Loss))):
			t.Errorf("%s has no graph: NewLoss gives %v, want an ErrOption naming it", s.Loss, err)
		}
	}
	// A loss without a graph, as a loss added to the registry first is.
	saved := graphs[xent.Sigmoid]
	delete(graphs, xent.Sigmoid)
	_, err := NewLoss(xent.Config[float64]{Loss: xent.Sigmoid})
	graphs[xent.Sigmoid] = saved
	if !errors.Is(err, xent.ErrOption) || !strings.Contains(err.Error(), "sigmoid has no graph") {
		t.Errorf("sigmoid without its graph: %v", err)
	}
}
